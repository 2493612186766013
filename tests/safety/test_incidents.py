"""Reporting incidents: placement, sensitivity, who sees what (service and API)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from havens.audit.models import AuditRecord
from havens.exceptions import NotFound, PermissionDenied, ValidationFailed
from havens.orgs.models import User
from havens.safety import service
from havens.safety.incident_types import IncidentType, parse_type
from havens.safety.schemas import IncidentCreate
from tests.safety.conftest import INSIDE, NOW, OUTSIDE, World

SECRET = "Survivor aged 16 assaulted near the latrines of block C"


def create(world: World, user: User, **fields: Any) -> Any:
    data = {"occurred_at": NOW - dt.timedelta(days=1), "incident_type": "crime",
            "severity": 2, **fields}
    return service.create_incident(world.db, actor=world.p(user), now=NOW,
                                   data=IncidentCreate.model_validate(data, strict=False))


def test_a_point_is_placed_in_its_zone_and_at_its_site(world: World) -> None:
    incident = create(world, world.coordinator, lon=INSIDE[0], lat=INSIDE[1])
    assert incident.zone_id == world.zone.id and incident.site_id == world.site.id
    assert incident.inside_zone
    assert incident.organisation_id == world.unhcr.id
    # Near the zone: the zone is named, the point lies outside it.
    near = create(world, world.coordinator, zone="SZ-T-001", lon=OUTSIDE[0], lat=OUTSIDE[1])
    assert near.zone_id == world.zone.id and not near.inside_zone and near.site_id is None
    with pytest.raises(ValidationFailed, match="in no zone") as error:
        create(world, world.coordinator, lon=OUTSIDE[0], lat=OUTSIDE[1])
    assert error.value.field == "zone"


def test_a_pcode_names_the_zone_covering_it(world: World) -> None:
    incident = create(world, world.coordinator, pcode="sy070301")
    assert incident.zone_id == world.zone.id and incident.pcode == "SY070301"
    assert not incident.inside_zone  # a P-code alone does not say "inside"
    with pytest.raises(ValidationFailed, match="does not name one zone"):
        create(world, world.coordinator, pcode="SY070302")
    with pytest.raises(ValidationFailed, match="Unknown P-code"):
        create(world, world.coordinator, pcode="SY999999")


def test_checks_on_what_is_reported(world: World) -> None:
    with pytest.raises(ValidationFailed, match="future"):
        create(world, world.coordinator, zone="SZ-T-001", occurred_at=NOW + dt.timedelta(days=1))
    with pytest.raises(ValidationFailed, match="always sensitive"):
        create(world, world.protection, zone="SZ-T-001", incident_type="gbv", sensitive=False)
    with pytest.raises(PermissionDenied):
        create(world, world.viewer, zone="SZ-T-001")
    with pytest.raises(ValueError, match="say where"):
        IncidentCreate.model_validate({"occurred_at": NOW, "incident_type": "fire",
                                       "severity": 1}, strict=False)
    with pytest.raises(ValueError, match="severity"):
        IncidentCreate.model_validate({"zone": "Z", "occurred_at": NOW, "incident_type": "fire",
                                       "severity": 5}, strict=False)
    casualties = {"killed": {"female_child": 1, "male_adult": 2},
                  "injured": {"unknown": 4}}
    incident = create(world, world.coordinator, zone="SZ-T-001", incident_type="shelling",
                      severity=4, casualties=casualties)
    assert (incident.killed, incident.injured) == (3, 4)
    assert not incident.sensitive
    audit = world.db.scalars(select(AuditRecord).where(
        AuditRecord.action == "incident.report",
        AuditRecord.object_id == str(incident.id))).one()
    assert audit.detail["type"] == "shelling" and "narrative" not in audit.detail


@pytest.mark.parametrize(("text", "expected"), [
    ("Air strike", IncidentType.shelling), ("armed incursion", IncidentType.armed_presence),
    ("SGBV", IncidentType.gbv), ("child protection", IncidentType.child_protection),
    ("UXO", IncidentType.explosive_remnants), ("explosive_remnants",
                                               IncidentType.explosive_remnants),
    ("flood", None), ("", None),
])
def test_type_names_field_teams_use(text: str, expected: IncidentType | None) -> None:
    assert parse_type(text) == expected


def test_sensitive_details_only_for_protection_officers_of_the_reporting_org(world: World
                                                                            ) -> None:
    gbv = create(world, world.protection, zone="SZ-T-001", incident_type="gbv", severity=3,
                 narrative=SECRET)
    assert gbv.sensitive
    mine = service.get_incident(world.db, actor=world.p(world.protection), incident_id=gbv.id)
    assert service.to_read(world.db, mine, actor=world.p(world.protection)).narrative == SECRET
    for user in (world.coordinator, world.other_coordinator, world.other_protection,
                 world.viewer):
        with pytest.raises(NotFound):
            service.get_incident(world.db, actor=world.p(user), incident_id=gbv.id)
        listed = service.list_incidents(world.db, actor=world.p(user))
        assert listed.items == []
        assert [(r.zone_code, r.incident_type, r.count) for r in listed.restricted] == [
            ("SZ-T-001", IncidentType.gbv, "<5")]
    # The reporter who is not a protection officer gets an acknowledgement, not the details.
    cp = create(world, world.coordinator, zone="SZ-T-001", incident_type="child_protection",
                narrative="Child recruited by a armed group", lon=INSIDE[0], lat=INSIDE[1])
    ack = service.to_read(world.db, cp, actor=world.p(world.coordinator))
    assert ack.restricted and ack.narrative is None and ack.lon is None
    assert ack.casualties is None and ack.site_code is None
    reads = world.db.scalars(select(AuditRecord).where(
        AuditRecord.action == "incident.read_sensitive")).all()
    assert [r.object_id for r in reads] == [str(gbv.id)]
    listed = service.list_incidents(world.db, actor=world.p(world.protection))
    assert [i.id for i in listed.items] == [cp.id, gbv.id]  # both are UNHCR's
    assert listed.items[1].narrative == SECRET
    reads = world.db.scalars(select(AuditRecord).where(
        AuditRecord.action == "incident.read_sensitive").order_by(AuditRecord.seq)).all()
    assert reads[-1].detail == {"incidents": [cp.id, gbv.id]}


def test_small_counts_are_suppressed_larger_ones_shown(world: World) -> None:
    for _ in range(6):
        create(world, world.protection, zone="SZ-T-001", incident_type="gbv")
    for _ in range(2):
        create(world, world.protection, zone="SZ-T-001", incident_type="child_protection")
    create(world, world.protection, zone="SZ-T-001", incident_type="crime", sensitive=True)
    create(world, world.coordinator, zone="SZ-T-001", incident_type="fire")
    listed = service.list_incidents(world.db, actor=world.p(world.other_coordinator))
    assert [i.incident_type for i in listed.items] == [IncidentType.fire]
    assert {r.incident_type: r.count for r in listed.restricted} == {
        IncidentType.gbv: 6, IncidentType.child_protection: "<5", IncidentType.crime: "<5"}
    own = service.list_incidents(world.db, actor=world.p(world.protection))
    assert len(own.items) == 10 and own.restricted == []


Headers = Callable[[User], dict[str, str]]


def test_api_never_returns_the_narrative_to_another_organisation(
        world: World, client: TestClient, token_for: Headers) -> None:
    body = {"zone": "SZ-T-001", "occurred_at": "2026-06-01T21:30:00Z", "incident_type": "gbv",
            "severity": 3, "narrative": SECRET,
            "casualties": {"injured": {"female_child": 1}}}
    created = client.post("/api/v1/incidents", json=body,
                          headers=token_for(world.protection))
    assert created.status_code == 201, created.text
    assert created.json()["narrative"] == SECRET and created.json()["sensitive"] is True
    incident_id = created.json()["id"]
    outsider = token_for(world.other_coordinator)
    listing = client.get("/api/v1/incidents", headers=outsider)
    assert listing.status_code == 200
    assert SECRET not in listing.text and "latrines" not in listing.text
    assert listing.json() == {"items": [], "restricted": [
        {"zone_code": "SZ-T-001", "incident_type": "gbv", "count": "<5"}],
        "restricted_totals": {"by_zone": {"SZ-T-001": "<5"}, "by_type": {"gbv": "<5"},
                              "total": "<5"}}
    one = client.get(f"/api/v1/incidents/{incident_id}", headers=outsider)
    assert one.status_code == 404 and SECRET not in one.text
    same_org_coordinator = client.get(f"/api/v1/incidents/{incident_id}",
                                      headers=token_for(world.coordinator))
    assert same_org_coordinator.status_code == 404
    officer = client.get(f"/api/v1/incidents/{incident_id}",
                         headers=token_for(world.protection))
    assert officer.status_code == 200 and officer.json()["narrative"] == SECRET
    assert officer.json()["casualties"]["injured"]["female_child"] == 1
    safety = client.get(f"/api/v1/zones/{world.zone.id}/safety", headers=outsider)
    assert safety.status_code == 200 and SECRET not in safety.text
    assert client.get("/api/v1/safety/zones", headers=outsider).json()[0]["zone_code"] == (
        "SZ-T-001")


def test_api_validation_and_types(world: World, client: TestClient, token_for: Headers
                                  ) -> None:
    headers = token_for(world.coordinator)
    bad = client.post("/api/v1/incidents", headers=headers, json={
        "zone": "SZ-T-001", "occurred_at": "2026-06-01", "incident_type": "fire",
        "severity": "3"})
    assert bad.status_code == 422  # strict: a string is not a severity
    unknown_zone = client.post("/api/v1/incidents", headers=headers, json={
        "zone": "SZ-NOPE", "occurred_at": "2026-06-01T10:00:00", "incident_type": "fire",
        "severity": 3})
    assert unknown_zone.status_code == 404
    nul = client.post("/api/v1/incidents", headers=headers, json={
        "zone": "SZ-T-001", "occurred_at": "2026-06-01T10:00:00", "incident_type": "fire",
        "severity": 3, "narrative": "a\x00b"})
    assert nul.status_code == 422 and "NUL" in nul.text  # PostgreSQL could not store it
    types = client.get("/api/v1/incidents/types", headers=headers).json()
    assert [t["code"] for t in types if t["always_sensitive"]] == ["gbv", "child_protection"]
    filtered = client.get("/api/v1/incidents", headers=headers,
                          params={"zone": "SZ-T-001", "type": "fire", "min_severity": 2})
    assert filtered.status_code == 200 and filtered.json()["items"] == []
