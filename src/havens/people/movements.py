"""Moving households: relocation to another site and departure, each a :class:`Movement`.

The flows (``havens.people.occupancy``) are counted from the movements, so a movement records
the members who count at the time — not those merged into someone else, who are counted with
the record they were merged into — and a household merged into another moves no more (its
movements are the kept household's). Re-exported by ``havens.people.service``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.database import utcnow
from havens.exceptions import Conflict, ValidationFailed
from havens.geo import service as geo_service
from havens.orgs.permissions import Principal, require
from havens.people.access import entitled_household, open_site_by_code, site_by_code
from havens.people.crypto import FieldCipher, cipher_for
from havens.people.merges import counting_members, household_reads
from havens.people.models import (
    DestinationType,
    Household,
    HouseholdStatus,
    Individual,
    Movement,
    MovementKind,
)
from havens.people.schemas import DepartRequest, HouseholdRead, MoveRequest

_STATUS_AFTER_DEPARTURE = {
    DestinationType.other_site: HouseholdStatus.relocated,
    DestinationType.other_zone: HouseholdStatus.relocated,
    DestinationType.return_to_origin: HouseholdStatus.returned,
    DestinationType.abroad: HouseholdStatus.departed,
    DestinationType.unknown: HouseholdStatus.departed,
}


def _movable(db: Session, *, actor: Principal, household_id: int, moved_on: dt.date
             ) -> Household:
    """A present household, not merged away, that the caller may change; the date checked."""
    require(actor, "people.register")
    household = entitled_household(db, actor=actor, household_id=household_id,
                                   action="people.register")
    if household.merged_into_id is not None:
        raise Conflict("The household was merged into another registration: record the "
                       "movement there, or undo the merge first.", field="household_id")
    if household.status != HouseholdStatus.present:
        raise Conflict(f"The household is {household.status.value}, not present.",
                       field="status")
    if moved_on < household.arrival_date:
        raise ValidationFailed("The date is before the household's arrival.", field="moved_on")
    if moved_on > dt.date.today():
        raise ValidationFailed("The date is in the future.", field="moved_on")
    return household


def _members_present(db: Session, household: Household, *, site_id: int, present: bool) -> None:
    """Members follow their household; one merged into another registration stays absent
    (its person is counted where it was merged)."""
    db.execute(update(Individual).where(Individual.household_id == household.id).values(
        site_id=site_id, updated_at=utcnow(),
        present=case((Individual.merged_into_id.is_(None), present), else_=False)))


def _read(db: Session, household: Household, cipher: FieldCipher | None) -> HouseholdRead:
    db.refresh(household, ["members"])
    return household_reads(db, [household], cipher or cipher_for())[0]


def move_household(db: Session, *, actor: Principal, household_id: int, data: MoveRequest,
                   cipher: FieldCipher | None = None) -> HouseholdRead:
    """Relocate a present household to another site (within Havens)."""
    household = _movable(db, actor=actor, household_id=household_id, moved_on=data.moved_on)
    target = open_site_by_code(db, code=data.to_site_code, field="to_site_code")
    if target.id == household.site_id:
        raise ValidationFailed("The household is already at that site.", field="to_site_code")
    db.add(Movement(household_id=household.id, kind=MovementKind.relocation,
                    moved_on=data.moved_on, site_id=household.site_id, to_site_id=target.id,
                    details=data.details, individuals=len(counting_members(household)),
                    recorded_by_org_id=household.organisation_id))
    from_site = household.site_id
    household.site_id = target.id
    _members_present(db, household, site_id=target.id, present=True)
    db.flush()
    audit.record(db, actor=actor, action="people.move", object_type="household",
                 object_id=household.id, detail={"from_site": from_site, "to_site": target.id,
                                                 "moved_on": data.moved_on.isoformat()})
    return _read(db, household, cipher)


def depart_household(db: Session, *, actor: Principal, household_id: int, data: DepartRequest,
                     cipher: FieldCipher | None = None) -> HouseholdRead:
    """Record that a household left its site, and where it went."""
    household = _movable(db, actor=actor, household_id=household_id, moved_on=data.moved_on)
    to_site = site_by_code(db, code=data.to_site_code, field="to_site_code").id \
        if data.to_site_code else None
    pcode = None
    if data.destination_pcode:
        pcode = geo_service.check_pcodes(db, pcodes=[data.destination_pcode],
                                         field="destination_pcode")[0]
    if data.destination_country and data.destination_type != DestinationType.abroad:
        raise ValidationFailed("A destination country is for departures abroad.",
                               field="destination_country")
    db.add(Movement(household_id=household.id, kind=MovementKind.departure,
                    moved_on=data.moved_on, site_id=household.site_id, to_site_id=to_site,
                    destination_type=data.destination_type, destination_pcode=pcode,
                    destination_country=(data.destination_country or "").upper() or None,
                    details=data.details, individuals=len(counting_members(household)),
                    recorded_by_org_id=household.organisation_id))
    household.status = _STATUS_AFTER_DEPARTURE[data.destination_type]
    _members_present(db, household, site_id=household.site_id, present=False)
    db.flush()
    audit.record(db, actor=actor, action="people.depart", object_type="household",
                 object_id=household.id, detail={
                     "destination_type": data.destination_type.value,
                     "moved_on": data.moved_on.isoformat()})
    return _read(db, household, cipher)
