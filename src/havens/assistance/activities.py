"""3W activities: who (implementing, funding) does what (sector, activity type) where and when.

A service provider records its own organisation's activities; coordinators and administrators
record anyone's (the cluster's 3W is often compiled by the coordinator from partners' sheets).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.assistance.models import Activity, ActivityStatus, Sector
from havens.assistance.schemas import ActivityCreate, ActivityRead, ActivityUpdate, Reached
from havens.assistance.standards import activity_types
from havens.audit import service as audit
from havens.exceptions import NotFound, PermissionDenied, ValidationFailed
from havens.orgs.models import Organisation, Role
from havens.orgs.permissions import Principal, require
from havens.zones.models import Site, Zone

STAFF_ROLES = (Role.admin, Role.coordinator)
_SPLIT = ("girls", "boys", "women", "men", "older_women", "older_men")


def activity_type_code(sector: Sector, text: str) -> str:
    """The code of an activity type given by code or by label (case-insensitive)."""
    types = activity_types()[sector.value]
    key = text.strip().lower()
    for code, label in types.items():
        if key in (code, label.lower()):
            return code
    raise ValidationFailed(
        f"{text!r} is not an activity type of {sector.value}; use one of: "
        f"{', '.join(types)}.", field="activity_type")


@dataclass
class Lookups:
    """Organisations, zones and sites by their codes, loaded once (imports: once per file)."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    zones: dict[str, Zone] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)

    @classmethod
    def load(cls, db: Session) -> Lookups:
        return cls(orgs={o.acronym.lower(): o for o in db.scalars(select(Organisation))},
                   zones={z.code.upper(): z for z in db.scalars(select(Zone))},
                   sites={s.code.upper(): s for s in db.scalars(select(Site))})

    def zone(self, ref: str | int) -> Zone:
        if isinstance(ref, int) or ref.strip().isdigit():
            found = next((z for z in self.zones.values() if z.id == int(ref)), None)
        else:
            found = self.zones.get(ref.strip().upper())
        if found is None:
            raise ValidationFailed(f"No zone {ref}.", field="zone")
        return found


def _reached_total(reached: Reached) -> int:
    # 3W sheets often fill only some cells of the split: then it may not exceed the total;
    # a complete split must add up to it.
    split = [getattr(reached, k) for k in _SPLIT if getattr(reached, k) is not None]
    complete = len(split) == len(_SPLIT)
    if reached.total is not None and split and (
            sum(split) > reached.total or (complete and sum(split) != reached.total)):
        raise ValidationFailed(f"People reached by sex and age add up to {sum(split)}, not to "
                               f"the total {reached.total}.", field="reached")
    return reached.total if reached.total is not None else sum(split)


def build(actor: Principal, data: ActivityCreate, lookups: Lookups) -> Activity:
    """A new (unsaved) activity, checked; raises ValidationFailed naming the field."""
    implementing = lookups.orgs.get(data.implementing_org.strip().lower())
    if implementing is None:
        raise ValidationFailed(f"No organisation {data.implementing_org}.",
                               field="implementing_org")
    if actor.role not in STAFF_ROLES and implementing.id != actor.organisation_id:
        raise PermissionDenied("You may record only your own organisation's activities.",
                               field="implementing_org")
    funding, donor = None, None
    if data.funding_org:
        funding = lookups.orgs.get(data.funding_org.strip().lower())
        donor = None if funding else data.funding_org.strip()
    zone = lookups.zone(data.zone)
    site = None
    if data.site:
        site = lookups.sites.get(data.site.strip().upper())
        if site is None or site.zone_id != zone.id:
            raise ValidationFailed(f"Site {data.site} is not a site of zone {zone.code}.",
                                   field="site")
    if data.end_date is not None and data.end_date < data.start_date:
        raise ValidationFailed("The activity ends before it starts.", field="end_date")
    code = activity_type_code(data.sector, data.activity_type)
    r = data.reached
    return Activity(
        implementing_org_id=implementing.id, funding_org_id=funding.id if funding else None,
        donor=donor, sector=data.sector, activity_type=code, zone_id=zone.id,
        site_id=site.id if site else None, start_date=data.start_date, end_date=data.end_date,
        quantity=data.quantity, unit=data.unit, reached_total=_reached_total(r),
        reached_girls=r.girls, reached_boys=r.boys, reached_women=r.women, reached_men=r.men,
        reached_older_women=r.older_women, reached_older_men=r.older_men, status=data.status,
        notes=data.notes, created_by_org_id=actor.organisation_id)


def create(db: Session, *, actor: Principal, data: ActivityCreate) -> Activity:
    require(actor, "assistance.write")
    activity = build(actor, data, Lookups.load(db))
    db.add(activity)
    db.flush()
    audit.record(db, actor=actor, action="assistance.activity.create", object_type="activity",
                 object_id=activity.id, detail={"sector": activity.sector.value,
                                                "type": activity.activity_type,
                                                "zone_id": activity.zone_id})
    return activity


def get(db: Session, *, actor: Principal, activity_id: int) -> Activity:
    require(actor, "assistance.read")
    activity = db.get(Activity, activity_id)
    if activity is None:
        raise NotFound("No such activity.", field="activity_id")
    return activity


def update(db: Session, *, actor: Principal, activity_id: int, data: ActivityUpdate
           ) -> Activity:
    require(actor, "assistance.write")
    activity = get(db, actor=actor, activity_id=activity_id)
    if actor.role not in STAFF_ROLES and activity.implementing_org_id != actor.organisation_id:
        raise PermissionDenied("Only the implementing organisation or a coordinator may change "
                               "this activity.")
    changes: dict[str, object] = {}
    if data.status is not None:
        changes["status"] = data.status.value
        activity.status = data.status
    if data.end_date is not None:
        if data.end_date < activity.start_date:
            raise ValidationFailed("The activity ends before it starts.", field="end_date")
        changes["end_date"] = data.end_date.isoformat()
        activity.end_date = data.end_date
    if data.quantity is not None:
        changes["quantity"] = activity.quantity = data.quantity
    if data.reached is not None:
        activity.reached_total = _reached_total(data.reached)
        for key in _SPLIT:
            setattr(activity, f"reached_{key}", getattr(data.reached, key))
        changes["reached_total"] = activity.reached_total
    if data.notes is not None:
        activity.notes = data.notes
        changes["notes"] = True
    db.flush()
    audit.record(db, actor=actor, action="assistance.activity.update", object_type="activity",
                 object_id=activity.id, detail=changes)
    return activity


def list_activities(db: Session, *, actor: Principal, zone: str | int | None = None,
                    sector: Sector | None = None, organisation: str | None = None,
                    status: ActivityStatus | None = None, on: dt.date | None = None,
                    limit: int = 500, offset: int = 0) -> list[Activity]:
    """Activities, filtered; ``on``: running on that day."""
    require(actor, "assistance.read")
    query = select(Activity)
    if zone is not None:
        query = query.where(Activity.zone_id == Lookups(
            zones={z.code.upper(): z for z in db.scalars(select(Zone))}).zone(zone).id)
    if sector is not None:
        query = query.where(Activity.sector == sector)
    if organisation:
        org = db.scalar(select(Organisation).where(
            func.lower(Organisation.acronym) == organisation.strip().lower()))
        if org is None:
            raise NotFound(f"No organisation {organisation}.", field="organisation")
        query = query.where((Activity.implementing_org_id == org.id)
                            | (Activity.funding_org_id == org.id))
    if status is not None:
        query = query.where(Activity.status == status)
    if on is not None:
        query = query.where(Activity.start_date <= on,
                            (Activity.end_date.is_(None)) | (Activity.end_date >= on))
    query = query.order_by(Activity.start_date.desc(), Activity.id.desc())
    return list(db.scalars(query.limit(min(limit, 5000)).offset(offset)))


def read(activity: Activity, zone_codes: dict[int, str]) -> ActivityRead:
    funding = activity.funding_org.acronym if activity.funding_org else activity.donor
    return ActivityRead(
        id=activity.id, implementing_org=activity.implementing_org.acronym,
        funding_org=funding, sector=activity.sector, activity_type=activity.activity_type,
        activity_label=activity_types()[activity.sector.value].get(
            activity.activity_type, activity.activity_type),
        zone_id=activity.zone_id, zone_code=zone_codes.get(activity.zone_id, ""),
        site_id=activity.site_id, start_date=activity.start_date, end_date=activity.end_date,
        quantity=activity.quantity, unit=activity.unit,
        reached={"total": activity.reached_total,
                 **{k: getattr(activity, f"reached_{k}") for k in _SPLIT}},
        status=activity.status, notes=activity.notes)


def zone_codes(db: Session) -> dict[int, str]:
    return {zone_id: code for zone_id, code in db.execute(select(Zone.id, Zone.code))}
