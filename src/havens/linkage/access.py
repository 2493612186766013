"""Whose individuals a linkage caller may match and review.

A reviewer works over the individuals of their own organisation plus those another organisation
shares with it through a data-sharing agreement in force whose purposes include ``assistance``
(deduplication protects assistance from double registration) and whose fields include names and
dates of birth (without them a pair cannot be reviewed), for households whose consent to sharing
covers assistance — the rules of ``havens.sharing``, read here with their own queries. The
command-line operator may run across all organisations, or for one (``--org``), but reads no
pair's personal data: the detail of a pair is for users entitled to both records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from havens.exceptions import PermissionDenied
from havens.orgs import service as org_service
from havens.orgs.permissions import Principal, require
from havens.orgs.policy import personal_data_organisation
from havens.people.models import ConsentPurpose, Household, Individual
from havens.sharing.models import DataSharingAgreement, SharedField
from havens.zones.models import Site

PURPOSE = ConsentPurpose.assistance.value
NEEDED_FIELDS = {SharedField.names.value, SharedField.dates_of_birth.value}


@dataclass(frozen=True)
class Scope:
    """The individuals in view: all (operator), or an organisation's own plus shared ones."""

    organisation_id: int | None
    shared_households: frozenset[int] = field(default_factory=frozenset)

    def individuals(self, table: Any = Individual) -> ColumnElement[bool]:
        """SQL condition on ``table`` (Individual or an alias of it)."""
        if self.organisation_id is None:
            return true()
        own: ColumnElement[bool] = table.organisation_id == self.organisation_id
        if not self.shared_households:
            return own
        return or_(own, table.household_id.in_(sorted(self.shared_households)))

    def sees(self, individual: Individual) -> bool:
        return (self.organisation_id is None
                or individual.organisation_id == self.organisation_id
                or individual.household_id in self.shared_households)


def shared_households(db: Session, organisation_id: int, today: dt.date | None = None
                      ) -> frozenset[int]:
    """Households of other organisations shared with ``organisation_id`` for deduplication."""
    today = today or dt.date.today()
    found: set[int] = set()
    agreements = db.scalars(select(DataSharingAgreement).where(
        DataSharingAgreement.recipient_org_id == organisation_id))
    for dsa in agreements:
        if not (dsa.in_force(today) and PURPOSE in dsa.purposes
                and set(dsa.fields) >= NEEDED_FIELDS):
            continue
        query = select(Household.id, Household.consent_purposes).where(
            Household.organisation_id == dsa.provider_org_id,
            Household.consent_sharing.is_(True))
        if dsa.zone_id is not None:
            query = query.where(Household.site_id.in_(
                select(Site.id).where(Site.zone_id == dsa.zone_id)))
        # Consent purposes are a JSON list: checked here, the same way on both databases.
        found.update(hid for hid, purposes in db.execute(query) if PURPOSE in (purposes or []))
    return frozenset(found)


def scope_for(db: Session, *, actor: Principal, organisation: str | None = None) -> Scope:
    """The caller's scope; the operator's is everyone's unless it names an organisation."""
    require(actor, "linkage.review")
    if actor.is_system:
        if not organisation:
            return Scope(None)
        org = org_service.get_organisation_by_acronym(db, acronym=organisation)
        assert org is not None
        return Scope(org.id, shared_households(db, org.id))
    own = personal_data_organisation(actor)
    if own is None:
        raise PermissionDenied("Reviewing duplicates needs access to your organisation's "
                               "personal data.")
    if organisation:
        org = org_service.get_organisation_by_acronym(db, acronym=organisation)
        if org is None or org.id != own:
            raise PermissionDenied("You match your own organisation's registry only.",
                                   field="organisation")
    return Scope(own, shared_households(db, own))


def personal_scope(db: Session, *, actor: Principal) -> Scope:
    """The scope of a caller who reads personal data: a named user, never the operator."""
    if actor.is_system:
        require(actor, "linkage.review")
        raise PermissionDenied("Personal data is shown only to users of the registering "
                               "organisation: act as one (--as EMAIL).")
    return scope_for(db, actor=actor)
