"""The demo agreements, and offline verification of exports (forgeries, periods)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.agreements import keys, service, views
from havens.agreements.verify import verify_document
from havens.demo import agreements as demo_agreements
from havens.demo import orgs as demo_orgs
from havens.orgs.permissions import Principal
from havens.zones.models import Zone, ZoneStatus
from tests.agreements.conftest import Cast, propose_data

SECRET = "demo secret for tests"


def test_demo_agreements_reach_the_three_states(db: Session, system: Principal) -> None:
    demo_orgs.load(db, actor=system)
    for code in ("SZ-SY07-001", "SZ-SY02-001", "SZ-SY07-002"):
        if db.scalar(select(Zone).where(Zone.code == code)) is None:
            db.add(Zone(code=code, name_en=code))
    db.flush()
    demo_agreements.load(db, actor=system, secret=SECRET)

    def zone(code: str) -> Zone:
        found = db.scalar(select(Zone).where(Zone.code == code))
        assert found is not None
        return found

    assert zone("SZ-SY07-001").status == ZoneStatus.operational
    assert zone("SZ-SY02-001").status == ZoneStatus.negotiating
    closing = zone("SZ-SY07-002")
    assert closing.status == ZoneStatus.closing
    assert closing.closing_date == dt.datetime.now(dt.UTC).date() + dt.timedelta(days=90)

    operational = service.agreement_for_zone(db, actor=system, zone_code="SZ-SY07-001")
    version = operational.versions[0]
    assert {c.indicator for c in version.commitments} >= {"water_lpd"}
    assert all(s.server_held for s in version.signatures)
    pending = service.agreement_for_zone(db, actor=system, zone_code="SZ-SY02-001")
    amendment = views.version_read(db, service.latest_version(pending))
    assert amendment.number == 2 and [p.acronym for p in amendment.pending_signers] == ["MOLAE"]
    for code in ("SZ-SY07-001", "SZ-SY02-001", "SZ-SY07-002"):
        report = verify_document(views.export_document(db, actor=system, zone_code=code))
        assert report.ok, report.problems
        assert any("server-held" in note for note in report.notes)


def test_demo_skips_zones_that_do_not_exist(db: Session, system: Principal) -> None:
    demo_orgs.load(db, actor=system)
    demo_agreements.load(db, actor=system, secret=SECRET)
    assert service.list_agreements(db, actor=system) == []


def _consented_export(db: Session, cast: Cast, make_zone: Callable[..., Zone]
                      ) -> dict[str, Any]:
    zone = make_zone()
    agreement = service.propose(db, actor=cast["UNA"].actor, data=propose_data(zone.code))
    cast.sign("MOL", agreement.versions[0])
    cast.sign("UNA", agreement.versions[0])
    return json.loads(json.dumps(views.export_document(db, actor=Principal.system(),
                                                       zone_code=zone.code)))


def test_verify_reports_periods_and_rejects_forgeries(
        db: Session, cast: Cast, make_zone: Callable[..., Zone]) -> None:
    document = _consented_export(db, cast, make_zone)
    report = verify_document(document)
    assert report.ok
    assert [(p.number, p.start.isoformat(), p.until.isoformat() if p.until else None)
            for p in report.periods] == [(1, "2030-01-01", "2030-12-31")]

    # A signature by a key that is swapped for another organisation's in the export.
    swapped = copy.deepcopy(document)
    swapped["versions"][0]["signatures"][0]["organisation"] = {"acronym": "GUA",
                                                              "id": cast["GUA"].org.id}
    assert "belongs to" in " ".join(verify_document(swapped).problems)

    # Terms changed and re-hashed consistently: the signatures no longer verify.
    from havens.agreements import canonical

    rehashed = copy.deepcopy(document)
    terms = json.loads(rehashed["versions"][0]["canonical_terms"])
    terms["notice_period_days"] = 1
    text = canonical.canonical_text(terms)
    rehashed["versions"][0].update(canonical_terms=text, hash=canonical.terms_hash(text))
    for signature in rehashed["versions"][0]["signatures"]:
        signature["signed_hash"] = canonical.terms_hash(text)
    problems = verify_document(rehashed).problems
    assert len(problems) == 2 and all("does not verify" in p for p in problems)
    assert verify_document(rehashed).periods == []

    # A valid signature by a key not in the export.
    stray = keys.generate()
    unknown = copy.deepcopy(document)
    unknown["versions"][0]["signatures"][0]["key_id"] = keys.key_id_of(keys.public_b64(stray))
    assert "not in the export" in " ".join(verify_document(unknown).problems)
