"""The command line: keys made locally, signing offline, export and offline verification."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from havens.agreements import service
from havens.agreements.schemas import AgreementPropose, TermsIn
from havens.cli.main import app
from havens.database import make_engine, session_scope
from havens.models import metadata
from havens.orgs import service as org_service
from havens.orgs.models import OrgKind, Role
from havens.orgs.permissions import Principal
from havens.orgs.schemas import OrganisationCreate, UserCreate
from havens.zones.models import Zone
from tests.agreements.conftest import terms
from tests.conftest import PASSWORD

runner = CliRunner()


@pytest.fixture
def cli_db(cli_env: str) -> str:
    """The CLI database with this domain's tables (until the lead's migration adds them)."""
    engine = make_engine(cli_env)
    metadata.create_all(engine)
    engine.dispose()
    with session_scope(cli_env) as db:
        system = Principal.system()
        for acronym, kind in [("MOL", OrgKind.host_government), ("UNA", OrgKind.un_agency),
                              ("NGO", OrgKind.ngo), ("GUA", OrgKind.state)]:
            org_service.create_organisation(db, actor=system, data=OrganisationCreate(
                name=f"{acronym} organisation", acronym=acronym, kind=kind, country="SYR"))
        org_service.create_user(db, actor=system, data=UserCreate(
            email="liaison@mol.example.org", display_name="Liaison", organisation="MOL",
            role=Role.government_liaison, password=PASSWORD))
        db.add(Zone(code="SZ-T-1", name_en="Test zone"))
        db.flush()
        service.propose(db, actor=system, data=AgreementPropose.model_validate(
            {"zone": "SZ-T-1", **terms(start_date="2026-01-01", end_date="2035-12-31")},
            strict=False))
    return cli_env


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _keypair(tmp_path: Path, org: str) -> Path:
    pem = tmp_path / f"{org.lower()}.pem"
    public = _ok(["agreements", "keygen", "--out", str(pem)]).strip().splitlines()[-1]
    assert "PRIVATE KEY" in pem.read_text() and pem.stat().st_mode & 0o077 == 0
    _ok(["agreements", "register-key", "--org", org, "--public-key", public])
    return pem


def test_sign_export_and_verify_without_database(cli_db: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    mol, una = _keypair(tmp_path, "MOL"), _keypair(tmp_path, "UNA")
    # The host government signs straight from the database...
    _ok(["agreements", "sign", "--key", str(mol), "--zone", "SZ-T-1", "--submit"])
    # ...the administrator offline, from an export file, then submits the signature file.
    exported = tmp_path / "agreement.json"
    exported.write_text(_ok(["agreements", "export", "SZ-T-1"]))
    signature = tmp_path / "una-signature.json"
    _ok(["agreements", "sign", "--key", str(una), "--version-file", str(exported),
         "--out", str(signature)])
    assert json.loads(signature.read_text())["message"].startswith("havens-agreement-v1:SZ-T-1:1:")
    assert "consented" in runner.invoke(app, ["agreements", "submit", str(signature)]).output
    assert "consented" in _ok(["agreements", "list"])
    # Expiry can be simulated, never written ahead of time.
    future = ["agreements", "refresh", "--today", "2036-01-01"]
    assert runner.invoke(app, future).exit_code == 2
    assert "SZ-T-1: consented → suspended (dry run)" in _ok([*future, "--dry-run"])
    assert "consented" in _ok(["agreements", "list"])
    shown = _ok(["agreements", "show", "SZ-T-1", "--version", "1"])
    assert "[NGO-1] NGO: 15 l/person/day of water — 15 l/person/day" in shown

    exported.write_text(_ok(["agreements", "export", "SZ-T-1"]))
    # No database from here on: an unreachable URL must not matter.
    monkeypatch.setenv("HAVENS_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    from havens.config import get_settings

    get_settings.cache_clear()
    output = _ok(["agreements", "verify", str(exported)])
    assert "version 1: ok" in output
    assert "signed by MOL, UNA" in output or "signed by UNA, MOL" in output
    assert "version 1: 2026-" in output and "→ 2035-12-31 (end date)" in output

    tampered = tmp_path / "tampered.json"
    tampered.write_text(exported.read_text().replace("15 l/person/day of water",
                                                     "14 l/person/day of water", 1))
    result = runner.invoke(app, ["agreements", "verify", str(tampered)])
    assert result.exit_code == 1
    assert "version 1: its terms do not match its recorded hash" in result.output


def test_diff_withdraw_and_refresh_from_the_command_line(cli_db: str, tmp_path: Path) -> None:
    with session_scope(cli_db) as db:
        agreement = service.agreement_for_zone(db, actor=Principal.system(), zone_code="SZ-T-1")
        service.amend(db, actor=Principal.system(), agreement_id=agreement.id,
                      data=TermsIn.model_validate(terms(
                          notice_period_days=120, security_flags=["no_armed_presence",
                                                                  "no_checkpoints"],
                          start_date="2026-01-01", end_date="2035-12-31"), strict=False))
    output = _ok(["agreements", "diff", "SZ-T-1", "1", "2"])
    assert "~ notice_period_days: 90 → 120" in output
    assert "+ security.flags[no_checkpoints]: no_checkpoints" in output
    mol, una = _keypair(tmp_path, "MOL"), _keypair(tmp_path, "UNA")
    for key in (mol, una):
        _ok(["agreements", "sign", "--key", str(key), "--zone", "SZ-T-1", "--submit"])
    result = runner.invoke(app, ["agreements", "withdraw", "SZ-T-1", "--by",
                                 "liaison@mol.example.org", "--reason", "front line moved"])
    assert result.exit_code == 0, result.output
    assert "closing until" in result.output
    assert "SZ-T-1: closing" in _ok(["agreements", "refresh"])
    refused = runner.invoke(app, ["agreements", "sign", "--key", str(mol), "--zone", "SZ-T-1",
                                  "--version", "1", "--submit"])
    assert refused.exit_code == 2 and "superseded" in refused.output


def test_verify_imports_no_database_code() -> None:
    code = ("import sys, havens.agreements.verify; "
            "assert not [m for m in sys.modules if m.startswith(('sqlalchemy', 'psycopg'))]")
    subprocess.run([sys.executable, "-c", code], check=True)
