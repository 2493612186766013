"""What a situation report says, gathered from the domains' services under the caller's rights.

Every count of people goes through the same disclosure control as the exports (the report's
figures and the CSVs agree, and neither leaks what the other hides).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.exceptions import NotFound
from havens.geo.models import AdminArea
from havens.interop import disclosure
from havens.interop.common import Areas, zones_of
from havens.interop.exports_zones import flow_table, population_table
from havens.interop.registry import Params
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, can, require
from havens.people.occupancy import AGE_GROUPS
from havens.zones import capacity as capacity_rules
from havens.zones.models import Site, SiteStatus, Zone

Count = disclosure.Count
FLOW_WEEKS = 6


@dataclass
class ServiceLine:
    code: str
    sector: str
    name: str
    value: float | None
    threshold: float
    unit: str
    status: str
    gap: float | None
    gap_unit: str


@dataclass
class AgreementFacts:
    visible: bool
    version: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    administrator: str | None = None
    parties: list[str] = field(default_factory=list)
    pending_signers: list[str] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    withdrawals: int = 0


@dataclass
class Report:
    on: dt.date
    lang: str
    producer: str
    zones: list[Zone]
    single: Zone | None
    admin1: str | None
    households: Count
    individuals: Count
    female: Count
    male: Count
    pyramid: list[tuple[str, Count, Count]]  # age group, female, male (oldest last)
    sites: int
    capacity: int | None
    occupancy: float | None
    arrivals_30d: Count
    departures_30d: Count
    departures_abroad_30d: Count
    weeks: list[tuple[dt.date, Count, Count]]  # week start, arrivals, departures
    services: list[ServiceLine]
    services_met: int
    services_known: int
    safety: dict[str, str]  # zone code -> safe / at_risk / unsafe
    incidents: list[tuple[str, Count]]  # type code, count (30 days)
    incidents_total: Count
    agreements: dict[str, AgreementFacts]
    zone_rows: list[dict[str, Any]]
    map_zones: list[Zone]
    map_areas: list[AdminArea]
    map_sites: list[Site]
    suppressed: bool


def producer_name(db: Session, actor: Principal, default: str) -> str:
    if actor.organisation_id is not None:
        org = db.get(Organisation, actor.organisation_id)
        if org is not None:
            return org.name
    return default


def gather(db: Session, *, actor: Principal, zone: str | None, on: dt.date, lang: str,
           organisation_name: str) -> Report:
    require(actor, "exports.read")
    require(actor, "zones.read")
    zones = zones_of(db, zone)
    if not zones:
        raise NotFound("There is no zone to report on yet.", field="zone")
    single = zones[0] if zone else None
    params = Params(zone=zone, on=on)
    population, households, hh_total = population_table(db, actor, params, zones)
    flows_30, _hh, _t = flow_table(db, actor, Params(zone=zone, on=on), zones)
    keys = _flow_keys()
    total = dict(zip(keys, flows_30.cells[0] if single else flows_30.column_totals,
                     strict=True))
    # Populations of one zone are its row; of all zones the totals row.
    cells = population.cells[0] if single else population.column_totals
    half = len(AGE_GROUPS)
    pyramid = [(label, cells[i], cells[half + i]) for i, (label, _l, _h) in enumerate(AGE_GROUPS)]
    female, male = (population.group_totals[0] if single else population.group_column_totals)
    sites = list(db.scalars(select(Site).where(Site.zone_id.in_([z.id for z in zones]),
                                               Site.status != SiteStatus.closed)
                            .order_by(Site.code)))
    capacities = [capacity_rules.zone_capacity(db, zone_id=z.id) for z in zones]
    capacity = sum(c for c in capacities if c) or None
    individuals = population.row_totals[0] if single else population.total
    occupancy = (individuals / capacity if capacity and isinstance(individuals, int)
                 and individuals >= disclosure.THRESHOLD else None)
    services, met, known = _services(db, actor, zones if single else [], on)
    safety = _safety(db, actor, zones)
    incidents, incidents_total = _incidents(db, actor, zones, on, single is not None)
    agreements = {z.code: _agreement(db, actor, z, on) for z in zones}
    rows = _zone_rows(db, actor, zones, population, households, services_by_zone=
                      _services_by_zone(db, actor, zones, on) if not single else {},
                      safety=safety, agreements=agreements)
    areas = Areas(db)
    adm1 = areas.of_zone(single, 1) if single else None
    return Report(
        on=on, lang=lang, producer=producer_name(db, actor, organisation_name), zones=zones,
        single=single, admin1=((adm1.name_ar if lang == "ar" and adm1.name_ar else adm1.name_en)
                                     if adm1 else None),
        households=households[0] if single else hh_total, individuals=individuals,
        female=female, male=male, pyramid=pyramid, sites=len(sites), capacity=capacity,
        occupancy=occupancy, arrivals_30d=total["arrivals"],
        departures_30d=_sum_departures(flows_30, single is not None),
        departures_abroad_30d=total["departures_abroad"],
        weeks=_weeks(db, actor, zones, on), services=services, services_met=met,
        services_known=known, safety=safety, incidents=incidents,
        incidents_total=incidents_total, agreements=agreements, zone_rows=rows,
        map_zones=zones, map_areas=_nearby_areas(db, zones), map_sites=sites,
        suppressed=disclosure.must_suppress(actor))


def _flow_keys() -> list[str]:
    from havens.interop.exports_zones import FLOW_KEYS

    return list(FLOW_KEYS)


def _sum_departures(table: disclosure.Protected, single: bool) -> Count:
    """Departures to all destinations (a published subtotal of the flow table)."""
    return (table.group_totals[0] if single else table.group_column_totals)[0]


def _weeks(db: Session, actor: Principal, zones: list[Zone], on: dt.date
           ) -> list[tuple[dt.date, Count, Count]]:
    """Arrivals and departures per week (last weeks up to the date), all zones of the report
    together, each week's pair under disclosure control."""
    from havens.interop.exports_zones import FLOW_KEYS

    result = []
    for back in range(FLOW_WEEKS - 1, -1, -1):
        end = on - dt.timedelta(days=7 * back)
        start = end - dt.timedelta(days=6)
        table, _hh, _t = flow_table(db, actor, Params(on=end, start=start, end=end), zones)
        totals = dict(zip(FLOW_KEYS, table.column_totals, strict=True))
        result.append((start, totals["arrivals"], table.group_column_totals[0]))
    return result


def _services(db: Session, actor: Principal, zones: list[Zone], on: dt.date
              ) -> tuple[list[ServiceLine], int, int]:
    if not zones:
        return [], 0, 0
    from havens.assistance import indicators

    _facts, results = indicators.zone_indicators(db, actor=actor, zone_id=zones[0].id, on=on)
    lines = [ServiceLine(r.standard, r.sector, r.name, r.value, r.threshold, r.unit, r.status,
                         r.gap, r.gap_unit) for r in results]
    return (lines, sum(r.status == "met" for r in results),
            sum(r.status != "unknown" for r in results))


def _services_by_zone(db: Session, actor: Principal, zones: list[Zone], on: dt.date
                      ) -> dict[int, tuple[int, int]]:
    from havens.assistance import indicators

    require(actor, "assistance.read")
    return {facts.zone_id: (sum(r.status == "met" for r in results),
                            sum(r.status != "unknown" for r in results))
            for facts, results in indicators.compute(db, on=on, zone_ids=[z.id for z in zones])}


def _safety(db: Session, actor: Principal, zones: list[Zone]) -> dict[str, str]:
    from havens.safety import service as safety_service

    found = safety_service.zones_safety(db, actor=actor, zone_ids=[z.id for z in zones])
    return {read.zone_code: read.status.value for read in found.values()}


def _incidents(db: Session, actor: Principal, zones: list[Zone], on: dt.date, single: bool
               ) -> tuple[list[tuple[str, Count]], Count]:
    from havens.interop.exports_safety import KINDS, count_table

    table = count_table(db, actor, Params(on=on, start=on - dt.timedelta(days=29), end=on),
                        zones)
    row = table.cells[0] if single else table.column_totals
    total = table.row_totals[0] if single else table.total
    return [(k.value, v) for k, v in zip(KINDS, row, strict=True) if v != 0], total


def _agreement(db: Session, actor: Principal, zone: Zone, on: dt.date) -> AgreementFacts:
    from havens.agreements import lifecycle, views
    from havens.agreements import service as agreement_service

    try:
        agreement = agreement_service.agreement_for_zone(db, actor=actor, zone_code=zone.code)
    except NotFound:
        # No agreement, or one the caller's organisation is not a party of: the zone's status
        # (public) says enough.
        return AgreementFacts(visible=lifecycle.agreement_of(db, zone) is None)
    version = lifecycle.in_force(db, agreement, on)
    latest = agreement_service.latest_version(agreement)
    shown = version or latest
    read = views.version_read(db, shown, on)
    facts = AgreementFacts(
        visible=True, version=read.number if version else None, start=shown.start_date,
        end=shown.end_date, parties=[p.organisation.acronym for p in read.parties],
        pending_signers=[o.acronym for o in read.pending_signers],
        administrator=next((p.organisation.acronym for p in read.parties
                            if p.organisation.id == shown.administrator_org_id), None),
        withdrawals=len(agreement.withdrawals))
    if can(actor, "assistance.read"):
        from havens.assistance import commitments

        facts.commitments = [
            {"ref": c.ref, "party": c.party, "what": c.what, "status": c.status.value,
             "due": c.due_date}
            for c in commitments.statuses(db, actor=actor, on=on, zone_id=zone.id)
            if c.status.value in ("pending", "broken", "partly_kept")]
    return facts


def _zone_rows(db: Session, actor: Principal, zones: list[Zone],
               population: disclosure.Protected, households: list[Count], *,
               services_by_zone: dict[int, tuple[int, int]], safety: dict[str, str],
               agreements: dict[str, AgreementFacts]) -> list[dict[str, Any]]:
    rows = []
    for n, zone in enumerate(zones):
        met, known = services_by_zone.get(zone.id, (0, 0))
        rows.append({"code": zone.code, "name_en": zone.name_en, "name_ar": zone.name_ar,
                     "status": zone.status.value, "households": households[n],
                     "individuals": population.row_totals[n],
                     "safety": safety.get(zone.code, ""), "services": f"{met}/{known}",
                     "agreement": agreements[zone.code].version})
    return rows


def _nearby_areas(db: Session, zones: list[Zone]) -> list[AdminArea]:
    """Admin areas with a boundary whose box meets the zones' box (sub-districts when the
    zones are small, governorates for all zones)."""
    boxes = [(z.min_lon, z.min_lat, z.max_lon, z.max_lat) for z in zones
             if z.min_lon is not None and z.min_lat is not None and z.max_lon is not None
             and z.max_lat is not None]
    if not boxes:
        return []
    min_lon = min(float(b[0] or 0) for b in boxes)
    min_lat = min(float(b[1] or 0) for b in boxes)
    max_lon = max(float(b[2] or 0) for b in boxes)
    max_lat = max(float(b[3] or 0) for b in boxes)
    level = 3 if len(zones) == 1 else 1
    near = 0.2 if level == 3 else 1.0
    for wanted in (level, 2, 1):
        found = list(db.scalars(select(AdminArea).where(
            AdminArea.level == wanted, AdminArea.geometry.is_not(None),
            AdminArea.min_lon <= max_lon + near, AdminArea.max_lon >= min_lon - near,
            AdminArea.min_lat <= max_lat + near, AdminArea.max_lat >= min_lat - near)))
        if found:
            return found
    return []


__all__ = ["Report", "gather"]
