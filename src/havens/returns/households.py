"""Finding the household a return record is about, within the caller's organisation.

Households hold personal data, so intentions and returns are recorded by the registering
organisation: its users with ``people.personal``, or the operator naming the organisation.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.exceptions import NotFound, ValidationFailed
from havens.orgs.permissions import Principal
from havens.people import service as people_service
from havens.people.models import Household
from havens.returns.service import acting_organisation


def organisation_of_records(db: Session, *, actor: Principal, acronym: str | None) -> int:
    """The organisation whose households the caller may act on."""
    if actor.organisation_id is not None:
        return people_service.personal_organisation(actor)
    return acting_organisation(db, actor=actor, acronym=acronym).id


def find_household(db: Session, *, organisation_id: int, household_id: int | None = None,
                   registration_number: str | None = None, household_ref: str | None = None,
                   field: str = "household") -> Household:
    query = select(Household).where(Household.organisation_id == organisation_id)
    if household_id is not None:
        query = query.where(Household.id == household_id)
    elif registration_number:
        query = query.where(Household.registration_number == registration_number.strip().upper())
    elif household_ref:
        query = query.where(Household.household_ref == household_ref.strip())
    else:
        raise ValidationFailed("Name the household.", field=field)
    household = db.scalar(query)
    if household is None:
        which = household_id or registration_number or household_ref
        raise NotFound(f"No household {which} registered by your organisation.", field=field)
    return household
