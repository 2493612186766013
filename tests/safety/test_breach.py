"""Armed presence inside a zone whose agreement says "no armed presence" is a breach."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from havens.audit.models import AuditRecord
from havens.orgs.models import Organisation, Role, User
from havens.safety import service
from havens.safety.schemas import IncidentCreate
from tests.safety.conftest import INSIDE, NOW, OUTSIDE, World, sign_agreement

ARMED = {"what": "No armed presence inside the zone", "indicator": "armed_presence_incidents",
         "target": 0, "unit": "incidents"}
WATER = {"what": "15 litres of water per person per day", "indicator": "water_lpd",
         "target": 15, "unit": "l/person/day"}


def report(world: World, **fields: Any) -> Any:
    data = {"zone": "SZ-T-001", "occurred_at": NOW - dt.timedelta(days=2),
            "incident_type": "armed_presence", "severity": 3,
            "narrative": "Armed men at the gate of camp one", **fields}
    return service.create_incident(world.db, actor=world.p(world.coordinator), now=NOW,
                                   data=IncidentCreate.model_validate(data, strict=False))


def test_breach_links_the_commitment_it_breaks(world: World,
                                               make_org: Callable[..., Organisation],
                                               make_user: Callable[..., User]) -> None:
    version = sign_agreement(world.db, world.zone, make_org, flags=["no_armed_presence"],
                             commitments=[WATER, ARMED])
    incident = report(world, lon=INSIDE[0], lat=INSIDE[1])
    armed = next(c for c in version.commitments if c.indicator == "armed_presence_incidents")
    assert incident.breach
    assert incident.breach_version_id == version.id
    assert incident.breach_commitment_id == armed.id
    assert incident.breach_flag == "no_armed_presence"
    # A party of the agreement sees what is broken; others only that it is a breach.
    guarantor = world.db.get(Organisation, armed.organisation_id)
    assert guarantor is not None
    party = make_user(Role.viewer, org=guarantor)
    outsider = service.to_read(world.db, incident, actor=world.p(world.viewer))
    assert outsider.breach and outsider.breach_commitment is None
    assert outsider.breach_agreement_version is None and outsider.breach_flag is None
    read = service.to_read(world.db, incident, actor=world.p(party))
    assert read.breach_agreement_version == 1
    assert read.breach_commitment_ref == armed.ref
    assert read.breach_commitment == "No armed presence inside the zone"
    audit = world.db.scalars(select(AuditRecord).where(
        AuditRecord.action == "incident.breach")).one()
    assert audit.object_id == str(incident.id)
    assert audit.detail["commitment_ref"] == armed.ref and audit.detail["agreement_version"] == 1
    listed = service.list_incidents(world.db, actor=world.p(world.viewer), breaches_only=True)
    assert [i.id for i in listed.items] == [incident.id]
    assert service.zone_safety(world.db, actor=world.p(world.viewer), zone_id=world.zone.id,
                               now=NOW).breaches_30d == 1


def test_without_such_a_commitment_the_security_flag_is_broken(
        world: World, make_org: Callable[..., Organisation]) -> None:
    version = sign_agreement(world.db, world.zone, make_org, flags=["no_armed_presence"],
                             commitments=[WATER])
    incident = report(world)
    assert incident.breach and incident.breach_version_id == version.id
    assert incident.breach_commitment_id is None
    assert incident.breach_flag == "no_armed_presence"


def test_a_commitment_alone_says_no_armed_presence_too(
        world: World, make_org: Callable[..., Organisation]) -> None:
    sign_agreement(world.db, world.zone, make_org, flags=[],
                   commitments=[{"what": "Keep armed actors out of the camps"}])
    incident = report(world)
    assert incident.breach and incident.breach_flag is None
    assert incident.breach_commitment_id is not None


def test_what_is_not_a_breach(world: World, make_org: Callable[..., Organisation]) -> None:
    # No agreement at all.
    assert not report(world).breach
    sign_agreement(world.db, world.zone, make_org, flags=["no_armed_presence"],
                   commitments=[ARMED])
    # Another type of incident.
    assert not report(world, incident_type="crime").breach
    # Armed presence seen outside the boundary (near the zone).
    assert not report(world, lon=OUTSIDE[0], lat=OUTSIDE[1]).breach
    # Before the agreement came into force (signed on 5 January 2026).
    assert not report(world, occurred_at=dt.datetime(2026, 1, 3, tzinfo=dt.UTC)).breach
    assert report(world, occurred_at=dt.datetime(2026, 1, 6, tzinfo=dt.UTC)).breach


def test_an_agreement_without_the_flag_is_not_breached(
        world: World, make_org: Callable[..., Organisation]) -> None:
    sign_agreement(world.db, world.zone, make_org, flags=["humanitarian_access_guaranteed"],
                   commitments=[WATER])
    assert not report(world).breach
    assert not world.db.scalars(select(AuditRecord).where(
        AuditRecord.action == "incident.breach")).first()
