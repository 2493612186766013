"""Registering, reading, searching, updating and moving households.

Access (``havens.people.access``; the rules are in ``havens.orgs.policy``): personal data
(names, dates of birth, phone, documents) is for users of the registering organisation whose
role has ``people.personal``; a household of another organisation answers ``NotFound``. Other
organisations read households only through a data-sharing agreement (``havens.sharing``).
Everyone else sees aggregates only (``havens.people.occupancy``). Every read of personal data
and every change writes an audit record listing household and individual ids — never names.

Search finds the people who count: a registration merged into another (a confirmed duplicate,
``havens.people.merges``) is found as the one kept, yet still reads by its id, saying where it
went. Moving households is in ``havens.people.movements``; both modules' functions are
re-exported here, where the rest of the code calls them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from havens.audit import service as audit
from havens.exceptions import Conflict, NotFound, ValidationFailed
from havens.geo import service as geo_service
from havens.orgs.permissions import Principal
from havens.people import names
from havens.people.access import acting_organisation as acting_organisation
from havens.people.access import entitled_household as entitled_household
from havens.people.access import open_site_by_code
from havens.people.access import personal_organisation as personal_organisation
from havens.people.access import site_by_code as site_by_code
from havens.people.crypto import FieldCipher, cipher_for, normalise_document, normalise_phone
from havens.people.merges import household_reads, not_merged
from havens.people.models import Household, Individual
from havens.people.movements import depart_household as depart_household
from havens.people.movements import move_household as move_household
from havens.people.records import NAME_PARTS, check_row
from havens.people.schemas import (
    HouseholdCreate,
    HouseholdRead,
    SearchPage,
)
from havens.people.updates import update_household as update_household
from havens.people.updates import update_individual as update_individual
from havens.people.writer import write_rows

_own_household = entitled_household  # the name other modules of the domain used


# --- reading ---------------------------------------------------------------------------------

def audit_read(db: Session, *, actor: Principal, households: Sequence[Household],
                purpose: str) -> None:
    if not households:
        return
    audit.record(db, actor=actor, action="people.read", object_type="household",
                 object_id=households[0].id if len(households) == 1 else None,
                 detail={"purpose": purpose,
                         "households": [h.id for h in households],
                         "individuals": [m.id for h in households for m in h.members]})


def get_household(db: Session, *, actor: Principal, household_id: int,
                  cipher: FieldCipher | None = None) -> HouseholdRead:
    household = entitled_household(db, actor=actor, household_id=household_id)
    audit_read(db, actor=actor, households=[household], purpose="view")
    return household_reads(db, [household], cipher or cipher_for())[0]


def household_id_for(db: Session, *, actor: Principal, registration_number: str) -> int:
    """The id of one of the caller's organisation's households, by registration number."""
    org_id = personal_organisation(actor)
    household_id = db.scalar(select(Household.id).where(
        Household.registration_number == registration_number.strip().upper(),
        Household.organisation_id == org_id))
    if household_id is None:
        raise NotFound(f"No household {registration_number}.", field="registration_number")
    return household_id


def get_by_registration_number(db: Session, *, actor: Principal, registration_number: str,
                               cipher: FieldCipher | None = None) -> HouseholdRead:
    household_id = household_id_for(db, actor=actor, registration_number=registration_number)
    return get_household(db, actor=actor, household_id=household_id, cipher=cipher)


def search(
    db: Session, *, actor: Principal, query: str | None = None, phone: str | None = None,
    document_number: str | None = None, site_code: str | None = None, page: int = 1,
    page_size: int = 20, cipher: FieldCipher | None = None,
) -> SearchPage:
    """Households of the caller's organisation matching a registration number or a name
    (Arabic or Latin, any spacing or diacritics), or exactly a phone or document number.

    Only the people who count are found: not a household merged into another, nor a household
    by a member merged into someone else (the one kept is found instead)."""
    org_id = personal_organisation(actor)
    cipher = cipher or cipher_for()
    page, page_size = max(page, 1), min(max(page_size, 1), 100)
    wanted = select(Individual.household_id).where(Individual.organisation_id == org_id,
                                                   not_merged(Individual))
    conditions: list[Any] = []
    if query and query.strip():
        text = query.strip()
        by_number = select(Household.id).where(
            Household.organisation_id == org_id,
            Household.registration_number.ilike(f"%{_like(text.upper())}%", escape="\\"))
        tokens = names.query_tokens(text)
        if tokens:
            column = Individual.name_key_ar if names.is_arabic(text) else Individual.name_key_en
            by_name = wanted.where(*[column.like(f"%{_like(t)}%", escape="\\") for t in tokens])
            conditions.append(or_(Household.id.in_(by_number), Household.id.in_(by_name)))
        else:
            conditions.append(Household.id.in_(by_number))
    if phone:
        hashes = cipher.blind_indexes(normalise_phone(phone), field_name="phone")
        conditions.append(Household.id.in_(wanted.where(Individual.phone_hash.in_(hashes))))
    if document_number:
        hashes = cipher.blind_indexes(normalise_document(document_number),
                                      field_name="document_number")
        conditions.append(Household.id.in_(
            wanted.where(Individual.document_number_hash.in_(hashes))))
    if not conditions:
        raise ValidationFailed("Search by a name, a registration number, a phone or a document "
                               "number.", field="q")
    base: Select[Any] = select(Household).where(Household.organisation_id == org_id,
                                                not_merged(Household), *conditions)
    if site_code:
        base = base.where(Household.site_id == site_by_code(db, code=site_code).id)
    total = int(db.scalar(select(func.count()).select_from(base.subquery())) or 0)
    households = list(db.scalars(base.order_by(Household.registration_number).offset(
        (page - 1) * page_size).limit(page_size).options(selectinload(Household.members))))
    audit_read(db, actor=actor, households=households, purpose="search")
    return SearchPage(total=total, page=page, page_size=page_size,
                      items=household_reads(db, households, cipher))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- registering and changing ----------------------------------------------------------------

def _member_row(data: HouseholdCreate, index: int) -> dict[str, Any]:
    member = data.members[index]
    raw: dict[str, Any] = {
        "household_ref": data.household_ref, "site_code": data.site_code,
        "origin_pcode": data.origin_pcode, "origin_locality": data.origin_locality,
        "displacement_date": data.displacement_date, "arrival_date": data.arrival_date,
        "relationship": member.relationship.value, "sex": member.sex.value,
        "date_of_birth": member.date_of_birth or member.birth_year,
        "dob_estimated": "yes" if member.dob_estimated else "",
        "specific_needs": ";".join(member.specific_needs), "phone": member.phone,
        "document_type": member.document_type.value if member.document_type else None,
        "document_number": member.document_number,
        "consent_sharing": "yes" if data.consent.sharing else "no",
        "consent_purposes": ";".join(p.value for p in data.consent.purposes),
        "consent_given_by": data.consent.given_by,
    }
    for part in NAME_PARTS:
        for lang in ("ar", "en"):
            raw[f"{part}_{lang}"] = getattr(member, f"{part}_{lang}")
    return raw


def register_household(
    db: Session, *, actor: Principal, data: HouseholdCreate, organisation: str | None = None,
    cipher: FieldCipher | None = None, today: dt.date | None = None,
) -> HouseholdRead:
    """Register a household with its members in one step."""
    org = acting_organisation(db, actor=actor, action="people.register",
                              organisation=organisation)
    if not data.consent.registration:
        raise ValidationFailed("Registration needs the household's consent.",
                               field="consent.registration")
    cipher = cipher or cipher_for()
    site = open_site_by_code(db, code=data.site_code)
    if data.origin_pcode:
        geo_service.check_pcodes(db, pcodes=[data.origin_pcode], level=3, field="origin_pcode")
    if data.household_ref is None:
        data = data.model_copy(update={"household_ref": uuid.uuid4().hex})
    assert data.household_ref is not None
    today = today or dt.date.today()
    rows = []
    for index in range(len(data.members)):
        row = check_row(_member_row(data, index), today=today, consent_recorded=True)
        if row.problems:
            column, reason = row.problems[0]
            raise ValidationFailed(f"Member {index + 1}: {column} {reason}.",
                                   field=f"members[{index}].{column}", details=[
                                       {"column": c, "reason": r} for c, r in row.problems])
        row.row_key = ""  # registered by hand: no file row to recognise
        rows.append(row)
    if sum(1 for r in rows if r.member["relationship"].value == "head") > 1:
        raise ValidationFailed("A household has one head.", field="members")
    if db.scalar(select(Household.id).where(Household.organisation_id == org.id,
                                            Household.household_ref == data.household_ref)):
        raise Conflict(f"Household {data.household_ref} is already registered.",
                       field="household_ref")
    try:
        with db.begin_nested():
            result = write_rows(db, rows=rows, organisation_id=org.id,
                                sites={site.code: site}, cipher=cipher)
    except IntegrityError as exc:  # registered at the same moment by another session
        raise Conflict(f"Household {data.household_ref} is already registered.",
                       field="household_ref") from exc
    household = db.scalar(select(Household).where(Household.id == result.household_ids[0])
                          .options(selectinload(Household.members)))
    assert household is not None
    household.shelter_lon, household.shelter_lat = data.shelter_lon, data.shelter_lat
    household.consent_given_by = data.consent.given_by
    db.flush()
    audit.record(db, actor=actor, action="people.register", object_type="household",
                 object_id=household.id, detail={
                     "registration_number": household.registration_number,
                     "organisation": org.acronym, "site": site.code,
                     "individuals": [m.id for m in household.members]})
    return household_reads(db, [household], cipher)[0]


#: Fields a record cannot be without: an update may change them, not empty them.
