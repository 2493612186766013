"""Updating households and individuals: the rules of registration, nulls refused, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from havens.audit.models import AuditRecord
from havens.cli.main import app
from havens.database import session_scope
from havens.exceptions import ValidationFailed
from havens.orgs.models import User
from havens.people import service
from havens.people.crypto import FieldCipher
from havens.people.models import Household, Individual, Relationship
from havens.people.names import compact_key
from havens.people.schemas import HouseholdCreate, HouseholdUpdate, IndividualUpdate
from tests.people.conftest import RealDatabase, World, household_payload

runner = CliRunner()
Headers = Callable[[User], dict[str, str]]


def register(db: Session, world: World, cipher: FieldCipher) -> Household:
    data = HouseholdCreate.model_validate(household_payload(world.sites[0]))
    hid = service.register_household(db, actor=world.p(world.registrar), data=data,
                                     cipher=cipher).id
    household = db.get(Household, hid)
    assert household is not None
    return household


def members(db: Session, household: Household) -> list[Individual]:
    return list(db.scalars(select(Individual).where(Individual.household_id == household.id)
                           .order_by(Individual.id)))


def update_member(db: Session, world: World, cipher: FieldCipher, person: Individual,
                  **changes: Any) -> Any:
    return service.update_individual(db, actor=world.p(world.registrar),
                                     individual_id=person.id, cipher=cipher,
                                     data=IndividualUpdate.model_validate(changes))


def update_household(db: Session, world: World, cipher: FieldCipher, household: Household,
                     **changes: Any) -> Any:
    return service.update_household(db, actor=world.p(world.registrar),
                                    household_id=household.id, cipher=cipher,
                                    data=HouseholdUpdate.model_validate(changes))


# --- through the API: nulls and bad values are a 422 naming the field, nothing changed --------

@pytest.fixture
def registered(client: TestClient, world: World, token_for: Headers) -> dict[str, Any]:
    created = client.post("/api/v1/households", json=household_payload(world.sites[0]),
                          headers=token_for(world.registrar))
    assert created.status_code == 201, created.text
    return dict(created.json())


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize("field", ["relationship", "sex", "date_of_birth", "dob_estimated"])
def test_api_refuses_null_for_a_required_member_field(
        client: TestClient, world: World, token_for: Headers, registered: dict[str, Any],
        field: str) -> None:
    headers = token_for(world.registrar)
    head = registered["members"][0]
    response = client.patch(f"/api/v1/individuals/{head['id']}", json={field: None},
                            headers=headers)
    _refused(response, field)
    after = client.get(f"/api/v1/households/{registered['id']}", headers=headers).json()
    assert after["members"][0] == head


@pytest.mark.parametrize(("changes", "field"), [
    ({"consent": None}, "consent"),
    ({"arrival_date": None}, "arrival_date"),  # not a field of an update: refused by name
    ({"status": None}, "status"),
    ({"origin_pcode": "SY0700"}, "origin_pcode"),  # admin2, not admin3
    ({"displacement_date": "2025-12-05"}, "displacement_date"),  # after the arrival
])
def test_api_refuses_bad_household_changes(client: TestClient, world: World,
                                           token_for: Headers, registered: dict[str, Any],
                                           changes: dict[str, Any], field: str) -> None:
    headers = token_for(world.registrar)
    _refused(client.patch(f"/api/v1/households/{registered['id']}", json=changes,
                          headers=headers), field)
    after = client.get(f"/api/v1/households/{registered['id']}", headers=headers).json()
    assert after == registered


@pytest.mark.parametrize(("changes", "field"), [
    ({"given_name_ar": "Mohammad"}, "given_name_ar"),  # not in Arabic script
    ({"family_name_en": "x" * 101}, "family_name_en"),
    ({"date_of_birth": (dt.date.today() + dt.timedelta(days=1)).isoformat()},
     "date_of_birth"),
    ({"date_of_birth": "1899-12-31"}, "date_of_birth"),
    ({"document_type": None}, "document_type"),  # the head holds a document number
    ({"phone": "12"}, "phone"),
    ({"specific_needs": ["XX"]}, "specific_needs"),
])
def test_api_refuses_member_changes_registration_refuses(
        client: TestClient, world: World, token_for: Headers, registered: dict[str, Any],
        changes: dict[str, Any], field: str) -> None:
    headers = token_for(world.registrar)
    head = registered["members"][0]
    _refused(client.patch(f"/api/v1/individuals/{head['id']}", json=changes, headers=headers),
             field)
    after = client.get(f"/api/v1/households/{registered['id']}", headers=headers).json()
    assert after["members"][0] == head


def test_api_valid_updates(client: TestClient, world: World, token_for: Headers,
                           registered: dict[str, Any]) -> None:
    headers = token_for(world.registrar)
    household = client.patch(f"/api/v1/households/{registered['id']}", headers=headers,
                             json={"origin_pcode": "", "origin_locality": " Saraqib ",
                                   "displacement_date": "2025-11-30"})
    assert household.status_code == 200, household.text
    assert household.json()["origin_pcode"] is None
    assert household.json()["origin_locality"] == "Saraqib"
    assert household.json()["displacement_date"] == "2025-11-30"
    spouse = registered["members"][1]
    person = client.patch(f"/api/v1/individuals/{spouse['id']}", headers=headers, json={
        "given_name_ar": "فاطمه", "date_of_birth": "1990-04-12", "sex": "F"})
    assert person.status_code == 200, person.text
    # A date sent without the flag is exact, as in a registration.
    assert person.json()["date_of_birth"] == "1990-04-12"
    assert person.json()["dob_estimated"] is False
    # Consent sent in part: what is not sent takes the consent's defaults.
    consent = client.patch(f"/api/v1/households/{registered['id']}", headers=headers,
                           json={"consent": {"registration": True}})
    assert consent.status_code == 200, consent.text
    assert not consent.json()["consent_sharing"] and consent.json()["consent_purposes"] == []


# --- the service: the rules, one at a time -----------------------------------------------------

def test_empty_origin_is_stored_as_none_and_a_code_is_normalised(
        db: Session, world: World, cipher: FieldCipher) -> None:
    household = register(db, world, cipher)
    for empty in ("", "   ", None):
        household.origin_pcode = "SY070001"
        assert update_household(db, world, cipher, household,
                                origin_pcode=empty).origin_pcode is None
        db.refresh(household)
        assert household.origin_pcode is None
    assert update_household(db, world, cipher, household,
                            origin_pcode=" sy070000 ").origin_pcode == "SY070000"


def test_displacement_date_rules(db: Session, world: World, cipher: FieldCipher) -> None:
    household = register(db, world, cipher)
    future = dt.date.today() + dt.timedelta(days=3)
    for bad in (dt.date(2025, 12, 4), future):
        with pytest.raises(ValidationFailed) as refused:
            update_household(db, world, cipher, household, displacement_date=bad.isoformat())
        assert refused.value.field == "displacement_date"
    assert household.displacement_date == dt.date(2025, 12, 1)
    cleared = update_household(db, world, cipher, household, displacement_date=None)
    assert cleared.displacement_date is None


def test_names_checked_and_search_keys_follow(db: Session, world: World,
                                             cipher: FieldCipher) -> None:
    household = register(db, world, cipher)
    head = members(db, household)[0]
    with pytest.raises(ValidationFailed) as latin_in_arabic:
        update_member(db, world, cipher, head, family_name_ar="Hassan")
    assert latin_in_arabic.value.field == "family_name_ar"
    with pytest.raises(ValidationFailed) as no_given_name:
        update_member(db, world, cipher, head, given_name_ar=None, given_name_en="  ")
    assert no_given_name.value.field == "given_name"
    assert head.given_name_en == "Mohammad" and head.family_name_ar == "الحسن"
    updated = update_member(db, world, cipher, head, family_name_ar=" الخطيب ",
                            given_name_en="Muhammad")
    assert updated.family_name_ar == "الخطيب" and updated.given_name_en == "Muhammad"
    actor = world.p(world.registrar)
    assert service.search(db, actor=actor, query="الخطيب", cipher=cipher).total == 1
    assert service.search(db, actor=actor, query="muhammad", cipher=cipher).total == 1
    assert compact_key(["الخطيب"], arabic=True) in head.name_key_ar
    assert compact_key(["الحسن"], arabic=True) not in head.name_key_ar


def test_birth_rules(db: Session, world: World, cipher: FieldCipher) -> None:
    household = register(db, world, cipher)
    spouse = members(db, household)[1]
    assert spouse.dob_estimated and spouse.date_of_birth == dt.date(1990, 7, 1)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed) as future:
        update_member(db, world, cipher, spouse, date_of_birth=tomorrow.isoformat())
    assert future.value.field == "date_of_birth"
    # Estimated and within this year is today at the latest (the registration's rule).
    next_year = dt.date(tomorrow.year + 1, 1, 1)
    with pytest.raises(ValidationFailed):
        update_member(db, world, cipher, spouse, date_of_birth=next_year.isoformat(),
                      dob_estimated=True)
    assert spouse.date_of_birth == dt.date(1990, 7, 1) and spouse.dob_estimated
    exact = update_member(db, world, cipher, spouse, dob_estimated=False)
    assert exact.date_of_birth == dt.date(1990, 7, 1) and not exact.dob_estimated
    estimated = update_member(db, world, cipher, spouse, date_of_birth="1989-07-01",
                              dob_estimated=True)
    assert estimated.birth_year == 1989 and estimated.dob_estimated


def test_document_and_phone_rules(db: Session, world: World, cipher: FieldCipher) -> None:
    household = register(db, world, cipher)
    head, spouse, _child = members(db, household)
    with pytest.raises(ValidationFailed) as without_type:
        update_member(db, world, cipher, spouse, document_number="A-123")
    assert without_type.value.field == "document_type"
    with pytest.raises(ValidationFailed) as no_digits:
        update_member(db, world, cipher, spouse, document_type="passport",
                      document_number=" -- ")
    assert no_digits.value.field == "document_number"
    assert spouse.document_number_enc is None
    given = update_member(db, world, cipher, spouse, document_type="passport",
                          document_number="n-123 456", phone="0944 000 111")
    assert given.document_number == "N123456" and given.phone == "0944000111"
    # The number cleared with its type, in one update: nothing is left without its type.
    cleared = update_member(db, world, cipher, head, document_type=None, document_number=None,
                            phone="")
    assert cleared.document_number is None and cleared.phone is None
    assert head.document_number_hash is None and head.phone_hash is None


def test_one_head_per_household(db: Session, world: World, cipher: FieldCipher) -> None:
    household = register(db, world, cipher)
    head, spouse, _child = members(db, household)
    with pytest.raises(ValidationFailed) as second_head:
        update_member(db, world, cipher, spouse, relationship="head")
    assert second_head.value.field == "relationship"
    assert spouse.relationship == Relationship.spouse
    assert update_member(db, world, cipher, head, relationship="head").relationship == "head"
    update_member(db, world, cipher, head, relationship="spouse")
    assert update_member(db, world, cipher, spouse, relationship="head").relationship == "head"


def test_updates_are_audited_with_their_fields(db: Session, world: World,
                                               cipher: FieldCipher) -> None:
    household = register(db, world, cipher)
    head = members(db, household)[0]
    update_member(db, world, cipher, head, given_name_en="Muhammad", phone="0944000111")
    update_household(db, world, cipher, household, origin_pcode="")
    with pytest.raises(ValidationFailed):
        update_member(db, world, cipher, head, sex=None)
    records = list(db.scalars(select(AuditRecord).where(AuditRecord.action == "people.update")
                              .order_by(AuditRecord.id)))
    assert [(r.object_type, r.detail["fields"]) for r in records] == [
        ("individual", ["given_name_en", "phone"]), ("household", ["origin_pcode"])]
    assert "Muhammad" not in str(records[0].detail)


# --- the command line ---------------------------------------------------------------------------

def _registered_on_the_cli(real_db: RealDatabase, tmp_path: Path) -> tuple[str, list[int]]:
    path = tmp_path / "household.json"
    path.write_text(json.dumps(household_payload(real_db.site_codes[0])), encoding="utf-8")
    done = runner.invoke(app, ["people", "register", str(path), "--as", real_db.registrar_email])
    assert done.exit_code == 0, done.output
    number = f"{real_db.site_codes[0]}-000001"
    with session_scope(real_db.url) as db:
        ids = list(db.scalars(select(Individual.id).join(Household).where(
            Household.registration_number == number).order_by(Individual.id)))
    return number, ids


def test_cli_update_household(real_db: RealDatabase, tmp_path: Path) -> None:
    number, _ids = _registered_on_the_cli(real_db, tmp_path)
    as_reg = ["--as", real_db.registrar_email]
    done = runner.invoke(app, ["people", "update", number, *as_reg, "--set", "origin_pcode=",
                               "--set", "displacement_date=2025-11-30",
                               "--set", "shelter_lon=36.61"])
    assert done.exit_code == 0, done.output
    assert "displacement_date, origin_pcode, shelter_lon" in done.stdout
    changes = tmp_path / "changes.json"
    changes.write_text(json.dumps({"consent": {"registration": True, "sharing": False},
                                   "origin_locality": "Saraqib"}), encoding="utf-8")
    from_file = runner.invoke(app, ["people", "update", number, *as_reg, "--file",
                                    str(changes), "--set", "origin_locality=Maarrat"])
    assert from_file.exit_code == 0, from_file.output
    with session_scope(real_db.url) as db:
        household = db.scalar(select(Household).where(
            Household.registration_number == number))
        assert household is not None
        assert household.origin_pcode is None and household.shelter_lon == 36.61
        assert household.displacement_date == dt.date(2025, 11, 30)
        assert household.origin_locality == "Maarrat" and not household.consent_sharing

    # The error names the field (or the option) at fault; nothing is written.
    for args, field in ((["--set", "status=departed"], "status"),
                        (["--set", "displacement_date=yesterday"], "displacement_date"),
                        (["--set", "displacement_date=2025-12-09"], "displacement_date"),
                        (["--set", "consent="], "consent"),
                        (["--set", "origin_pcode"], "--set"),
                        ([], "--set")):
        refused = runner.invoke(app, ["people", "update", number, *as_reg, *args])
        assert refused.exit_code == 2, (args, refused.output)
        assert field in refused.output, (args, refused.output)
    denied = runner.invoke(app, ["people", "update", number, "--as", real_db.liaison_email,
                                 "--set", "origin_locality=X"])
    assert denied.exit_code == 2
    with session_scope(real_db.url) as db:
        household = db.scalar(select(Household).where(
            Household.registration_number == number))
        assert household is not None and household.status == "present"
        assert household.displacement_date == dt.date(2025, 11, 30)
        assert household.origin_locality == "Maarrat" and household.consent_registration


def test_cli_update_member(real_db: RealDatabase, tmp_path: Path) -> None:
    _number, (head, spouse, _child) = _registered_on_the_cli(real_db, tmp_path)
    as_reg = ["--as", real_db.registrar_email]
    done = runner.invoke(app, ["people", "update-member", str(head), *as_reg,
                               "--set", "given_name_en=Muhammad",
                               "--set", "specific_needs=SM;pg", "--set", "dob_estimated=false",
                               "--set", "date_of_birth=1985-03-04"])
    assert done.exit_code == 0, done.output
    assert f"individual {head} updated" in done.stdout
    with session_scope(real_db.url) as db:
        person = db.get(Individual, head)
        assert person is not None
        assert person.given_name_en == "Muhammad" and person.specific_needs == ["SM", "PG"]
        assert person.date_of_birth == dt.date(1985, 3, 4)

    nulls = tmp_path / "nulls.json"
    nulls.write_text(json.dumps({"date_of_birth": None}), encoding="utf-8")
    for member, args, field in (
            (head, ["--file", str(nulls)], "date_of_birth"),
            (head, ["--set", "sex="], "sex"),
            (head, ["--set", "given_name_ar=Mohammad"], "given_name_ar"),
            (spouse, ["--set", "relationship=head"], "relationship"),
            (head, ["--set", "nickname=Abu Ali"], "nickname")):
        refused = runner.invoke(app, ["people", "update-member", str(member), *as_reg, *args])
        assert refused.exit_code == 2, (args, refused.output)
        assert field in refused.output, (args, refused.output)
    with session_scope(real_db.url) as db:
        person = db.get(Individual, head)
        assert person is not None and person.given_name_ar == "مُحَمَّد"
        assert person.date_of_birth == dt.date(1985, 3, 4)
