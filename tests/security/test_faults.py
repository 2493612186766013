"""Faults: a process killed in the middle of signatures, a database that disappears.

(Concurrent registrations of the same household by two users do not create two:
``tests/people/test_cli_and_faults.py::test_concurrent_registration_of_the_same_household``.
SIGKILL during an import: ``...::test_sigkill_during_import_leaves_none_or_all``.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from havens.audit.models import AuditRecord
from havens.cli.main import app as cli
from havens.database import get_engine, make_engine, session_scope
from havens.orgs import service as org_service
from havens.orgs.models import OrgKind, Role
from havens.orgs.permissions import Principal
from havens.orgs.schemas import OrganisationCreate, TokenCreate, UserCreate
from havens.sharing.models import DataSharingAgreement
from tests.conftest import PASSWORD
from tests.people.conftest import RealDatabase

#: Proposes and signs data-sharing agreements for ever, one commit per step.
SIGNING_LOOP = textwrap.dedent("""
    import datetime as dt, sys
    from havens.database import session_scope
    from havens.orgs import service as org_service
    from havens.sharing import service
    from havens.sharing.schemas import DsaCreate

    def actor(db, email):
        return org_service.principal_for(org_service.get_user_by_email(db, email=email))

    today = dt.date.today()
    while True:
        with session_scope() as db:
            dsa = service.propose(db, actor=actor(db, "coord@unhcr.example.org"), data=DsaCreate(
                recipient="MOLAE", purposes=["durable_solutions"], fields=["names"],
                starts_on=today, expires_on=today + dt.timedelta(days=30)))
            dsa_id = dsa.id
        with session_scope() as db:
            service.sign(db, actor=actor(db, "coord@unhcr.example.org"), agreement_id=dsa_id)
        with session_scope() as db:
            service.sign(db, actor=actor(db, "liaison@molae.example.org"), agreement_id=dsa_id)
        print(dsa_id, flush=True)
""")


def _audits(db: Any, action: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for object_id, detail in db.execute(select(AuditRecord.object_id, AuditRecord.detail)
                                        .where(AuditRecord.action == action)):
        found.setdefault(object_id, []).append(detail)
    return found


def test_sigkill_during_signatures_leaves_consistent_data(real_db: RealDatabase) -> None:
    with session_scope(real_db.url) as db:
        org_service.create_user(db, actor=Principal.system(), data=UserCreate(
            email="coord@unhcr.example.org", display_name="coord", organisation="UNHCR",
            role=Role.coordinator, password=PASSWORD))
    process = subprocess.Popen([sys.executable, "-c", SIGNING_LOOP], env=os.environ.copy(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        for _ in range(3):  # let a few agreements complete, then kill in the middle of one
            assert process.stdout.readline(), process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    with session_scope(real_db.url) as db:
        agreements = list(db.scalars(select(DataSharingAgreement)))
        proposed = _audits(db, "sharing.propose")
        signed = _audits(db, "sharing.sign")
        assert len(agreements) >= 3
        for dsa in agreements:
            sides = sorted(d["side"] for d in signed.get(str(dsa.id), []))
            expected = [s for s in ("provider", "recipient")
                        if getattr(dsa, f"{s}_signed_at") is not None]
            assert str(dsa.id) in proposed, "an agreement without its audit record"
            assert sides == expected, f"DSA {dsa.id}: signatures and audit disagree"
            for side in ("provider", "recipient"):
                assert (getattr(dsa, f"{side}_signed_at") is None) == (
                    getattr(dsa, f"{side}_signed_by_user_id") is None)
        assert len(signed) == sum(1 for d in agreements if d.provider_signed_at)
    verified = CliRunner().invoke(cli, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_database_that_disappears_gives_503_and_recovers(cli_database_url: str,
                                                         settings: Any) -> None:
    """A real separate PostgreSQL database: its connections are terminated and refused (as
    when the server restarts or fails over), then allowed again."""
    if not cli_database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: on SQLite the database is a local file (no server to "
                    "lose); root ignores file permissions, so 'unreadable' is not real here")
    from havens.main import create_app
    from havens.models import metadata

    metadata.create_all(get_engine(cli_database_url))
    with session_scope(cli_database_url) as db:
        org = org_service.create_organisation(db, actor=Principal.system(), data=(
            OrganisationCreate(name="Down", acronym="DOWN", kind=OrgKind.ngo, country="SYR")))
        user = org_service.create_user(db, actor=Principal.system(), data=UserCreate(
            email="down@down.example.org", display_name="d", organisation=org.acronym,
            role=Role.viewer, password=PASSWORD))
        _row, token = org_service.create_token(db, actor=Principal.system(), user_id=user.id,
                                               data=TokenCreate(name="t"))
    headers = {"Authorization": f"Bearer {token}"}
    name = make_url(cli_database_url).database
    admin = make_engine(make_url(cli_database_url).set(database="postgres")
                        .render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    application = create_app(settings.model_copy(update={"database_url": cli_database_url}))

    def refuse(allow: bool) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}'))
            if not allow:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"),
                             {"name": name})

    try:
        with TestClient(application, raise_server_exceptions=False) as client:
            assert client.get("/api/v1/zones", headers=headers).status_code == 200
            refuse(allow=False)
            down = client.get("/api/v1/zones", headers=headers)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "service_unavailable"
            assert "Traceback" not in down.text and "psycopg" not in down.text
            assert client.get("/health").status_code == 503
            refuse(allow=True)
            assert client.get("/api/v1/zones", headers=headers).status_code == 200
    finally:
        refuse(allow=True)
        admin.dispose()
    with session_scope(cli_database_url) as db:
        assert db.scalar(select(func.count()).select_from(AuditRecord)) >= 1
