"""The zone safety rule, on fixed clocks."""

from __future__ import annotations

import datetime as dt

import pytest

from havens.safety import service
from havens.safety.incident_types import IncidentType
from havens.safety.schemas import IncidentCreate
from havens.safety.status import IncidentFacts, SafetyStatus, assess
from tests.safety.conftest import NOW, World, add_zone

T = IncidentType


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.mark.parametrize(("incidents", "expected"), [
    ([], SafetyStatus.safe),
    ([IncidentFacts(ago(13), T.armed_presence, 1)], SafetyStatus.unsafe),
    ([IncidentFacts(ago(13.9), T.shelling, 4)], SafetyStatus.unsafe),
    # Exactly 14 days ago is outside "the last 14 days" but inside the 30-day window.
    ([IncidentFacts(ago(14), T.shelling, 4)], SafetyStatus.at_risk),
    ([IncidentFacts(ago(15), T.armed_presence, 2)], SafetyStatus.safe),
    ([IncidentFacts(ago(29), T.fire, 3)], SafetyStatus.at_risk),
    ([IncidentFacts(ago(31), T.fire, 4)], SafetyStatus.safe),
    ([IncidentFacts(ago(1), T.crime, 2), IncidentFacts(ago(2), T.fire, 1)], SafetyStatus.safe),
    # Armed presence reported outside the boundary is not an incursion: its severity counts.
    ([IncidentFacts(ago(1), T.armed_presence, 2, inside_zone=False)], SafetyStatus.safe),
    ([IncidentFacts(ago(1), T.armed_presence, 3, inside_zone=False)], SafetyStatus.at_risk),
    # An incident dated after the clock does not count yet.
    ([IncidentFacts(NOW + dt.timedelta(hours=2), T.shelling, 4)], SafetyStatus.safe),
    # Sensitive types count like any other.
    ([IncidentFacts(ago(3), T.gbv, 4)], SafetyStatus.unsafe),
])
def test_rule(incidents: list[IncidentFacts], expected: SafetyStatus) -> None:
    assert assess(incidents, now=NOW).status == expected


def test_reasons_say_why() -> None:
    result = assess([IncidentFacts(ago(2), T.armed_presence, 2),
                     IncidentFacts(ago(5), T.armed_presence, 3),
                     IncidentFacts(ago(20), T.shelling, 3)], now=NOW)
    assert result.status == SafetyStatus.unsafe
    assert (result.armed_presence_14d, result.critical_14d, result.serious_30d) == (2, 0, 2)
    assert result.reasons == ["2 armed presence incidents inside the zone in the last 14 days"]


def _report(world: World, when: dt.datetime, kind: IncidentType, severity: int,
            zone: str = "SZ-T-001") -> None:
    service.create_incident(world.db, actor=world.p(world.coordinator), now=NOW,
                            data=IncidentCreate(zone=zone, occurred_at=when, incident_type=kind,
                                                severity=severity))


def test_zone_status_moves_with_the_clock(world: World) -> None:
    other = add_zone(world.db, "SZ-T-002", (37.0, 36.5, 37.2, 36.7))
    _report(world, ago(3), T.armed_presence, 2)
    _report(world, ago(5), T.shelling, 3)
    actor = world.p(world.viewer)

    def status_at(now: dt.datetime) -> dict[str, SafetyStatus]:
        return {s.zone_code: s.status
                for s in service.zones_safety(world.db, actor=actor, now=now).values()}

    assert status_at(NOW) == {"SZ-T-001": SafetyStatus.unsafe, "SZ-T-002": SafetyStatus.safe}
    # The armed presence leaves the 14-day window; the serious shelling is 16 days old.
    assert status_at(NOW + dt.timedelta(days=11, hours=1))["SZ-T-001"] == SafetyStatus.at_risk
    # The shelling leaves the 30-day window.
    assert status_at(NOW + dt.timedelta(days=26))["SZ-T-001"] == SafetyStatus.safe
    # Before anything happened.
    assert status_at(ago(10))["SZ-T-001"] == SafetyStatus.safe
    one = service.zone_safety(world.db, actor=actor, zone_id=world.zone.id, now=NOW)
    assert one.armed_presence_14d == 1 and one.serious_30d == 1 and one.zone_code == "SZ-T-001"
    assert service.zone_safety(world.db, actor=actor, zone_id=other.id, now=NOW).status == "safe"
