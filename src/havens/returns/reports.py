"""Reports on origin areas and on departures from zones — aggregates only.

Per origin area: the displaced people from it still present, by zone; the households' latest
return intentions and their preconditions; returns per month; the area's status history.
Per zone: departures by destination type and returns by destination area.

Callers without personal-data rights (``people.personal``) see the counts under disclosure
control (``havens.interop.disclosure``): 1 to 4 shown as ``"<5"``, and in every table whose
totals are published — here or elsewhere (the ``returns`` export publishes each origin's returns
and displaced households; the flows publish each zone's departures) — enough other counts as
``"x"`` that no ``"<5"`` can be worked out from the totals. Counts published without a total
(intentions, preconditions) need the primary rule only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.geo import service as geo_service
from havens.interop import disclosure
from havens.orgs.permissions import Principal, can, require
from havens.people.merges import not_merged
from havens.people.models import Household, HouseholdStatus, Individual, Movement, MovementKind
from havens.returns import service
from havens.returns.intentions import PRECONDITIONS
from havens.returns.models import Intention, ReturnIntention, ReturnKind, ReturnMovement
from havens.returns.schemas import (
    AreaCount,
    Count,
    DestinationCount,
    MonthCount,
    OriginReport,
    ZoneCount,
    ZoneDeparturesReport,
)
from havens.zones import service as zone_service
from havens.zones.models import Site, Zone

SUPPRESSED = disclosure.SUPPRESSED


def _count(value: int, suppress: bool) -> Count:
    """A count published without a total."""
    return disclosure.primary(value, on=suppress)


def _column(values: list[int], suppress: bool) -> tuple[list[Count], Count]:
    """A column of counts and its total, protected together."""
    return disclosure.protect_column(values, suppress=suppress)


def origin_report(db: Session, *, actor: Principal, pcode: str) -> OriginReport:
    require(actor, "returns.read")
    pcode = service.check_origin(db, pcode)
    suppress = not can(actor, "people.personal")
    area = geo_service.get_area(db, pcode=pcode)
    # Each person once: registrations merged into another (confirmed duplicates) left out,
    # as the people views and the returns export leave them out.
    members = (select(Individual.household_id, func.count(Individual.id).label("n"))
               .where(not_merged(Individual))
               .group_by(Individual.household_id).subquery())
    rows = db.execute(
        select(Zone.code, func.count(Household.id), func.coalesce(func.sum(members.c.n), 0))
        .select_from(Household)
        .join(Site, Site.id == Household.site_id)
        .outerjoin(Zone, Zone.id == Site.zone_id)
        .outerjoin(members, members.c.household_id == Household.id)
        .where(Household.origin_pcode == pcode, Household.status == HouseholdStatus.present,
               not_merged(Household))
        .group_by(Zone.code).order_by(Zone.code))
    found = [(zone_code, int(n), int(people)) for zone_code, n, people in rows]
    households, total_households = _column([n for _z, n, _p in found], suppress)
    individuals, total_people = _column([p for _z, _n, p in found], suppress)
    displaced = [ZoneCount(zone_code=zone_code, households=households[i],
                           individuals=individuals[i])
                 for i, (zone_code, _n, _p) in enumerate(found)]
    latest: dict[int, ReturnIntention] = {}
    for answer in db.scalars(
            select(ReturnIntention).join(Household, Household.id == ReturnIntention.household_id)
            .where(Household.origin_pcode == pcode)
            .order_by(ReturnIntention.surveyed_on, ReturnIntention.id)):
        latest[answer.household_id] = answer
    intentions = Counter(a.intention.value for a in latest.values())
    preconditions = Counter(code for a in latest.values() for code in a.preconditions)
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for returned_on, kind, people in db.execute(
            select(ReturnMovement.returned_on, ReturnMovement.kind, ReturnMovement.individuals)
            .where(ReturnMovement.destination_pcode == pcode)):
        month = months[returned_on.strftime("%Y-%m")]
        month[kind.value] += 1
        month["individuals"] += people
    by_month = sorted(months.items())
    kinds = (ReturnKind.facilitated.value, ReturnKind.spontaneous.value)
    returned = disclosure.protect([[value[k] for k in kinds] for _m, value in by_month],
                                  suppress=suppress)
    people_by_month, _people = _column([value["individuals"] for _m, value in by_month],
                                       suppress)
    return OriginReport(
        pcode=pcode, area_name_en=area.name_en, area_name_ar=area.name_ar, suppressed=suppress,
        displaced=displaced,
        displaced_total=ZoneCount(zone_code=None, households=total_households,
                                  individuals=total_people),
        intentions={i.value: _count(intentions[i.value], suppress) for i in Intention},
        preconditions={code: _count(preconditions[code], suppress) for code in PRECONDITIONS
                       if preconditions[code]},
        returns_by_month=[MonthCount(month=key, facilitated=returned.cells[n][0],
                                     spontaneous=returned.cells[n][1],
                                     individuals=people_by_month[n])
                          for n, (key, _value) in enumerate(by_month)],
        status=service.area_status_read(db, actor=actor, pcode=pcode))


def zone_departures(db: Session, *, actor: Principal, zone_id: int,
                    start: dt.date | None = None, end: dt.date | None = None
                    ) -> ZoneDeparturesReport:
    """Departures from the zone's sites by destination type, and returns by area."""
    require(actor, "returns.read")
    zone = zone_service.get_zone(db, actor=actor, zone_id=zone_id)
    suppress = not can(actor, "people.personal")
    query = (select(Movement.destination_type, func.count(Movement.id),
                    func.coalesce(func.sum(Movement.individuals), 0))
             .join(Site, Site.id == Movement.site_id)
             .join(Household, Household.id == Movement.household_id)
             .where(Site.zone_id == zone.id, Movement.kind == MovementKind.departure,
                    not_merged(Household))
             .group_by(Movement.destination_type))
    returns = (select(ReturnMovement.destination_pcode, func.count(ReturnMovement.id),
                      func.coalesce(func.sum(ReturnMovement.individuals), 0))
               .where(ReturnMovement.from_zone_id == zone.id)
               .group_by(ReturnMovement.destination_pcode)
               .order_by(ReturnMovement.destination_pcode))
    if start is not None:
        query = query.where(Movement.moved_on >= start)
        returns = returns.where(ReturnMovement.returned_on >= start)
    if end is not None:
        query = query.where(Movement.moved_on <= end)
        returns = returns.where(ReturnMovement.returned_on <= end)
    by_type = sorted(((kind.value if kind else "unknown", int(n), int(people))
                      for kind, n, people in db.execute(query)), key=lambda row: row[0])
    departed, _departed = _column([n for _k, n, _p in by_type], suppress)
    departed_people, _people = _column([p for _k, _n, p in by_type], suppress)
    by_area = [(pcode, int(n), int(people)) for pcode, n, people in db.execute(returns)]
    returned, _returned = _column([n for _a, n, _p in by_area], suppress)
    returned_people, _people = _column([p for _a, _n, p in by_area], suppress)
    return ZoneDeparturesReport(
        zone_id=zone.id, zone_code=zone.code, start=start, end=end, suppressed=suppress,
        departures=[DestinationCount(destination_type=kind, households=departed[i],
                                     individuals=departed_people[i])
                    for i, (kind, _n, _p) in enumerate(by_type)],
        returns_by_area=[AreaCount(pcode=pcode, households=returned[i],
                                   individuals=returned_people[i])
                         for i, (pcode, _n, _p) in enumerate(by_area)])
