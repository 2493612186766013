"""Changing a registered household or person under the rules of registration.

An update is checked as a registration is (``havens.people.rules``): names, dates of birth,
documents and phones, one head per household, an admin3 origin; required fields cannot be
emptied and consent to registration cannot be withdrawn. Nothing changes on a refusal, and every
change is audited. ``havens.people.service`` is where other code calls these from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.database import utcnow
from havens.exceptions import NotFound, ValidationFailed
from havens.geo import service as geo_service
from havens.orgs.permissions import Principal, require
from havens.people.access import entitled_household, personal_organisation
from havens.people.crypto import FieldCipher, cipher_for
from havens.people.merges import household_reads, individual_merged_into, not_merged
from havens.people.models import DocumentType, Household, Individual, Relationship
from havens.people.records import NAME_PARTS, Problems
from havens.people.rules import (
    DOCUMENT_WITHOUT_TYPE,
    check_birth,
    check_document,
    check_household,
    check_name_part,
    check_phone,
)
from havens.people.schemas import (
    HouseholdRead,
    HouseholdUpdate,
    IndividualRead,
    IndividualUpdate,
)
from havens.people.specific_needs import check_codes
from havens.people.views import individual_read

_REQUIRED_HOUSEHOLD_FIELDS = ("consent",)
_REQUIRED_MEMBER_FIELDS = ("relationship", "sex", "date_of_birth", "dob_estimated")
_NAME_FIELDS = tuple(f"{part}_{lang}" for part in NAME_PARTS for lang in ("ar", "en"))
_DATE_COLUMNS = ("arrival_date", "displacement_date")


def update_household(db: Session, *, actor: Principal, household_id: int, data: HouseholdUpdate,
                     cipher: FieldCipher | None = None, today: dt.date | None = None
                     ) -> HouseholdRead:
    """Change a household's own fields with the rules of registration: the origin is an admin3
    P-code (an empty one clears it), the displacement date is neither in the future nor after
    the arrival, and consent can be changed but neither emptied nor withdrawn. Nothing changes
    on a refusal."""
    require(actor, "people.register")
    household = entitled_household(db, actor=actor, household_id=household_id,
                                   action="people.register")
    changes = data.model_dump(exclude_unset=True)
    fields = sorted(changes)
    _refuse_nulls(changes, _REQUIRED_HOUSEHOLD_FIELDS)
    if "origin_pcode" in changes:
        changes["origin_pcode"] = _origin_pcode(db, changes["origin_pcode"])
    if "origin_locality" in changes:
        changes["origin_locality"] = _text(changes["origin_locality"])
    if "displacement_date" in changes:
        _check_displacement(household, changes["displacement_date"], today or dt.date.today())
    changes.pop("consent", None)
    if data.consent is not None and not data.consent.registration:
        # Registration stands on consent (SECURITY.md, 18): a household that withdraws it is
        # taken off the register, not kept with its consent marked "no".
        raise ValidationFailed("Consent to registration cannot be withdrawn by an update: a "
                               "household that withdraws it is deregistered.",
                               field="consent.registration")
    # From the model, not the dump: the dump leaves out the consent's defaults not sent.
    if data.consent is not None:
        household.consent_registration = data.consent.registration
        household.consent_sharing = data.consent.sharing
        household.consent_purposes = [p.value for p in data.consent.purposes]
        household.consent_given_by = data.consent.given_by
        household.consent_at = utcnow()
    for key, value in changes.items():
        setattr(household, key, value)
    db.flush()
    audit.record(db, actor=actor, action="people.update", object_type="household",
                 object_id=household.id, detail={"fields": fields})
    return household_reads(db, [household], cipher or cipher_for())[0]


def _origin_pcode(db: Session, value: str | None) -> str | None:
    """An admin3 P-code, or None for an empty one: "" is no P-code, and as a foreign key it
    would name an area that does not exist."""
    text = _text(value)
    if text is None:
        return None
    return geo_service.check_pcodes(db, pcodes=[text], level=3, field="origin_pcode")[0]


def _check_displacement(household: Household, displacement: dt.date | None,
                        today: dt.date) -> None:
    """The registration's date rules (``check_household``) for the household's dates."""
    _fields, problems = check_household({
        "arrival_date": household.arrival_date.isoformat(),
        "displacement_date": displacement.isoformat() if displacement else ""},
        today, None)
    # Only the dates are given: the other cells' problems are not this update's.
    _refuse([(column, reason) for column, reason in problems if column in _DATE_COLUMNS])


def update_individual(db: Session, *, actor: Principal, individual_id: int,
                      data: IndividualUpdate, cipher: FieldCipher | None = None,
                      today: dt.date | None = None) -> IndividualRead:
    """Change a member with the rules of registration (``havens.people.rules``): name parts,
    the date of birth, specific needs, phone, a document number with its type, and one head
    per household. Required fields can be changed but not emptied. Nothing changes on a
    refusal: every value is checked before any is set."""
    require(actor, "people.register")
    org_id = personal_organisation(actor)
    cipher = cipher or cipher_for()
    person = db.scalar(select(Individual).where(Individual.id == individual_id,
                                                Individual.organisation_id == org_id))
    if person is None:
        raise NotFound("No such individual.", field="individual_id")
    changes = data.model_dump(exclude_unset=True)
    _refuse_nulls(changes, _REQUIRED_MEMBER_FIELDS)
    values = {**_name_values(person, changes),
              **_birth_values(person, changes, today or dt.date.today())}
    for key in ("relationship", "sex", "document_type"):
        if key in changes:
            values[key] = changes[key]
    if "specific_needs" in changes:
        values["specific_needs"] = check_codes(changes["specific_needs"] or [])
    secrets = _secret_values(person, changes, document_type=values.get(
        "document_type", person.document_type))
    if values.get("relationship") == Relationship.head:
        _check_one_head(db, person)
    for key, value in values.items():
        setattr(person, key, value)
    for name, secret in secrets.items():
        _set_secret(person, name, secret, cipher)
    db.flush()
    audit.record(db, actor=actor, action="people.update", object_type="individual",
                 object_id=person.id, detail={"household": person.household_id,
                                              "fields": sorted(changes)})
    return individual_read(person, cipher).model_copy(
        update={"merged_into": individual_merged_into(db, person)})


def _name_values(person: Individual, changes: dict[str, Any]) -> dict[str, Any]:
    """The names and their search keys after ``changes``, each part checked as a
    registration's (``check_name_part``); nothing when no name changes."""
    if not any(name in changes for name in _NAME_FIELDS):
        return {}
    values: dict[str, Any] = {}
    keys_ar, keys_en = [], []
    problems: Problems = []
    for part in NAME_PARTS:
        ar_field, en_field = f"{part}_ar", f"{part}_en"
        ar, en = (_text(changes[f]) if f in changes else getattr(person, f)
                  for f in (ar_field, en_field))
        values[ar_field], values[en_field], key_ar, key_en, found = check_name_part(
            part, "", ar or "", en or "")
        if ar_field in changes or en_field in changes:  # parts held were checked before
            problems += found
        keys_ar.append(key_ar)
        keys_en.append(key_en)
    if not (values["given_name_ar"] or values["given_name_en"]):
        problems.append(("given_name", "is required"))
    _refuse(problems)
    values["name_key_ar"], values["name_key_en"] = "".join(keys_ar), "".join(keys_en)
    return values


def _birth_values(person: Individual, changes: dict[str, Any], today: dt.date
                  ) -> dict[str, Any]:
    """The date of birth and its flag after ``changes``, by the registration's rule
    (``check_birth``: not before 1900, not in the future). A date sent without the flag is
    exact, as in a registration; the flag sent alone applies to the date held."""
    if "date_of_birth" not in changes and "dob_estimated" not in changes:
        return {}
    born: dt.date = changes.get("date_of_birth", person.date_of_birth)
    estimated = changes.get("dob_estimated",
                            False if "date_of_birth" in changes else person.dob_estimated)
    born_checked, estimated, problems = check_birth(
        born.isoformat(), "", "yes" if estimated else "no", today)
    _refuse(problems)
    return {"date_of_birth": born_checked, "dob_estimated": estimated}


def _secret_values(person: Individual, changes: dict[str, Any],
                   document_type: DocumentType | None) -> dict[str, str | None]:
    """Phone and document number normalised, with the registration's rules (``RowChecker``):
    6 to 15 digits in a phone, letters or digits in a document number, whose type is given."""
    problems: Problems = []
    secrets: dict[str, str | None] = {}
    if "phone" in changes:
        secrets["phone"], found = check_phone(_text(changes["phone"]) or "")
        problems += found
    if "document_number" in changes:
        secrets["document_number"], found = check_document(
            _text(changes["document_number"]) or "")
        problems += found
    has_number = (secrets["document_number"] is not None if "document_number" in secrets
                  else person.document_number_enc is not None)
    if has_number and document_type is None and (
            "document_number" in changes or "document_type" in changes):
        problems.append(DOCUMENT_WITHOUT_TYPE)
    _refuse(problems)
    return secrets


def _check_one_head(db: Session, person: Individual) -> None:
    """A household has one head, as registration says: another member already head refuses
    ``person`` becoming it."""
    # The household's row locked: two updates at once cannot each name a different head.
    db.execute(select(Household.id).where(Household.id == person.household_id)
               .with_for_update())
    other = db.scalar(select(Individual.id).where(
        Individual.household_id == person.household_id, Individual.id != person.id,
        Individual.relationship == Relationship.head, not_merged(Individual)).limit(1))
    if other is not None:
        raise ValidationFailed("A household has one head: change the head's relationship "
                               "first.", field="relationship")


def _refuse_nulls(changes: dict[str, Any], required: Sequence[str]) -> None:
    for name in required:
        if name in changes and changes[name] is None:
            raise ValidationFailed(f"{name} is required: it can be changed, not emptied.",
                                   field=name)


def _refuse(problems: Problems) -> None:
    """The rules' first problem as the error (the registration's wording), all in details."""
    if problems:
        column, reason = problems[0]
        raise ValidationFailed(f"{column} {reason}.", field=column, details=[
            {"column": c, "reason": r} for c, r in problems])


def _text(value: str | None) -> str | None:
    """Stripped text, None for none: a blank cell is no value, as in an import."""
    return (value or "").strip() or None


def _set_secret(person: Individual, name: str, value: str | None, cipher: FieldCipher) -> None:
    setattr(person, f"{name}_enc", cipher.encrypt(value, field_name=name) if value else None)
    setattr(person, f"{name}_hash",
            cipher.blind_index(value, field_name=name) if value else None)
