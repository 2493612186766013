"""Occupancy per site and per zone — aggregates only, computed in SQL.

*Present population* is who is registered as present now, by sex and age group (ages on the
reference date), each person once: a registration merged into another (a confirmed duplicate,
``havens.people.merges``) is not counted. Flows per day are in ``havens.people.flows``.

Disclosure control: callers without personal-data rights of their own (``people.personal``,
see ``havens.orgs.policy.sees_aggregates_only``) see counts of 1 to 4 as ``"<5"`` (primary
suppression), and enough other cells withheld as ``"x"`` (secondary suppression,
``havens.interop.disclosure.protect``) that no ``"<5"`` can be worked out from the totals
published beside it: a zone is published as one table — sites × (sex × age group) with each
site's women, men and total, and the zone's totals — so the rule sees every line a reader could
subtract along. Callers with personal-data rights see the counts of their own organisation's
registrations as they are; a small count that includes other organisations' people is withheld
from them as from anyone (the rule of the exports, ``havens.interop.exports_zones``). Only the
operator (system) sees every count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from havens.exceptions import NotFound
from havens.interop.disclosure import (
    COMPLEMENT,
    THRESHOLD,
    protect,
    protect_column,
)
from havens.orgs.permissions import Principal, require
from havens.orgs.policy import personal_data_organisation, sees_aggregates_only
from havens.people.merges import not_merged
from havens.people.models import (
    Household,
    HouseholdStatus,
    Individual,
    Sex,
)
from havens.zones.capacity import FIGURE_COLUMNS, site_capacity, zone_capacity
from havens.zones.models import Site, Zone

AGE_GROUPS: tuple[tuple[str, int, int | None], ...] = (
    ("0-4", 0, 5), ("5-11", 5, 12), ("12-17", 12, 18), ("18-59", 18, 60), ("60+", 60, None),
)
SUPPRESSED = "<5"
#: A site's sex × age figures not broken down for this caller: the site is shared with other
#: organisations (its people and households are given; the zone's figures add them up).
SHARED = "shared"
Count = int | str


class Population(BaseModel):
    """Present population: ``by_sex_age[sex][age group]``, totals and households.

    A count is a number, ``"<5"`` (1 to 4, withheld), ``"x"`` (5 or more, withheld so that a
    ``"<5"`` cannot be worked out) or ``"shared"`` (a site shared with other organisations,
    not broken down for this caller).
    """

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


def suppressed(value: int, on: bool) -> Count:
    return SUPPRESSED if on and 0 < value < 5 else value


_SEXES = [str(sex.value) for sex in Sex]
_FEMALE, _MALE = str(Sex.female.value), str(Sex.male.value)
_SEX_AGE = [(sex, label) for sex in _SEXES for label, _low, _high in AGE_GROUPS]
#: Column indexes of the women and of the men in a row of ``_SEX_AGE`` (published subtotals).
_SEX_GROUPS = [[i for i, (s, _g) in enumerate(_SEX_AGE) if s == sex] for sex in _SEXES]


def _population_rows(cells_by_row: Sequence[dict[tuple[str, str], int]],
                     households: Sequence[int], suppress: bool,
                     own: _OwnRows | None = None) -> tuple[list[Population], Population, bool]:
    """The populations of the rows (sites) and of their total (the zone), protected together
    as one table: what is withheld in one cannot be recovered from the others. With ``own``
    (the caller's organisation's share of the same rows), a count wholly the caller's own is
    never suppressed. The flag says whether anything was withheld."""
    grid = [[cells.get(key, 0) for key in _SEX_AGE] for cells in cells_by_row]
    exempt = household_exempt = None
    if own is not None:
        exempt = [[value == own_cells.get(key, 0) for key, value in zip(_SEX_AGE, row,
                                                                        strict=True)]
                  for row, own_cells in zip(grid, own.people, strict=True)]
        household_exempt = [value == mine for value, mine in zip(households, own.households,
                                                                 strict=True)]
    table = protect(grid, suppress=suppress, groups=_SEX_GROUPS, exempt=exempt)
    shown_households, household_total = protect_column(list(households), suppress=suppress,
                                                       exempt=household_exempt)
    rows = [_population(table.cells[r], table.group_totals[r], table.row_totals[r],
                        shown_households[r]) for r in range(len(grid))]
    total = _population(table.column_totals, table.group_column_totals, table.total,
                        household_total)
    withheld = bool(table.primary or table.secondary) or any(
        not isinstance(value, int) for value in (*shown_households, household_total))
    return rows, total, withheld


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


@dataclass
class _Counts:
    """People present per site (by sex and age group) and households present per site."""

    people: dict[int, dict[tuple[str, str], int]] = field(
        default_factory=lambda: defaultdict(dict))
    households: dict[int, int] = field(default_factory=dict)

    @staticmethod
    def rows(counts: _Counts | None, site_ids: Sequence[int]) -> _OwnRows | None:
        """The counts of these sites, one row each in their order (for a table)."""
        if counts is None:
            return None
        return _OwnRows([counts.people.get(i, {}) for i in site_ids],
                        [counts.households.get(i, 0) for i in site_ids])


@dataclass
class _OwnRows:
    """The caller's organisation's share of a table's rows (sites)."""

    people: list[dict[tuple[str, str], int]]
    households: list[int]


def _counts(db: Session, on: dt.date, *, zone_id: int | None = None, site_id: int | None = None,
            own_org: int | None = None) -> tuple[_Counts, _Counts | None]:
    """People present per site, sex and age group; households present per site — of one zone
    or one site; with ``own_org``, also that organisation's share of each count.

    One range count per sex and age group (UNION ALL, one round trip): each is a contiguous
    slice of the covering index (site, present, sex, date of birth, then the merge pointer that
    leaves merged rows out), which both databases count without touching the table — several
    times faster than grouping on a CASE. A zone's sites come in by a join, not as a list of
    ids: hundreds of camps would be hundreds of bound parameters in each of the ten counts
    (240 ms a call on the demo's largest zone, most of it building and parsing the SQL), and
    SQLite does not use the index range under ``IN (subquery)`` (3 s at a million people).
    The organisation ends both indexes, so its share is counted from them too.
    """
    counts, own = _Counts(), (_Counts() if own_org is not None else None)

    def share(model: type[Individual] | type[Household]) -> Any:
        if own_org is None:
            return literal(0)
        return func.coalesce(func.sum(case((model.organisation_id == own_org, 1), else_=0)), 0)

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
                                       func.count().label("n"),
                                       share(Individual).label("own")), Individual)
                         .where(*conditions).group_by(Individual.site_id))
    for site, sex_value, label, count, mine in db.execute(union_all(*parts)):
        counts.people[site][(sex_value, label)] = int(count)
        if own is not None:
            own.people[site][(sex_value, label)] = int(mine)
    for site, count, mine in db.execute(
            scoped(select(Household.site_id, func.count(), share(Household)), Household)
            .where(Household.status == HouseholdStatus.present, not_merged(Household))
            .group_by(Household.site_id)):
        counts.households[site] = int(count)
        if own is not None:
            own.households[site] = int(mine)
    return counts, own


def disclosure_for(actor: Principal) -> tuple[bool, int | None]:
    """(aggregates only, own organisation): outsiders get suppressed aggregates; a caller with
    personal-data rights sees its own organisation's counts (the second item) as they are, the
    others protected; the operator sees every count (no own organisation needed)."""
    if actor.is_system:
        return False, None
    if sees_aggregates_only(actor):
        return True, None
    return False, personal_data_organisation(actor)


def zone_occupancy(db: Session, *, actor: Principal, zone_id: int, on: dt.date | None = None
                   ) -> ZoneOccupancy:
    """Present population of a zone and of each of its sites."""
    require(actor, "people.aggregate")
    zone = db.get(Zone, zone_id)
    if zone is None:
        raise NotFound("No such zone.", field="zone_id")
    on = on or dt.date.today()
    aggregates_only, own_org = disclosure_for(actor)
    counts, own = _counts(db, on, zone_id=zone_id, own_org=own_org)
    if aggregates_only:
        # Outsiders get the zone as a whole: a site-by-site table of a camp cluster is mostly
        # small cells, and protecting hundreds of them together withholds nearly everything
        # (and costs minutes). The zone's own sex × age table is protected on its own.
        zone_cells: dict[tuple[str, str], int] = defaultdict(int)
        for cells in counts.people.values():
            for key, value in cells.items():
                zone_cells[key] += value
        _rows, total, _withheld = _population_rows([dict(zone_cells)],
                                                   [sum(counts.households.values())], True)
        capacity = zone_capacity(db, zone_id=zone_id)
        return ZoneOccupancy(
            zone_id=zone.id, zone_code=zone.code, on=on, suppressed=True, population=total,
            capacity=capacity, capacity_use=_use(total.individuals, capacity), sites=[])
    # The columns the rows need, not Site objects (hundreds of camps in a zone).
    sites = db.execute(select(Site.id, Site.code, Site.name_en, *FIGURE_COLUMNS)
                       .where(Site.zone_id == zone_id).order_by(Site.code)).all()
    if own is None:  # the operator
        populations, total, withheld = _population_rows(
            [counts.people.get(s.id, {}) for s in sites],
            [counts.households.get(s.id, 0) for s in sites], False)
    else:
        populations, total, withheld = _protect_shared([s.id for s in sites], counts, own)
    site_rows = []
    for site, population in zip(sites, populations, strict=True):
        capacity = site_capacity(site)
        site_rows.append(SiteOccupancy(
            site_id=site.id, site_code=site.code, name_en=site.name_en, population=population,
            capacity=capacity, capacity_use=_use(population.individuals, capacity)))
    capacity = zone_capacity(db, zone_id=zone_id)
    return ZoneOccupancy(
        zone_id=zone.id, zone_code=zone.code, on=on, suppressed=withheld, population=total,
        capacity=capacity, capacity_use=_use(total.individuals, capacity), sites=site_rows)


def _protect_shared(site_ids: Sequence[int], counts: _Counts, own: _Counts
                    ) -> tuple[list[Population], Population, bool]:
    """A zone's table for a caller with personal-data rights, fast on hundreds of sites.

    A site registered by the caller's organisation alone is shown as it is. Of a site shared
    with other organisations only its people and households are shown (protected as one
    column whose total is the shared sites' together); its sex × age cells are ``SHARED``, and
    the shared sites' sex × age table is protected as one row. The zone adds the two parts.
    Protecting the site-by-site table cell by cell instead took minutes on a camp cluster of
    hundreds of small shared sites (SECURITY.md). The flag says whether anything is withheld.
    """
    def cells_of(part: _Counts, sites: Sequence[int]) -> list[int]:
        return [sum(part.people.get(i, {}).get(key, 0) for i in sites) for key in _SEX_AGE]

    def people_of(part: _Counts, site: int) -> int:
        return sum(part.people.get(site, {}).values())

    shared = [i for i in site_ids if (people_of(counts, i), counts.households.get(i, 0))
              != (people_of(own, i), own.households.get(i, 0))]
    solely = list(filter(set(site_ids).difference(shared).__contains__, site_ids))
    rows = {site: _exact(cells_of(counts, [site]), counts.households.get(site, 0))
            for site in solely}

    part, own_part = cells_of(counts, shared), cells_of(own, shared)
    table = protect([part], groups=_SEX_GROUPS, keep_row_totals=True,
                    exempt=[[a == b for a, b in zip(part, own_part, strict=True)]])
    people = [people_of(counts, i) for i in shared]
    homes = [counts.households.get(i, 0) for i in shared]
    shown_people, people_total = protect_column(people, exempt=[
        n == people_of(own, i) for n, i in zip(people, shared, strict=True)])
    if people_total == COMPLEMENT:
        # The column needed its total withheld, but the zone publishes it (the row above
        # keeps it): the shared sites' people are then not given one by one.
        shown_people = [SHARED] * len(shared)
    shown_homes, homes_part = protect_column(homes, exempt=[
        n == own.households.get(i, 0) for n, i in zip(homes, shared, strict=True)])
    for site, individuals, households in zip(shared, shown_people, shown_homes, strict=True):
        rows[site] = _population([SHARED] * len(_SEX_AGE), [SHARED] * len(_SEX_GROUPS),
                                 individuals, households)

    def plus(known: int, added: Count) -> Count:
        """A zone figure: own sites' ``known`` plus the shared sites' part, or a mark that is
        true of the sum ("<5" is 1-4, "x" 5 or more; else only ``SHARED``)."""
        if isinstance(added, int):
            return known + added
        if known == 0 or added == COMPLEMENT:
            return added
        return COMPLEMENT if known >= THRESHOLD - 1 else SHARED

    known = cells_of(counts, solely)
    known_homes = sum(counts.households.get(i, 0) for i in solely)
    total = _population(
        [plus(k, shown) for k, shown in zip(known, table.cells[0], strict=True)],
        [plus(sum(known[c] for c in group), shown)
         for group, shown in zip(_SEX_GROUPS, table.group_totals[0], strict=True)],
        plus(sum(known), table.row_totals[0]), plus(known_homes, homes_part))
    return [rows[site] for site in site_ids], total, bool(shared)


def _exact(cells: Sequence[int], households: int) -> Population:
    """A population shown as it is."""
    return _population(list(cells), [sum(cells[c] for c in group) for group in _SEX_GROUPS],
                       sum(cells), households)


def zones_present(db: Session, *, actor: Principal) -> dict[int, Count]:
    """People present in each zone now, in one grouped count (the overview's figure): small
    counts suppressed, unless wholly the caller's own. Zones with nobody are left out."""
    require(actor, "people.aggregate")
    aggregates_only, own_org = disclosure_for(actor)
    mine = (literal(0) if own_org is None else func.coalesce(func.sum(case(
        (Individual.organisation_id == own_org, 1), else_=0)), 0))
    rows = db.execute(select(Site.zone_id, func.count(Individual.id), mine)
                      .join(Site, Site.id == Individual.site_id)
                      .where(Individual.present.is_(True), not_merged(Individual),
                             Site.zone_id.is_not(None))
                      .group_by(Site.zone_id))
    return {int(zone_id or 0): suppressed(int(n), aggregates_only or (
        own_org is not None and int(n) != int(own))) for zone_id, n, own in rows}


def site_occupancy(db: Session, *, actor: Principal, site_id: int, on: dt.date | None = None
                   ) -> SiteOccupancy:
    require(actor, "people.aggregate")
    site = db.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.", field="site_id")
    aggregates_only, own_org = disclosure_for(actor)
    counts, own = _counts(db, on or dt.date.today(), site_id=site.id, own_org=own_org)
    _rows, population, _withheld = _population_rows(
        [counts.people.get(site.id, {})], [counts.households.get(site.id, 0)],
        aggregates_only or own is not None, _Counts.rows(own, [site.id]))
    capacity = site_capacity(site)
    return SiteOccupancy(site_id=site.id, site_code=site.code, name_en=site.name_en,
                         population=population, capacity=capacity,
                         capacity_use=_use(population.individuals, capacity))
