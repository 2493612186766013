"""Households and members as the API shows them to those who may see personal data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.orgs.models import Organisation
from havens.people.crypto import FieldCipher
from havens.people.models import Household, Individual
from havens.people.records import NAME_PARTS
from havens.people.schemas import HouseholdRead, IndividualRead
from havens.zones.models import Site


def individual_read(person: Individual, cipher: FieldCipher) -> IndividualRead:
    return IndividualRead(
        id=person.id, relationship=person.relationship,
        **{f"{p}_{lang}": getattr(person, f"{p}_{lang}") for p in NAME_PARTS
           for lang in ("ar", "en")},
        sex=person.sex,
        date_of_birth=None if person.dob_estimated else person.date_of_birth,
        birth_year=person.date_of_birth.year, dob_estimated=person.dob_estimated,
        specific_needs=list(person.specific_needs or []),
        phone=cipher.decrypt(person.phone_enc, field_name="phone") if person.phone_enc else None,
        document_type=person.document_type,
        document_number=(cipher.decrypt(person.document_number_enc,
                                        field_name="document_number")
                         if person.document_number_enc else None),
    )


def household_read(db: Session, household: Household, cipher: FieldCipher) -> HouseholdRead:
    site_code = db.scalar(select(Site.code).where(Site.id == household.site_id)) or ""
    return HouseholdRead(
        id=household.id, registration_number=household.registration_number,
        household_ref=household.household_ref, site_code=site_code,
        organisation=db.scalar(select(Organisation.acronym).where(
            Organisation.id == household.organisation_id)) or "",
        origin_pcode=household.origin_pcode, origin_locality=household.origin_locality,
        displacement_date=household.displacement_date, arrival_date=household.arrival_date,
        shelter_lon=household.shelter_lon, shelter_lat=household.shelter_lat,
        status=household.status, consent_registration=household.consent_registration,
        consent_sharing=household.consent_sharing,
        consent_purposes=list(household.consent_purposes or []),
        consent_given_by=household.consent_given_by, consent_at=household.consent_at,
        members=[individual_read(m, cipher) for m in household.members],
    )
