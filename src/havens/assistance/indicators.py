"""Indicators of every zone on a date: the people present, the latest measurements on or before
the date, and the standards (with the cluster's overrides).

Everything is aggregated in SQL with a handful of GROUP BY queries whatever the number of zones:

- **registered** population: individuals marked present, counted per site (the people domain's
  occupancy index covers it) and summed per zone, with those aged 6-17 on the date. This is its
  own query rather than ``people.occupancy.zone_occupancy`` because it runs for all zones at
  once, needs the 6-17 band (occupancy groups are 5-11/12-17) and unsuppressed counts;
- when a zone has nobody registered, its **reported** population: the latest site-monitoring
  figure of each site on or before the date (``zones.ReportedPopulation``), labelled as such;
- the **latest measurement** of each metric on or before the date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Integer, and_, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from havens.assistance.models import Measurement, StandardOverride
from havens.assistance.standards import IndicatorResult, ZoneFacts, evaluate, standards
from havens.database import is_postgresql
from havens.exceptions import NotFound
from havens.orgs.permissions import Principal, require
from havens.people.merges import not_merged
from havens.people.models import Individual, Sex
from havens.zones.models import ReportedPopulation, Site, Zone

SCHOOL_AGE = (6, 17)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def load_facts(db: Session, *, on: dt.date, zone_ids: Sequence[int] | None = None
               ) -> list[ZoneFacts]:
    """Facts of the given zones (all zones when None) on a date, in zone code order."""
    query = select(Zone.id, Zone.code, Zone.name_en, Zone.emergency_phase, Zone.area_m2)
    if zone_ids is not None:
        query = query.where(Zone.id.in_(zone_ids))
    zones = db.execute(query.order_by(Zone.code)).all()
    ids = [z.id for z in zones]
    if not ids:
        return []
    registered, school_age = _registered(db, ids, on)
    reported = _reported(db, ids, on)
    measured = _measurements(db, ids, on)
    facts = []
    for z in zones:
        if registered.get(z.id):
            population, source, children = registered[z.id], "registered", school_age[z.id]
        elif reported.get(z.id):
            population, source, children = reported[z.id], "reported", None
        else:
            population, source, children = None, None, None
        facts.append(ZoneFacts(
            zone_id=z.id, zone_code=z.code, zone_name=z.name_en,
            emergency_phase=bool(z.emergency_phase), area_m2=z.area_m2, population=population,
            population_source=source, school_age=children, measurements=measured.get(z.id, {})))
    return facts


def _registered(db: Session, zone_ids: list[int], on: dt.date
                ) -> tuple[dict[int, int], dict[int, int]]:
    oldest_birth = _years_before(on, SCHOOL_AGE[1] + 1)  # born after: under 18 on the date
    youngest_birth = _years_before(on, SCHOOL_AGE[0])  # born on or before: 6 or more
    site_zone = {site_id: zone_id for site_id, zone_id in db.execute(
        select(Site.id, Site.zone_id).where(Site.zone_id.in_(zone_ids)))}
    if not site_zone:
        return {}, {}
    # The sites as one array on PostgreSQL (the plan of an IN list, without binding and
    # rendering a parameter per site: most of the cost for a zone of a few hundred sites);
    # SQLite has no arrays and looks a subquery's sites up one by one in the index.
    sites: ColumnElement[bool] = (
        Individual.site_id == any_(bindparam("sites", list(site_zone),
                                             type_=postgresql.ARRAY(Integer)))
        if is_postgresql(db) else
        Individual.site_id.in_(select(Site.id).where(Site.zone_id.in_(zone_ids))))
    # Two index-only scans of ix_individuals_occupancy (site, present, sex, birth date): all
    # present, then the 6-17 band as a range under each sex — twice as fast as one scan with a
    # CASE over every row.
    totals = db.execute(select(Individual.site_id, func.count())
                        .where(sites, Individual.present.is_(True), not_merged(Individual))
                        .group_by(Individual.site_id))
    school = db.execute(
        select(Individual.site_id, func.count())
        .where(sites, Individual.present.is_(True), Individual.sex.in_(list(Sex)),
               not_merged(Individual), Individual.date_of_birth > oldest_birth,
               Individual.date_of_birth <= youngest_birth)
        .group_by(Individual.site_id))
    people: dict[int, int] = defaultdict(int)
    children: dict[int, int] = defaultdict(int)
    for target, rows in ((people, totals), (children, school)):
        for site_id, count in rows:
            zone_id = site_zone.get(site_id)
            if zone_id is not None:
                target[zone_id] += int(count)
    return people, children


def _reported(db: Session, zone_ids: list[int], on: dt.date) -> dict[int, int]:
    latest = (select(ReportedPopulation.site_id,
                     func.max(ReportedPopulation.reported_on).label("day"))
              .join(Site, Site.id == ReportedPopulation.site_id)
              .where(Site.zone_id.in_(zone_ids), ReportedPopulation.reported_on <= on)
              .group_by(ReportedPopulation.site_id).subquery())
    total = (ReportedPopulation.girls + ReportedPopulation.boys + ReportedPopulation.women
             + ReportedPopulation.men)
    rows = db.execute(
        select(Site.zone_id, func.sum(total))
        .join(latest, and_(latest.c.site_id == ReportedPopulation.site_id,
                           latest.c.day == ReportedPopulation.reported_on))
        .join(Site, Site.id == ReportedPopulation.site_id)
        .group_by(Site.zone_id))
    return {int(zone_id): int(count or 0) for zone_id, count in rows if zone_id is not None}


def _measurements(db: Session, zone_ids: list[int], on: dt.date
                  ) -> dict[int, dict[str, tuple[float, str]]]:
    latest = (select(Measurement.zone_id, Measurement.metric,
                     func.max(Measurement.measured_on).label("day"))
              .where(Measurement.zone_id.in_(zone_ids), Measurement.measured_on <= on)
              .group_by(Measurement.zone_id, Measurement.metric).subquery())
    rows = db.execute(
        select(Measurement.zone_id, Measurement.metric, Measurement.value,
               Measurement.measured_on)
        .join(latest, and_(latest.c.zone_id == Measurement.zone_id,
                           latest.c.metric == Measurement.metric,
                           latest.c.day == Measurement.measured_on)))
    result: dict[int, dict[str, tuple[float, str]]] = defaultdict(dict)
    for zone_id, metric, value, day in rows:
        result[zone_id][metric] = (float(value), day.isoformat())
    return result


# --- thresholds ------------------------------------------------------------------------------

class Thresholds:
    """Threshold of a standard for a zone on a date: zone override > cluster-wide override >
    handbook value for the zone's phase."""

    def __init__(self, rows: Iterable[StandardOverride]) -> None:
        # Newest first, so the first match wins.
        self._rows = sorted(rows, key=lambda r: (r.valid_from, r.created_at, r.id), reverse=True)

    @classmethod
    def load(cls, db: Session, *, on: dt.date) -> Thresholds:
        return cls(db.scalars(select(StandardOverride)
                              .where(StandardOverride.valid_from <= on)))

    def resolve(self, code: str, *, zone_id: int, emergency: bool) -> tuple[float, str]:
        standard = standards()[code]
        phase = "emergency" if emergency else "stabilised"
        for scope in (zone_id, None):
            for row in self._rows:
                if row.standard_code == code and row.zone_id == scope and (
                        row.phase is None or row.phase == phase):
                    if row.threshold is None:  # reset to the handbook for this scope
                        break
                    where = "this zone" if scope is not None else "all zones"
                    return row.threshold, f"override ({where}, {row.valid_from}): {row.reason}"
        value = standard.handbook_threshold(emergency=emergency)
        if emergency and "emergency" in standard.phase_thresholds:
            return value, "handbook (first phase of an emergency)"
        return value, "handbook"


def indicators_for(facts: ZoneFacts, thresholds: Thresholds,
                   codes: Iterable[str] | None = None) -> list[IndicatorResult]:
    chosen = standards() if codes is None else {c: standards()[c] for c in codes}
    results = []
    for code, standard in chosen.items():
        threshold, source = thresholds.resolve(code, zone_id=facts.zone_id,
                                               emergency=facts.emergency_phase)
        results.append(evaluate(facts, standard, threshold, source))
    return results


def compute(db: Session, *, on: dt.date, zone_ids: Sequence[int] | None = None
            ) -> list[tuple[ZoneFacts, list[IndicatorResult]]]:
    """Every standard for every zone (or the given ones) on a date: no permission check."""
    thresholds = Thresholds.load(db, on=on)
    return [(facts, indicators_for(facts, thresholds))
            for facts in load_facts(db, on=on, zone_ids=zone_ids)]


def zone_indicators(db: Session, *, actor: Principal, zone_id: int, on: dt.date
                    ) -> tuple[ZoneFacts, list[IndicatorResult]]:
    require(actor, "assistance.read")
    found = compute(db, on=on, zone_ids=[zone_id])
    if not found:
        raise NotFound("No such zone.", field="zone_id")
    return found[0]


def all_indicators(db: Session, *, actor: Principal, on: dt.date
                   ) -> list[tuple[ZoneFacts, list[IndicatorResult]]]:
    require(actor, "assistance.read")
    return compute(db, on=on)
