"""Occupancy and flows per site, per zone and per day — aggregates only, computed in SQL.

*Present population* is who is registered as present now, by sex and age group (ages on the
reference date), each person once: a registration merged into another (a confirmed duplicate,
``havens.people.merges``) is not counted, and neither are the movements of a household merged
into another (its arrival was the kept household's). *Flows* count arrivals, departures by
destination type (``abroad`` apart: it is what the zones exist to prevent) and relocations per
day, from the movements table; the present population of each day is the running balance of
those movements.

Disclosure control: callers without personal-data rights of their own (``people.personal``,
see ``havens.orgs.policy.sees_aggregates_only``) see counts of 1 to 4 as ``"<5"`` (primary
suppression), and enough other cells withheld as ``"x"`` (secondary suppression,
``havens.interop.disclosure.protect``) that no ``"<5"`` can be worked out from the totals
published beside it: a zone is published as one table — sites × (sex × age group) with each
site's women, men and total, and the zone's totals — so the rule sees every line a reader could
subtract along. In flows, the running ``present`` balance of each day is withheld whenever any
count of the period is, since the difference of two days' balances is that day's net movement.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from havens.exceptions import NotFound, ValidationFailed
from havens.interop.disclosure import COMPLEMENT, protect, protect_column
from havens.orgs.permissions import Principal, require
from havens.orgs.policy import sees_aggregates_only
from havens.people.merges import not_merged
from havens.people.models import (
    DestinationType,
    Household,
    HouseholdStatus,
    Individual,
    Movement,
    MovementKind,
    Sex,
)
from havens.zones.capacity import FIGURE_COLUMNS, site_capacity, zone_capacity
from havens.zones.models import Site, Zone

AGE_GROUPS: tuple[tuple[str, int, int | None], ...] = (
    ("0-4", 0, 5), ("5-11", 5, 12), ("12-17", 12, 18), ("18-59", 18, 60), ("60+", 60, None),
)
SUPPRESSED = "<5"
Count = int | str


class Population(BaseModel):
    """Present population: ``by_sex_age[sex][age group]``, totals and households."""

    by_sex_age: dict[str, dict[str, Count]]
    female: Count
    male: Count
    individuals: Count
    households: Count


class SiteOccupancy(BaseModel):
    site_id: int
    site_code: str
    name_en: str
    population: Population
    capacity: int | None
    capacity_use: float | None


class ZoneOccupancy(BaseModel):
    zone_id: int
    zone_code: str
    on: dt.date
    suppressed: bool
    population: Population
    capacity: int | None
    capacity_use: float | None
    sites: list[SiteOccupancy]


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


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_group_expression(on: dt.date) -> Any:
    """SQL CASE giving the age group of ``individuals.date_of_birth`` on a date (for queries
    that group people by more than site and sex; the summary itself uses range counts)."""
    whens = [(Individual.date_of_birth > _years_before(on, high), label)
             for label, _low, high in AGE_GROUPS if high is not None]
    return case(*whens, else_=AGE_GROUPS[-1][0])


def _suppress(value: int, on: bool) -> Count:
    return SUPPRESSED if on and 0 < value < 5 else value


_SEXES = [str(sex.value) for sex in Sex]
_FEMALE, _MALE = str(Sex.female.value), str(Sex.male.value)
_SEX_AGE = [(sex, label) for sex in _SEXES for label, _low, _high in AGE_GROUPS]
#: Column indexes of the women and of the men in a row of ``_SEX_AGE`` (published subtotals).
_SEX_GROUPS = [[i for i, (s, _g) in enumerate(_SEX_AGE) if s == sex] for sex in _SEXES]


def _population_rows(cells_by_row: Sequence[dict[tuple[str, str], int]],
                     households: Sequence[int], suppress: bool
                     ) -> tuple[list[Population], Population]:
    """The populations of the rows (sites) and of their total (the zone), protected together
    as one table: what is withheld in one cannot be recovered from the others."""
    grid = [[cells.get(key, 0) for key in _SEX_AGE] for cells in cells_by_row]
    table = protect(grid, suppress=suppress, groups=_SEX_GROUPS)
    shown_households, household_total = protect_column(list(households), suppress=suppress)
    rows = [_population(table.cells[r], table.group_totals[r], table.row_totals[r],
                        shown_households[r]) for r in range(len(grid))]
    total = _population(table.column_totals, table.group_column_totals, table.total,
                        household_total)
    return rows, total


def _population(cells: Sequence[Count], by_sex: Sequence[Count], individuals: Count,
                households: Count) -> Population:
    # Plain strings in the loops: a zone has hundreds of sites, and enum attribute access
    # was a tenth of the summary's time.
    by_sex_age: dict[str, dict[str, Count]] = {sex: {} for sex in _SEXES}
    for (sex, label), value in zip(_SEX_AGE, cells, strict=True):
        by_sex_age[sex][label] = value
    totals = dict(zip(_SEXES, by_sex, strict=True))
    female, male = totals[_FEMALE], totals[_MALE]
    return Population(by_sex_age=by_sex_age, female=female, male=male,
                      individuals=individuals, households=households)


def _use(individuals: Count, capacity: int | None) -> float | None:
    """Share of capacity used; none when the count itself is withheld."""
    if not capacity or not isinstance(individuals, int):
        return None
    return round(individuals / capacity, 3)


_Q = TypeVar("_Q", bound="Select[*tuple[Any, ...]]")


def _counts(db: Session, on: dt.date, *, zone_id: int | None = None, site_id: int | None = None
            ) -> tuple[dict[int, dict[tuple[str, str], int]], dict[int, int]]:
    """People present per site, sex and age group; households present per site — of one zone
    or one site.

    One range count per sex and age group (UNION ALL, one round trip): each is a contiguous
    slice of the covering index (site, present, sex, date of birth, then the merge pointer that
    leaves merged rows out), which both databases count without touching the table — several
    times faster than grouping on a CASE. A zone's sites come in by a join, not as a list of
    ids: hundreds of camps would be hundreds of bound parameters in each of the ten counts
    (240 ms a call on the demo's largest zone, most of it building and parsing the SQL), and
    SQLite does not use the index range under ``IN (subquery)`` (3 s at a million people).
    """
    people: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)

    def scoped(query: _Q, model: type[Individual] | type[Household]) -> _Q:
        if site_id is not None:
            return query.where(model.site_id == site_id)
        return query.join(Site, Site.id == model.site_id).where(Site.zone_id == zone_id)

    parts = []
    for sex in Sex:
        for label, low, high in AGE_GROUPS:
            conditions = [Individual.present.is_(True), Individual.sex == sex,
                          not_merged(Individual)]
            if high is not None:  # younger than `high` on the day
                conditions.append(Individual.date_of_birth > _years_before(on, high))
            if low:  # at least `low` years old on the day
                conditions.append(Individual.date_of_birth <= _years_before(on, low))
            parts.append(scoped(select(Individual.site_id, literal(sex.value).label("sex"),
                                       literal(label).label("age_group"),
                                       func.count().label("n")), Individual)
                         .where(*conditions).group_by(Individual.site_id))
    for site, sex_value, label, count in db.execute(union_all(*parts)):
        people[site][(sex_value, label)] = int(count)
    households = {site: int(n) for site, n in db.execute(
        scoped(select(Household.site_id, func.count()), Household)
        .where(Household.status == HouseholdStatus.present, not_merged(Household))
        .group_by(Household.site_id))}
    return people, households


def zone_occupancy(db: Session, *, actor: Principal, zone_id: int, on: dt.date | None = None
                   ) -> ZoneOccupancy:
    """Present population of a zone and of each of its sites."""
    require(actor, "people.aggregate")
    zone = db.get(Zone, zone_id)
    if zone is None:
        raise NotFound("No such zone.", field="zone_id")
    on = on or dt.date.today()
    suppress = sees_aggregates_only(actor)
    people, households = _counts(db, on, zone_id=zone_id)
    if suppress:
        # Outsiders get the zone as a whole: a site-by-site table of a camp cluster is mostly
        # small cells, and protecting hundreds of them together withholds nearly everything
        # (and costs minutes). The zone's own sex × age table is protected on its own.
        zone_cells: dict[tuple[str, str], int] = defaultdict(int)
        for cells in people.values():
            for key, value in cells.items():
                zone_cells[key] += value
        _rows, total = _population_rows([dict(zone_cells)], [sum(households.values())], True)
        capacity = zone_capacity(db, zone_id=zone_id)
        return ZoneOccupancy(
            zone_id=zone.id, zone_code=zone.code, on=on, suppressed=True, population=total,
            capacity=capacity, capacity_use=_use(total.individuals, capacity), sites=[])
    # The columns the rows need, not Site objects (hundreds of camps in a zone).
    sites = db.execute(select(Site.id, Site.code, Site.name_en, *FIGURE_COLUMNS)
                       .where(Site.zone_id == zone_id).order_by(Site.code)).all()
    populations, total = _population_rows([people.get(s.id, {}) for s in sites],
                                          [households.get(s.id, 0) for s in sites], suppress)
    site_rows = []
    for site, population in zip(sites, populations, strict=True):
        capacity = site_capacity(site)
        site_rows.append(SiteOccupancy(
            site_id=site.id, site_code=site.code, name_en=site.name_en, population=population,
            capacity=capacity, capacity_use=_use(population.individuals, capacity)))
    capacity = zone_capacity(db, zone_id=zone_id)
    return ZoneOccupancy(
        zone_id=zone.id, zone_code=zone.code, on=on, suppressed=suppress, population=total,
        capacity=capacity, capacity_use=_use(total.individuals, capacity), sites=site_rows)


def zones_present(db: Session, *, actor: Principal) -> dict[int, Count]:
    """People present in each zone now, in one grouped count (the overview's figure): small
    counts suppressed for callers who see aggregates only. Zones with nobody are left out."""
    require(actor, "people.aggregate")
    suppress = sees_aggregates_only(actor)
    rows = db.execute(select(Site.zone_id, func.count(Individual.id))
                      .join(Site, Site.id == Individual.site_id)
                      .where(Individual.present.is_(True), not_merged(Individual),
                             Site.zone_id.is_not(None))
                      .group_by(Site.zone_id))
    return {int(zone_id or 0): _suppress(int(n), suppress) for zone_id, n in rows}


def site_occupancy(db: Session, *, actor: Principal, site_id: int, on: dt.date | None = None
                   ) -> SiteOccupancy:
    require(actor, "people.aggregate")
    site = db.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.", field="site_id")
    suppress = sees_aggregates_only(actor)
    people, households = _counts(db, on or dt.date.today(), site_id=site.id)
    _rows, population = _population_rows([people.get(site.id, {})],
                                         [households.get(site.id, 0)], suppress)
    capacity = site_capacity(site)
    return SiteOccupancy(site_id=site.id, site_code=site.code, name_en=site.name_en,
                         population=population, capacity=capacity,
                         capacity_use=_use(population.individuals, capacity))


def flows(db: Session, *, actor: Principal, start: dt.date, end: dt.date,
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
    suppress = sees_aggregates_only(actor)
    people = func.coalesce(func.sum(Movement.individuals), 0)
    entering = and_(Movement.kind == MovementKind.relocation, Movement.to_site_id.in_(inside),
                    Movement.site_id.not_in(inside))
    leaving_by_relocation = and_(Movement.kind == MovementKind.relocation,
                                 Movement.site_id.in_(inside),
                                 Movement.to_site_id.not_in(inside))
    from_here = and_(Movement.site_id.in_(inside), Movement.kind != MovementKind.relocation)
    signed = case((entering, Movement.individuals),
                  (Movement.kind == MovementKind.arrival, Movement.individuals),
                  else_=-Movement.individuals)
    # A household merged into another: its movements are the kept household's, counted there.
    merged_away = select(Household.id).where(~not_merged(Household))
    relevant = ((from_here | entering | leaving_by_relocation)
                & Movement.household_id.not_in(merged_away))
    balance = int(db.scalar(select(func.coalesce(func.sum(signed), 0))
                            .where(relevant, Movement.moved_on < start)) or 0)
    per_day: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = db.execute(
        select(Movement.moved_on, Movement.kind, Movement.destination_type,
               case((entering, "in"), else_="out").label("direction"), func.count(), people)
        .where(relevant, Movement.moved_on >= start, Movement.moved_on <= end)
        .group_by(Movement.moved_on, Movement.kind, Movement.destination_type, "direction"))
    for day, kind, destination, direction, households, individuals in rows:
        cell = per_day[day]
        if kind == MovementKind.arrival:
            cell["arrivals"] += individuals
            cell["arrival_households"] += households
        elif kind == MovementKind.departure:
            cell[f"departure:{DestinationType(destination).value}"] += individuals
        else:
            cell[f"relocations_{direction}"] += individuals
    cells: list[dict[str, int]] = []
    balances: list[int] = []
    day = start
    while day <= end:
        cell = per_day.get(day, {})
        departed = sum(v for k, v in cell.items() if k.startswith("departure:"))
        balance += (cell.get("arrivals", 0) + cell.get("relocations_in", 0) - departed
                    - cell.get("relocations_out", 0))
        cells.append(dict(cell))
        balances.append(balance)
        day += dt.timedelta(days=1)
    days, totals = _protected_days(start, end, cells, balances, suppress)
    return Flows(start=start, end=end, suppressed=suppress, days=days, totals=totals)


_FLOW_COLUMNS = ["arrivals", "arrival_households",
                 *[f"departure:{d.value}" for d in DestinationType],
                 "relocations_in", "relocations_out"]


def _protected_days(start: dt.date, end: dt.date, cells: list[dict[str, int]],
                    balances: list[int], suppress: bool) -> tuple[list[DayFlow], DayFlow]:
    """Days × flow columns protected as one table with the period's totals. Households that
    arrived are their own column (it has no published relation to the individuals)."""
    people_cols = [c for c in _FLOW_COLUMNS if c != "arrival_households"]
    people = protect([[cell.get(c, 0) for c in people_cols] for cell in cells],
                     suppress=suppress)
    households, households_total = protect_column(
        [cell.get("arrival_households", 0) for cell in cells], suppress=suppress)
    withheld = any(not isinstance(v, int) for row in people.cells for v in row) or any(
        not isinstance(v, int) for v in households)
    days = []
    for index, balance in enumerate(balances):
        shown = dict(zip(people_cols, people.cells[index], strict=True))
        shown["arrival_households"] = households[index]
        present: Count = COMPLEMENT if withheld and balance >= 5 else _suppress(balance,
                                                                               suppress)
        days.append(_day_flow(start + dt.timedelta(days=index), shown, present))
    total = dict(zip(people_cols, people.column_totals, strict=True))
    total["arrival_households"] = households_total
    return days, _day_flow(end, total, _suppress(balances[-1] if balances else 0, suppress))


def _day_flow(day: dt.date, cell: dict[str, Count], present: Count) -> DayFlow:
    return DayFlow(
        day=day, arrivals=cell.get("arrivals", 0),
        arrival_households=cell.get("arrival_households", 0),
        departures={d.value: cell.get(f"departure:{d.value}", 0) for d in DestinationType},
        departures_abroad=cell.get(f"departure:{DestinationType.abroad.value}", 0),
        relocations_in=cell.get("relocations_in", 0),
        relocations_out=cell.get("relocations_out", 0), present=present)
