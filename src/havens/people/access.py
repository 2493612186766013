"""Who may read and change which households of the people domain.

The rules are in ``havens.orgs.policy``: personal data (names, dates of birth, phone,
documents) is for users of the registering organisation whose role has ``people.personal``; a
household of another organisation answers ``NotFound``. The functions are re-exported by
``havens.people.service``, where the rest of the domain and the other domains use them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from havens.exceptions import NotFound, PermissionDenied, ValidationFailed
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, require
from havens.orgs.policy import personal_data_organisation, require_may
from havens.people.models import Household
from havens.zones.models import Site, SiteStatus


def personal_organisation(actor: Principal) -> int:
    """The organisation whose personal data the caller may see; refuses everyone else."""
    require(actor, "people.personal")
    organisation_id = personal_data_organisation(actor)
    if organisation_id is None:
        raise PermissionDenied("Personal data is shown only to users of the registering "
                               "organisation: act as one (havens people ... --as EMAIL).")
    return organisation_id


def acting_organisation(db: Session, *, actor: Principal, action: str,
                        organisation: str | None = None) -> Organisation:
    """The organisation registering: the caller's own, or for the operator the one named."""
    require(actor, action)
    from havens.orgs import service as org_service

    if actor.organisation_id is not None:
        if organisation and organisation.lower() != _acronym(db, actor.organisation_id).lower():
            raise PermissionDenied("You register for your own organisation only.")
        org = db.get(Organisation, actor.organisation_id)
        assert org is not None
        return org
    if not organisation:
        raise ValidationFailed("Name the registering organisation (--org ACRONYM).",
                               field="organisation")
    found = org_service.get_organisation_by_acronym(db, acronym=organisation)
    assert found is not None
    return found


def _acronym(db: Session, organisation_id: int) -> str:
    return db.scalar(select(Organisation.acronym).where(Organisation.id == organisation_id)) or ""


def site_by_code(db: Session, *, code: str, field: str = "site_code") -> Site:
    site = db.scalar(select(Site).where(Site.code == code.strip().upper()))
    if site is None:
        raise NotFound(f"No site with code {code}.", field=field)
    return site


def open_site_by_code(db: Session, *, code: str, field: str = "site_code") -> Site:
    """A site that takes people: registrations and moves into a planned or closed one are
    refused (a closed site has no capacity; a planned one no services yet)."""
    site = site_by_code(db, code=code, field=field)
    if site.status != SiteStatus.open:
        raise ValidationFailed(f"Site {site.code} is {site.status.value}, not open.",
                               field=field)
    return site


def entitled_household(db: Session, *, actor: Principal, household_id: int,
                       action: str = "people.personal") -> Household:
    """A household the caller may ``action`` (see ``havens.orgs.policy``), else ``NotFound``."""
    personal_organisation(actor)
    household = db.scalar(select(Household).where(Household.id == household_id)
                          .options(selectinload(Household.members)))
    if household is None:
        raise NotFound("No such household.", field="household_id")
    require_may(actor, action, household, what="household", field="household_id")
    return household
