"""Households and members as the API shows them to those who may see personal data."""

from __future__ import annotations

from collections.abc import Sequence

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


def site_and_org_codes(db: Session, households: Sequence[Household]
                       ) -> tuple[dict[int, str], dict[int, str]]:
    """Site codes and organisation acronyms of ``households``, in two queries for all of them."""
    sites = {i: code for i, code in db.execute(select(Site.id, Site.code).where(
        Site.id.in_({h.site_id for h in households})))}
    orgs = {i: acronym for i, acronym in db.execute(select(Organisation.id, Organisation.acronym)
                                                    .where(Organisation.id.in_(
                                                        {h.organisation_id for h in households})))}
    return sites, orgs


def household_read(db: Session, household: Household, cipher: FieldCipher, *,
                   codes: tuple[dict[int, str], dict[int, str]] | None = None) -> HouseholdRead:
    """``codes`` (from :func:`site_and_org_codes`) saves two queries per household in lists."""
    sites, orgs = codes or site_and_org_codes(db, [household])
    return HouseholdRead(
        id=household.id, registration_number=household.registration_number,
        household_ref=household.household_ref, site_code=sites.get(household.site_id, ""),
        organisation=orgs.get(household.organisation_id, ""),
        origin_pcode=household.origin_pcode, origin_locality=household.origin_locality,
        displacement_date=household.displacement_date, arrival_date=household.arrival_date,
        shelter_lon=household.shelter_lon, shelter_lat=household.shelter_lat,
        status=household.status, consent_registration=household.consent_registration,
        consent_sharing=household.consent_sharing,
        consent_purposes=list(household.consent_purposes or []),
        consent_given_by=household.consent_given_by, consent_at=household.consent_at,
        members=[individual_read(m, cipher) for m in household.members],
    )
