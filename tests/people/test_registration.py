"""Registering households and reading them back, with access rules and audit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit.models import AuditRecord
from havens.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from havens.orgs.models import User
from havens.people import service
from havens.people.crypto import FieldCipher
from havens.people.models import Household, HouseholdStatus, Individual
from havens.people.schemas import DepartRequest, HouseholdCreate, IndividualUpdate, MoveRequest
from tests.people.conftest import World, household_payload


def register(db: Session, world: World, cipher: FieldCipher, user: User | None = None,
             **overrides: object) -> int:
    data = HouseholdCreate.model_validate(household_payload(world.sites[0], **overrides))
    return service.register_household(db, actor=world.p(user or world.registrar), data=data,
                                      cipher=cipher).id


def test_register_and_read_back(db: Session, world: World, cipher: FieldCipher) -> None:
    hid = register(db, world, cipher)
    read = service.get_household(db, actor=world.p(world.registrar), household_id=hid,
                                 cipher=cipher)
    assert read.registration_number.startswith(world.sites[0].code + "-")
    assert read.registration_number.endswith("-000001")
    assert read.organisation == "UNHCR-T" and read.status == HouseholdStatus.present
    head, spouse, child = read.members
    assert head.phone == "+963944123456" and head.document_number == "0123456789"
    assert head.given_name_ar == "مُحَمَّد" and head.specific_needs == ["SM"]
    assert spouse.dob_estimated and spouse.date_of_birth is None and spouse.birth_year == 1990
    assert child.given_name_en == "Abdul Rahman"
    assert read.consent_purposes == ["assistance", "protection"] and read.consent_sharing
    second = register(db, world, cipher, household_ref="HH-2")
    number = service.get_household(db, actor=world.p(world.registrar), household_id=second,
                                   cipher=cipher).registration_number
    assert number.endswith("-000002")


def test_reads_and_changes_are_audited_without_names(db: Session, world: World,
                                                     cipher: FieldCipher) -> None:
    hid = register(db, world, cipher)
    service.get_household(db, actor=world.p(world.coordinator), household_id=hid, cipher=cipher)
    reads = db.scalars(select(AuditRecord).where(AuditRecord.action == "people.read")).all()
    assert len(reads) == 1
    ids = [m.id for m in db.scalars(select(Individual).where(Individual.household_id == hid))]
    assert reads[0].detail["households"] == [hid]
    assert reads[0].detail["individuals"] == ids
    assert reads[0].actor_user_id == world.coordinator.id
    registered = db.scalar(select(AuditRecord).where(AuditRecord.action == "people.register"))
    assert registered is not None
    for entry in (reads[0], registered):
        text = str(entry.detail)
        assert "Mohammad" not in text and "محمد" not in text and "944" not in text


def test_other_organisation_gets_404_and_roles_without_personal_rights_403(
        db: Session, world: World, cipher: FieldCipher) -> None:
    hid = register(db, world, cipher)
    with pytest.raises(NotFound):
        service.get_household(db, actor=world.p(world.other_registrar), household_id=hid,
                              cipher=cipher)
    for user in (world.liaison, world.state_viewer, world.viewer_same_org):
        with pytest.raises(PermissionDenied):
            service.get_household(db, actor=world.p(user), household_id=hid, cipher=cipher)
        with pytest.raises(PermissionDenied):
            service.search(db, actor=world.p(user), query="Mohammad", cipher=cipher)
    assert service.search(db, actor=world.p(world.other_registrar), query="Mohammad",
                          cipher=cipher).total == 0


def test_api_register_get_and_404_for_other_org(client: TestClient, world: World,
                                               token_for: Callable[[User], dict[str, str]]
                                               ) -> None:
    payload = household_payload(world.sites[0])
    created = client.post("/api/v1/households", json=payload, headers=token_for(world.registrar))
    assert created.status_code == 201, created.text
    hid = created.json()["id"]
    mine = client.get(f"/api/v1/households/{hid}", headers=token_for(world.coordinator))
    assert mine.status_code == 200 and mine.json()["members"][0]["phone"] == "+963944123456"
    other = client.get(f"/api/v1/households/{hid}", headers=token_for(world.other_registrar))
    assert other.status_code == 404 and "Mohammad" not in other.text
    liaison = client.get(f"/api/v1/households/{hid}", headers=token_for(world.liaison))
    assert liaison.status_code == 403
    again = client.post("/api/v1/households", json=payload, headers=token_for(world.registrar))
    assert again.status_code == 409


def test_register_validation(db: Session, world: World, cipher: FieldCipher) -> None:
    with pytest.raises(ValidationFailed) as unknown_origin:
        register(db, world, cipher, origin_pcode="SY0700")
    assert unknown_origin.value.field == "origin_pcode"
    payload = household_payload(world.sites[0])
    payload["members"][0]["specific_needs"] = ["XX"]
    with pytest.raises(ValidationFailed) as bad_code:
        service.register_household(db, actor=world.p(world.registrar),
                                   data=HouseholdCreate.model_validate(payload), cipher=cipher)
    assert bad_code.value.field == "members[0].specific_needs"
    with pytest.raises(PermissionDenied):
        register(db, world, cipher, user=world.liaison)
    register(db, world, cipher)
    with pytest.raises(Conflict):
        register(db, world, cipher)


def test_update_move_and_depart(db: Session, world: World, cipher: FieldCipher) -> None:
    import datetime as dt

    hid = register(db, world, cipher)
    actor = world.p(world.registrar)
    head_id = db.scalar(select(Individual.id).where(Individual.household_id == hid,
                                                    Individual.relationship == "head"))
    assert head_id is not None
    updated = service.update_individual(db, actor=actor, individual_id=head_id, data=(
        IndividualUpdate(given_name_en="Muhammad", phone="00963 955 000 111")), cipher=cipher)
    assert updated.phone == "+963955000111" and updated.given_name_en == "Muhammad"
    assert service.search(db, actor=actor, query="muhammad", cipher=cipher).total == 1
    moved = service.move_household(db, actor=actor, household_id=hid, data=MoveRequest(
        to_site_code=world.sites[1].code, moved_on=dt.date(2026, 1, 5)), cipher=cipher)
    assert moved.site_code == world.sites[1].code
    assert set(db.scalars(select(Individual.site_id).where(Individual.household_id == hid))) \
        == {world.sites[1].id}
    with pytest.raises(NotFound):
        service.move_household(db, actor=world.p(world.other_registrar), household_id=hid,
                               data=MoveRequest(to_site_code=world.sites[0].code,
                                                moved_on=dt.date(2026, 1, 6)), cipher=cipher)
    gone = service.depart_household(db, actor=actor, household_id=hid, data=DepartRequest(
        destination_type="return_to_origin", moved_on=dt.date(2026, 2, 1)), cipher=cipher)
    assert gone.status == HouseholdStatus.returned
    assert not any(db.scalars(select(Individual.present).where(Individual.household_id == hid)))
    with pytest.raises(Conflict):
        service.depart_household(db, actor=actor, household_id=hid, data=DepartRequest(
            destination_type="abroad", moved_on=dt.date(2026, 2, 2)), cipher=cipher)
    actions = list(db.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))
    assert {"people.update", "people.move", "people.depart"} <= set(actions)
    assert db.get(Household, hid) is not None


def test_closed_or_planned_sites_take_no_registrations_or_moves(
        db: Session, world: World, cipher: FieldCipher) -> None:
    import datetime as dt

    from havens.zones.models import SiteStatus

    hid = register(db, world, cipher)
    for status in (SiteStatus.closed, SiteStatus.planned):
        world.sites[1].status = status
        db.flush()
        with pytest.raises(ValidationFailed) as refused:
            service.register_household(db, actor=world.p(world.registrar), cipher=cipher,
                                       data=HouseholdCreate.model_validate(
                                           household_payload(world.sites[1])))
        assert refused.value.field == "site_code"
        assert refused.value.message == f"Site {world.sites[1].code} is {status.value}, not open."
        with pytest.raises(ValidationFailed) as not_moved:
            service.move_household(db, actor=world.p(world.registrar), household_id=hid,
                                   data=MoveRequest(to_site_code=world.sites[1].code,
                                                    moved_on=dt.date(2026, 1, 5)),
                                   cipher=cipher)
        assert not_moved.value.field == "to_site_code"
