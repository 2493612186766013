"""Voluntary returns: the refusal of facilitated returns to areas not conducive, the
coordinator's override, both audited; spontaneous returns; the people domain's record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from havens.audit.models import AuditRecord
from havens.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from havens.orgs.models import User
from havens.people.models import DestinationType, HouseholdStatus, Movement, MovementKind
from havens.returns import movements
from havens.returns.criteria import Criterion, Rating
from havens.returns.movements import OverrideNotAllowed, ReturnRefused
from havens.returns.schemas import ReturnCreate
from tests.returns.conftest import ORIGIN, OTHER, TODAY, World, all_met

YESTERDAY = TODAY - dt.timedelta(days=1)
CONSENT = {"informed_by": "Rania Saleh, UNHCR protection", "informed_on": "2026-01-20",
           "informed_of": ["conditions_in_area", "right_to_remain", "safety_situation"]}


def facilitated(household_id: int, **fields: Any) -> ReturnCreate:
    data = {"household_id": household_id, "kind": "facilitated", "facilitated_by": "IOM-R",
            "returned_on": YESTERDAY.isoformat(), "voluntary": True, "consent": CONSENT,
            "transport_support": "vehicle", **fields}
    return ReturnCreate.model_validate(data, strict=False)


def audits(world: World, action: str) -> list[AuditRecord]:
    return list(world.db.scalars(select(AuditRecord).where(AuditRecord.action == action)
                                 .order_by(AuditRecord.seq)))


def test_facilitated_return_to_a_not_conducive_area_is_refused_then_overridden(
        world: World) -> None:
    world.assess(ORIGIN, {**all_met(), Criterion.safety_security: Rating.not_met})
    household = world.household(1, members=4)
    with pytest.raises(ReturnRefused, match="not conducive") as refused:
        movements.record_return(world.db, actor=world.p(world.registrar),
                                data=facilitated(household.id), cipher=world.cipher)
    assert refused.value.status_code == 409 and refused.value.keep_writes
    assert household.status == HouseholdStatus.present
    [refusal] = audits(world, "return.refused")
    assert refusal.detail["area_status"] == "not_conducive"
    assert refusal.detail["pcode"] == ORIGIN and refusal.detail["why"] == "no override"
    # A registrar may not override.
    with pytest.raises(OverrideNotAllowed):
        movements.record_return(world.db, actor=world.p(world.registrar), cipher=world.cipher,
                                data=facilitated(household.id, override_reason="Family "
                                                 "insists, convoy already arranged"))
    assert len(audits(world, "return.refused")) == 2
    # A coordinator may, with a reason.
    with pytest.raises(ValidationFailed, match="Explain"):
        movements.record_return(world.db, actor=world.p(world.coordinator), cipher=world.cipher,
                                data=facilitated(household.id, override_reason="ok"))
    reason = "Family reunification with a sick parent; area partially secured by SARC"
    movement = movements.record_return(world.db, actor=world.p(world.coordinator),
                                       cipher=world.cipher,
                                       data=facilitated(household.id, override_reason=reason))
    assert movement.overridden and movement.override_reason == reason
    assert movement.area_status == "not_conducive" and movement.individuals == 4
    assert movement.consent_recorded and movement.informed_of[0] == "conditions_in_area"
    [override] = audits(world, "return.override")
    assert override.object_id == str(movement.id) and override.detail["reason"] == reason
    assert audits(world, "return.record")[0].detail["overridden"] is True
    # The household left through the people domain.
    world.db.refresh(household)
    assert household.status == HouseholdStatus.returned
    departure = world.db.get(Movement, movement.movement_id)
    assert departure is not None and departure.kind == MovementKind.departure
    assert departure.destination_type == DestinationType.return_to_origin
    assert departure.destination_pcode == ORIGIN and departure.moved_on == YESTERDAY
    read = movements.return_read(world.db, movement)
    assert read.facilitated_by == "IOM-R" and read.from_zone_id == world.zone.id


def test_an_area_never_assessed_blocks_facilitated_returns_too(world: World) -> None:
    household = world.household(2)
    with pytest.raises(ReturnRefused, match="not assessed"):
        movements.record_return(world.db, actor=world.p(world.registrar),
                                data=facilitated(household.id), cipher=world.cipher)


def test_facilitated_return_to_a_partly_conducive_area_goes_ahead(world: World) -> None:
    world.assess(OTHER, {**all_met(), Criterion.livelihoods: Rating.partly_met})
    household = world.household(3)
    movement = movements.record_return(
        world.db, actor=world.p(world.registrar), cipher=world.cipher,
        data=facilitated(household.id, destination_pcode=OTHER))
    assert movement.destination_pcode == OTHER and not movement.overridden
    assert movement.area_status == "partly_conducive"
    assert audits(world, "return.refused") == []


def test_spontaneous_returns_are_always_recordable(world: World) -> None:
    world.assess(ORIGIN, {Criterion.safety_security: Rating.not_met})
    household = world.household(4)
    movement = movements.record_return(
        world.db, actor=world.p(world.registrar), cipher=world.cipher,
        data=ReturnCreate.model_validate({
            "registration_number": household.registration_number, "kind": "spontaneous",
            "returned_on": YESTERDAY.isoformat(), "voluntary": True}, strict=False))
    assert movement.kind.value == "spontaneous" and not movement.consent_recorded
    assert movement.area_status == "not_conducive" and not movement.overridden


def test_checks_before_a_return(world: World) -> None:
    world.assess(ORIGIN, all_met())
    household = world.household(5)
    actor = world.p(world.registrar)

    def attempt(**fields: Any) -> None:
        movements.record_return(world.db, actor=actor, cipher=world.cipher,
                                data=facilitated(household.id, **fields))

    with pytest.raises(ValidationFailed, match="voluntary"):
        attempt(voluntary=False)
    with pytest.raises(ValidationFailed, match="informed-consent"):
        attempt(consent=None)
    with pytest.raises(ValidationFailed, match="right_to_remain"):
        attempt(consent={**CONSENT, "informed_of": ["conditions_in_area"]})
    with pytest.raises(ValidationFailed, match="Unknown topic"):
        attempt(consent={**CONSENT, "informed_of": ["weather"]})
    with pytest.raises(ValidationFailed, match="before it returns"):
        attempt(consent={**CONSENT, "informed_on": TODAY.isoformat()})
    with pytest.raises(ValidationFailed, match="organises"):
        attempt(facilitated_by=None)
    with pytest.raises(ValidationFailed, match="future"):
        attempt(returned_on=(TODAY + dt.timedelta(days=3)).isoformat())
    with pytest.raises(ValidationFailed, match="before the household arrived"):
        attempt(returned_on="2024-12-01", consent={**CONSENT, "informed_on": "2024-11-01"})
    with pytest.raises(ValidationFailed, match="level 3"):
        attempt(destination_pcode="SY07")
    # Another organisation's household is not found; a protection officer does not move people.
    with pytest.raises(NotFound):
        movements.record_return(world.db, actor=world.p(world.other_registrar),
                                data=facilitated(household.id), cipher=world.cipher)
    with pytest.raises(PermissionDenied, match="registrar"):
        movements.record_return(world.db, actor=world.p(world.protection),
                                data=facilitated(household.id), cipher=world.cipher)
    attempt()
    with pytest.raises(Conflict, match="returned, not present"):
        attempt()
    nowhere = world.household(6, origin=None)
    with pytest.raises(ValidationFailed, match="no origin"):
        movements.record_return(world.db, actor=actor, cipher=world.cipher,
                                data=facilitated(nowhere.id))


Headers = Callable[[User], dict[str, str]]


def test_api_refusal_is_audited_and_kept_the_override_succeeds(
        world: World, client: TestClient, token_for: Headers) -> None:
    world.assess(ORIGIN, {Criterion.safety_security: Rating.not_met})
    household = world.household(7)
    body = facilitated(household.id).model_dump(mode="json")
    refused = client.post("/api/v1/returns", json=body, headers=token_for(world.registrar))
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "return_refused"
    # The request failed, yet its refusal is in the audit log (committed on error).
    assert [a.detail["household_id"] for a in audits(world, "return.refused")] == [household.id]
    forbidden = client.post("/api/v1/returns", headers=token_for(world.registrar),
                            json={**body, "override_reason": "The family insists on going"})
    assert forbidden.status_code == 403
    assert len(audits(world, "return.refused")) == 2
    ok = client.post("/api/v1/returns", headers=token_for(world.coordinator),
                     json={**body, "override_reason": "Medical evacuation to family home"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["overridden"] is True and ok.json()["area_status"] == "not_conducive"
    assert len(audits(world, "return.override")) == 1
    listed = client.get("/api/v1/returns", headers=token_for(world.coordinator))
    assert [r["household_id"] for r in listed.json()] == [household.id]
    # A plain validation error is still rolled back: nothing is kept from it.
    before = len(audits(world, "return.refused"))
    other = world.household(8)
    bad = client.post("/api/v1/returns", headers=token_for(world.registrar),
                      json={**facilitated(other.id).model_dump(mode="json"), "consent": None})
    assert bad.status_code == 422 and len(audits(world, "return.refused")) == before
