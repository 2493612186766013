"""The demo: incidents (a breach, a sensitive GBV incident), home-area assessments,
intentions and a few returns, on top of the other domains' demo data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.agreements import keyring
from havens.agreements import service as agreement_service
from havens.agreements.schemas import AgreementPropose
from havens.config import Settings
from havens.demo import agreements, geo, orgs, people, zones
from havens.demo import returns as demo_returns
from havens.demo import safety as demo_safety
from havens.orgs import service as org_service
from havens.orgs.permissions import Principal
from havens.people.models import Household, HouseholdStatus
from havens.returns import service as returns_service
from havens.returns.models import AreaAssessment, ReturnIntention, ReturnKind, ReturnMovement
from havens.safety import service as safety_service
from havens.safety.incident_types import IncidentType
from havens.safety.models import SecurityIncident
from havens.zones.models import Zone, ZoneStatus


def _operational_zone(db: Session, system: Principal, settings: Settings) -> None:
    """SZ-SY07-001 under the demo's agreement terms, signed by its required signers (built
    here rather than by the agreements demo, so that this test checks this domain's demo)."""
    secret = settings.resolved_secret_key()
    start = dt.date.today().replace(month=1, day=1)
    proposal = agreement_service.propose(db, actor=system, data=AgreementPropose.model_validate({
        "zone": "SZ-SY07-001", "parties": agreements.PARTIES,
        "security_flags": ["no_armed_presence"], "commitments": agreements.COMMITMENTS,
        "start_date": start.isoformat(), "end_date": start.replace(year=start.year + 3)
        .isoformat(), "notice_period_days": 90}, strict=False))
    for acronym in ("MOLAE", "UNHCR", "TR-MFA"):
        org = org_service.get_organisation_by_acronym(db, acronym=acronym)
        assert org is not None
        keyring.create_server_held_key(db, actor=system, organisation_id=org.id, secret=secret)
        agreement_service.sign_with_server_key(db, actor=system, version=proposal.versions[0],
                                               secret=secret, organisation_id=org.id)
    agreement_service.transition_zone(db, actor=system, agreement_id=proposal.id,
                                      to=ZoneStatus.operational, reason="Demo")


@pytest.mark.slow
def test_demo(db: Session, system: Principal, settings: Settings) -> None:
    geo.load(db, actor=system)
    orgs.load(db, actor=system)
    zones.load(db, actor=system)
    _operational_zone(db, system, settings)
    people.load(db, actor=system, individuals=800)
    demo_safety.load(db, actor=system)
    demo_returns.load(db, actor=system)

    # Safety: one breach in the operational zone, linked to TR-MFA's commitment.
    breach = db.scalars(select(SecurityIncident).where(SecurityIncident.breach)).one()
    assert breach.zone.code == "SZ-SY07-001" and breach.inside_zone
    assert breach.breach_commitment_id is not None
    read = safety_service.to_read(db, breach, actor=system)
    assert read.breach_commitment and "armed presence" in read.breach_commitment
    gbv = db.scalars(select(SecurityIncident).where(
        SecurityIncident.incident_type == IncidentType.gbv)).one()
    assert gbv.sensitive and gbv.organisation.acronym == "UNHCR"
    officer = org_service.get_user_by_email(db, email="protection@unhcr.demo.havens.org")
    coordinator = org_service.get_user_by_email(db, email="coordinator@iom.demo.havens.org")
    assert officer is not None and coordinator is not None
    seen = safety_service.list_incidents(db, actor=org_service.principal_for(officer))
    assert gbv.id in {i.id for i in seen.items}
    other = safety_service.list_incidents(db, actor=org_service.principal_for(coordinator))
    assert gbv.id not in {i.id for i in other.items} and other.restricted
    statuses = {s.zone_code: s.status.value
                for s in safety_service.zones_safety(db, actor=system).values()}
    assert statuses == {"SZ-SY07-001": "unsafe", "SZ-SY02-001": "at_risk",
                        "SZ-SY07-002": "unsafe"}
    assert len(demo_safety.INCIDENTS) == db.scalar(select(func.count(SecurityIncident.id)))

    # Returns: the main home areas are assessed, some with a history.
    areas = set(db.scalars(select(AreaAssessment.pcode)))
    assert len(areas) == demo_returns.AREAS
    origins = set(db.scalars(select(Household.origin_pcode)))
    assert areas <= origins
    histories = [returns_service.area_status_read(db, actor=system, pcode=p).history
                 for p in areas]
    assert sum(len(h) == 2 for h in histories) == 2
    assert {h[-1].status.value for h in histories} == {
        "not_conducive", "partly_conducive", "conducive"}
    assert (db.scalar(select(func.count(ReturnIntention.id))) or 0) >= 40
    kinds = list(db.scalars(select(ReturnMovement.kind)))
    assert sorted(kinds) == [ReturnKind.facilitated] * 2 + [ReturnKind.spontaneous] * 2
    returned = db.scalar(select(func.count(Household.id)).where(
        Household.status == HouseholdStatus.returned))
    assert returned == 4
    assert db.scalar(select(Zone.status).where(Zone.code == "SZ-SY07-001")) == (
        ZoneStatus.operational)
