"""The one export of personal data: the caller's own organisation's registered individuals.

Only for roles with ``people.personal``, only the caller's organisation's registrations (data
shared by agreements is not re-exported), with a stated purpose that is audited
(:func:`havens.interop.registry.prepare`). Data minimisation: no phone numbers or identity
document numbers (they are stored encrypted and stay so). The columns carry the hashtags the
registration importer reads, so the file can move between Havens instances. Each person once:
a registration merged into another (a confirmed duplicate) is left out.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.exceptions import PermissionDenied
from havens.interop.registry import Column, Export, Params, Row, register
from havens.orgs.permissions import Principal, require
from havens.people.merges import not_merged
from havens.people.models import Household, Individual
from havens.zones.models import Site, Zone

CHUNK = 5_000

COLUMNS = (
    Column("registration_number", "#beneficiary+household+id", "Havens registration number"),
    Column("household_ref", "#beneficiary+household+code",
           "The organisation's own household reference"),
    Column("site_code", "#loc+code", "Site of the household"),
    Column("zone_code", "#loc+code+zone", "Zone of the site"),
    Column("household_status", "#status", "present, departed, returned or relocated"),
    Column("relationship", "#beneficiary+relationship", "Relationship to the head"),
    Column("given_name_ar", "#beneficiary+name+given+i_ar", "Given name (Arabic)"),
    Column("father_name_ar", "#beneficiary+name+father+i_ar", "Father's name (Arabic)"),
    Column("grandfather_name_ar", "#beneficiary+name+grandfather+i_ar",
           "Grandfather's name (Arabic)"),
    Column("family_name_ar", "#beneficiary+name+family+i_ar", "Family name (Arabic)"),
    Column("given_name_en", "#beneficiary+name+given+i_en", "Given name (transliterated)"),
    Column("family_name_en", "#beneficiary+name+family+i_en", "Family name (transliterated)"),
    Column("sex", "#beneficiary+sex", "F or M"),
    Column("date_of_birth", "#date+birth", "Date of birth (1 July when only the year is known)"),
    Column("dob_estimated", "#date+birth+estimated", "yes: the date of birth is estimated"),
    Column("specific_needs", "#beneficiary+needs", "Specific needs, space-separated codes"),
    Column("origin_pcode", "#adm3+code+origin", "Sub-district of origin"),
    Column("displacement_date", "#date+displaced", "Date of displacement"),
    Column("arrival_date", "#date+arrival", "Date of arrival at the site"),
    # Consent travels with the people: the receiving organisation imports it as recorded.
    Column("consent", "#beneficiary+consent", "yes: the household consented to registration"),
    Column("consent_given_by", "#beneficiary+consent+giver", "Who consented"),
    Column("consent_sharing", "#beneficiary+consent+sharing",
           "yes: the household consented to sharing its data with partners"),
    Column("consent_purposes", "#beneficiary+consent+purposes",
           "Purposes consented to, space-separated"),
)


def _columns() -> tuple[object, ...]:
    return (Household.registration_number, Household.household_ref, Site.code, Zone.code,
            Household.status, Individual.relationship, Individual.given_name_ar,
            Individual.father_name_ar, Individual.grandfather_name_ar,
            Individual.family_name_ar, Individual.given_name_en, Individual.family_name_en,
            Individual.sex, Individual.date_of_birth, Individual.dob_estimated,
            Individual.specific_needs, Household.origin_pcode, Household.displacement_date,
            Household.arrival_date, Household.consent_registration, Household.consent_given_by,
            Household.consent_sharing, Household.consent_purposes)


def _scope(actor: Principal, params: Params) -> list[object]:
    require(actor, "people.personal")
    if actor.organisation_id is None:
        raise PermissionDenied("Personal data is exported for an organisation.")
    where: list[object] = [Individual.organisation_id == actor.organisation_id,
                           not_merged(Individual)]
    if params.zone:
        where.append(Zone.code == params.zone.strip().upper())
    return where


def rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    query = (select(*_columns())  # type: ignore[call-overload]
             .select_from(Individual)
             .join(Household, Household.id == Individual.household_id)
             .join(Site, Site.id == Individual.site_id)
             .outerjoin(Zone, Zone.id == Site.zone_id)
             .where(*_scope(actor, params))
             .order_by(Individual.id)
             .execution_options(yield_per=CHUNK, stream_results=True))
    for partition in db.execute(query).partitions(CHUNK):
        yield from partition


def count(db: Session, actor: Principal, params: Params) -> int | None:
    return db.scalar(select(func.count(Individual.id)).select_from(Individual)
                     .join(Site, Site.id == Individual.site_id)
                     .outerjoin(Zone, Zone.id == Site.zone_id)
                     .where(*_scope(actor, params)))  # type: ignore[arg-type]


register(Export(
    name="registered-individuals", title="Registered individuals (personal data)",
    description="Your organisation's registered individuals with their household, one row a "
    "person. Personal data: registrars, coordinators, protection officers and administrators "
    "only; needs a stated purpose, which is recorded in the audit log.",
    columns=COLUMNS, rows=rows, count=count, personal=True, action="people.personal"))
