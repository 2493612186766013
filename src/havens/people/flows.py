"""Flows per day for a zone or a site: arrivals, departures by destination, relocations.

Counted from the movements table: arrivals, departures by destination type (``abroad`` apart:
it is what the zones exist to prevent) and relocations in and out, per day; the ``present``
figure of each day is the running balance of those movements. The movements of a household
merged into another are not counted (its arrival was the kept household's).

Disclosure control as for occupancy (``havens.people.occupancy``): days × flow columns are
protected as one table with the period's totals; a count wholly the caller's own organisation's
(movements of its households) is shown to a caller with personal-data rights, any other small
count withheld; the operator sees every count. The running ``present`` balance of each day is
withheld whenever any count of the period is, since the difference of two days' balances is
that day's net movement.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from havens.exceptions import NotFound, ValidationFailed
from havens.interop.disclosure import COMPLEMENT, protect, protect_column
from havens.orgs.permissions import Principal, require
from havens.people.merges import not_merged
from havens.people.models import DestinationType, Household, Movement, MovementKind
from havens.people.occupancy import Count, disclosure_for, suppressed
from havens.zones.models import Site, Zone


class DayFlow(BaseModel):
    day: dt.date
    arrivals: Count
    arrival_households: Count
    departures: dict[str, Count]
    departures_abroad: Count
    relocations_in: Count
    relocations_out: Count
    present: Count


class Flows(BaseModel):
    start: dt.date
    end: dt.date
    suppressed: bool
    days: list[DayFlow]
    totals: DayFlow


_FLOW_COLUMNS = ["arrivals", "arrival_households",
                 *[f"departure:{d.value}" for d in DestinationType],
                 "relocations_in", "relocations_out"]


def count_flows(db: Session, *, actor: Principal, start: dt.date, end: dt.date,
                zone_id: int | None = None, site_id: int | None = None) -> Flows:
    """Arrivals, departures (by destination) and relocations per day, for a zone or a site."""
    require(actor, "people.aggregate")
    if end < start or (end - start).days > 366:
        raise ValidationFailed("The period must end after it starts and last at most a year.",
                               field="end")
    if (zone_id is None) == (site_id is None):
        raise ValidationFailed("Name a zone or a site.", field="zone_id")
    if site_id is not None:
        if db.get(Site, site_id) is None:
            raise NotFound("No such site.", field="site_id")
        inside = select(Site.id).where(Site.id == site_id)
    else:
        if db.get(Zone, zone_id) is None:
            raise NotFound("No such zone.", field="zone_id")
        inside = select(Site.id).where(Site.zone_id == zone_id)
    aggregates_only, own_org = disclosure_for(actor)

    def own(value: Any) -> Any:
        """The caller's organisation's share of ``value`` (a movement's count)."""
        if own_org is None:
            return literal(0)
        return case((Movement.recorded_by_org_id == own_org, value), else_=0)

    entering = and_(Movement.kind == MovementKind.relocation, Movement.to_site_id.in_(inside),
                    Movement.site_id.not_in(inside))
    leaving_by_relocation = and_(Movement.kind == MovementKind.relocation,
                                 Movement.site_id.in_(inside),
                                 Movement.to_site_id.not_in(inside))
    from_here = and_(Movement.site_id.in_(inside), Movement.kind != MovementKind.relocation)
    signed = case((entering, Movement.individuals),
                  (Movement.kind == MovementKind.arrival, Movement.individuals),
                  else_=-Movement.individuals)
    merged_away = select(Household.id).where(~not_merged(Household))
    relevant = ((from_here | entering | leaving_by_relocation)
                & Movement.household_id.not_in(merged_away))
    balance, own_balance = (int(v or 0) for v in db.execute(
        select(func.coalesce(func.sum(signed), 0), func.coalesce(func.sum(own(signed)), 0))
        .where(relevant, Movement.moved_on < start)).one())
    per_day: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    own_per_day: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = db.execute(
        select(Movement.moved_on, Movement.kind, Movement.destination_type,
               case((entering, "in"), else_="out").label("direction"), func.count(),
               func.coalesce(func.sum(Movement.individuals), 0),
               func.coalesce(func.sum(own(1)), 0),
               func.coalesce(func.sum(own(Movement.individuals)), 0))
        .where(relevant, Movement.moved_on >= start, Movement.moved_on <= end)
        .group_by(Movement.moved_on, Movement.kind, Movement.destination_type, "direction"))
    for day, kind, destination, direction, households, individuals, own_hh, own_people in rows:
        for cell, (hh, people) in ((per_day[day], (households, individuals)),
                                   (own_per_day[day], (own_hh, own_people))):
            if kind == MovementKind.arrival:
                cell["arrivals"] += int(people)
                cell["arrival_households"] += int(hh)
            elif kind == MovementKind.departure:
                cell[f"departure:{DestinationType(destination).value}"] += int(people)
            else:
                cell[f"relocations_{direction}"] += int(people)
    cells: list[dict[str, int]] = []
    own_cells: list[dict[str, int]] = []
    balances: list[tuple[int, int]] = []
    day = start
    while day <= end:
        cell, mine = per_day.get(day, {}), own_per_day.get(day, {})
        balance += _net(cell)
        own_balance += _net(mine)
        cells.append(dict(cell))
        own_cells.append(dict(mine))
        balances.append((balance, own_balance))
        day += dt.timedelta(days=1)
    days, totals, withheld = _protected_days(
        start, end, cells, balances, aggregates_only or own_org is not None,
        own_cells if own_org is not None else None)
    return Flows(start=start, end=end, suppressed=aggregates_only or withheld, days=days,
                 totals=totals)


def _net(cell: dict[str, int]) -> int:
    """A day's change of the present population."""
    departed = sum(v for k, v in cell.items() if k.startswith("departure:"))
    return (cell.get("arrivals", 0) + cell.get("relocations_in", 0) - departed
            - cell.get("relocations_out", 0))


def _protected_days(start: dt.date, end: dt.date, cells: list[dict[str, int]],
                    balances: list[tuple[int, int]], suppress: bool,
                    own_cells: list[dict[str, int]] | None
                    ) -> tuple[list[DayFlow], DayFlow, bool]:
    """Days × flow columns protected as one table with the period's totals. Households that
    arrived are their own column (it has no published relation to the individuals). With
    ``own_cells``, counts wholly the caller's own are exempt. Balances are (all, own)."""
    people_cols = [c for c in _FLOW_COLUMNS if c != "arrival_households"]
    grid = [[cell.get(c, 0) for c in people_cols] for cell in cells]
    arrived = [cell.get("arrival_households", 0) for cell in cells]
    exempt = arrived_exempt = None
    if own_cells is not None:
        exempt = [[value == mine.get(c, 0) for c, value in zip(people_cols, row, strict=True)]
                  for row, mine in zip(grid, own_cells, strict=True)]
        arrived_exempt = [value == mine.get("arrival_households", 0)
                          for value, mine in zip(arrived, own_cells, strict=True)]
    people = protect(grid, suppress=suppress, exempt=exempt)
    households, households_total = protect_column(arrived, suppress=suppress,
                                                  exempt=arrived_exempt)
    withheld = any(not isinstance(v, int) for row in people.cells for v in row) or any(
        not isinstance(v, int) for v in (*households, households_total, *people.column_totals))

    def present(balance: tuple[int, int]) -> Count:
        everyone, mine = balance
        if withheld and everyone >= 5:
            return COMPLEMENT
        return suppressed(everyone, suppress and (own_cells is None or everyone != mine))

    days = []
    for index, balance in enumerate(balances):
        shown = dict(zip(people_cols, people.cells[index], strict=True))
        shown["arrival_households"] = households[index]
        days.append(_day_flow(start + dt.timedelta(days=index), shown, present(balance)))
    total = dict(zip(people_cols, people.column_totals, strict=True))
    total["arrival_households"] = households_total
    # The period's closing balance is published as a figure of its own: only a small one goes.
    everyone, mine = balances[-1] if balances else (0, 0)
    last = suppressed(everyone, suppress and (own_cells is None or everyone != mine))
    return days, _day_flow(end, total, last), withheld or any(
        not isinstance(d.present, int) for d in days)


def _day_flow(day: dt.date, cell: dict[str, Count], present: Count) -> DayFlow:
    return DayFlow(
        day=day, arrivals=cell.get("arrivals", 0),
        arrival_households=cell.get("arrival_households", 0),
        departures={d.value: cell.get(f"departure:{d.value}", 0) for d in DestinationType},
        departures_abroad=cell.get(f"departure:{DestinationType.abroad.value}", 0),
        relocations_in=cell.get("relocations_in", 0),
        relocations_out=cell.get("relocations_out", 0), present=present)
