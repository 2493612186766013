"""The review queue over HTTP: list, detail, confirm, reject, unmerge; 404s and 403s; the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from havens.audit.models import AuditRecord
from havens.cli.main import app
from havens.database import get_engine, session_scope
from havens.linkage import service
from havens.linkage.models import CandidatePair, LinkageRun
from havens.models import metadata
from havens.orgs import service as org_service
from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.permissions import Principal
from havens.orgs.schemas import UserCreate
from havens.people.generator import Generator
from havens.people.models import Individual
from tests.conftest import PASSWORD
from tests.linkage.conftest import Registry, share, write
from tests.people.conftest import add_areas, add_zone

API = "/api/v1/linkage"


def _pairs(db: Session) -> dict[tuple[int, int], CandidatePair]:
    return {(p.individual_l_id, p.individual_r_id): p for p in db.scalars(select(CandidatePair))}


def _ready(db: Session, registry: Registry, system: Principal) -> dict[tuple[int, int],
                                                                       CandidatePair]:
    share(db, registry.sarc, registry.unhcr)
    service.run(db, actor=system)
    return _pairs(db)


def test_queue_detail_confirm_unmerge(client: TestClient, db: Session, registry: Registry,
                                      system: Principal,
                                      token_for: Callable[[User], dict[str, str]]) -> None:
    pairs = _ready(db, registry, system)
    headers = token_for(registry.reviewer)
    page = client.get(f"{API}/candidates", headers=headers, params={"page_size": 200})
    assert page.status_code == 200, page.text
    body = page.json()
    listed = {(i["individual_l_id"], i["individual_r_id"]) for i in body["items"]}
    assert registry.planted <= listed and body["total"] == len(body["items"])
    probabilities = [i["match_probability"] for i in body["items"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert "given_name_ar" not in page.text  # the list carries no personal data

    pair = pairs[min(registry.planted)]
    detail = client.get(f"{API}/candidates/{pair.id}", headers=headers)
    assert detail.status_code == 200, detail.text
    d = detail.json()
    assert d["left"]["given_name_ar"] == d["right"]["given_name_ar"]
    assert {a["field"] for a in d["agreement"]} >= {"given", "lineage", "dob", "origin"}

    confirmed = client.post(f"{API}/candidates/{pair.id}/confirm", headers=headers,
                            json={"note": "same family booklet"})
    assert confirmed.status_code == 200, confirmed.text
    merge = confirmed.json()
    merged = db.get(Individual, merge["merged_id"])
    assert merged is not None and merged.organisation_id == registry.unhcr.id
    assert merged.present is False
    again = client.post(f"{API}/candidates/{pair.id}/confirm", headers=headers)
    assert again.status_code == 409
    undone = client.post(f"{API}/merges/{merge['id']}/unmerge", headers=headers)
    assert undone.status_code == 200 and undone.json()["unmerged_at"]
    db.refresh(merged)
    assert merged.present is True
    actions = [a for a in db.scalars(select(AuditRecord.action).where(
        AuditRecord.action.like("linkage.%")))]
    assert {"linkage.run", "linkage.read", "linkage.confirm", "linkage.unmerge"} <= set(actions)


def test_reject_over_http(client: TestClient, db: Session, registry: Registry,
                          system: Principal, token_for: Callable[[User], dict[str, str]]) -> None:
    pairs = _ready(db, registry, system)
    headers = token_for(registry.reviewer)
    pair = pairs[max(registry.planted)]
    rejected = client.post(f"{API}/candidates/{pair.id}/reject", headers=headers)
    assert rejected.status_code == 200 and rejected.json()["decision"] == "rejected"
    listed = client.get(f"{API}/candidates", headers=headers,
                        params={"decision": "rejected"}).json()
    assert [i["id"] for i in listed["items"]] == [pair.id]
    bad = client.post(f"{API}/candidates/{pair.id}/reject", headers=headers,
                      json={"note": 5})
    assert bad.status_code == 422


def test_pairs_the_caller_may_not_see_answer_404(client: TestClient, db: Session,
                                                registry: Registry, system: Principal,
                                                token_for: Callable[[User], dict[str, str]]
                                                ) -> None:
    pairs = _ready(db, registry, system)  # SARC shares with UNHCR, not the other way round
    pair = pairs[min(registry.planted)]
    sarc = token_for(registry.sarc_reviewer)
    for method, url in (("get", f"{API}/candidates/{pair.id}"),
                        ("post", f"{API}/candidates/{pair.id}/confirm"),
                        ("post", f"{API}/candidates/{pair.id}/reject"),
                        ("get", f"{API}/candidates/999999")):
        response = getattr(client, method)(url, headers=sarc)
        assert response.status_code == 404, (url, response.text)
        assert "given_name" not in response.text
    listed = client.get(f"{API}/candidates", headers=sarc, params={"page_size": 200}).json()
    assert pair.id not in {i["id"] for i in listed["items"]}
    merge = service.confirm(db, actor=registry.p(registry.reviewer), pair_id=pair.id)
    assert client.post(f"{API}/merges/{merge.id}/unmerge", headers=sarc).status_code == 404
    viewer = token_for(registry.viewer)
    assert client.get(f"{API}/candidates", headers=viewer).status_code == 403
    assert client.get(f"{API}/candidates").status_code == 401


def test_cli_run(cli_env: str) -> None:
    # The schema from the models (the migration of the linkage tables comes at integration).
    metadata.drop_all(get_engine(cli_env))
    metadata.create_all(get_engine(cli_env))
    with session_scope(cli_env) as db:
        add_areas(db)
        _zone, site_list = add_zone(db, "Z-CLI")
        sites = {s.code: s for s in site_list}
        orgs = []
        for acronym in ("UNHCR", "SARC"):
            org = Organisation(name=acronym, acronym=acronym, kind=OrgKind.un_agency, country="SYR")
            db.add(org)
            orgs.append(org)
        db.flush()
        orgs_ids = {o.acronym: o.id for o in orgs}
        stream = Generator(seed=8, origins=["SY070001"], today=dt.date(2026, 6, 1),
                           ref_prefix="CLI").households(site_codes=list(sites))
        households = [next(stream) for _ in range(12)]
        write(db, orgs[0], sites, households)
        write(db, orgs[1], sites, households[:2], variant=1, suffix="-S")
        org_service.create_user(db, actor=Principal.system(), data=UserCreate(
            email="reg@unhcr.example.org", display_name="Registrar", organisation="UNHCR",
            role=Role.registrar, password=PASSWORD))
    runner = CliRunner()
    result = runner.invoke(app, ["linkage", "run"])
    assert result.exit_code == 0, result.output
    assert "records" in result.output and "queued" in result.output
    with session_scope(cli_env) as db:
        queued = db.query(CandidatePair).count()
        assert queued >= 2
    again = runner.invoke(app, ["linkage", "run", "--incremental"])
    assert again.exit_code == 0, again.output
    assert "(incremental)" in again.output
    with session_scope(cli_env) as db:
        assert db.query(CandidatePair).count() == queued  # nothing new registered
    as_user = runner.invoke(app, ["linkage", "run", "--as", "reg@unhcr.example.org"])
    assert as_user.exit_code == 0, as_user.output
    for_org = runner.invoke(app, ["linkage", "run", "--org", "SARC"])
    assert for_org.exit_code == 0, for_org.output
    with session_scope(cli_env) as db:
        scopes = list(db.scalars(select(LinkageRun.organisation_id).order_by(LinkageRun.id)))
        assert scopes == [None, None, orgs_ids["UNHCR"], orgs_ids["SARC"]]
    bad = runner.invoke(app, ["linkage", "run", "--as", "nobody@example.org"])
    assert bad.exit_code == 2 and "nobody@example.org" in bad.output
    both = runner.invoke(app, ["linkage", "run", "--as", "x@example.org", "--org", "UNHCR"])
    assert both.exit_code == 2
