"""Exports of zones, admin areas, the present population by sex and age, and the flows.

People are counted once: registrations merged into another (confirmed duplicates) and the
movements of households merged into another are left out (``havens.people.merges``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from havens.geo.models import AdminArea
from havens.interop import disclosure
from havens.interop.common import Areas, own_count, own_sum, zones_of
from havens.interop.geojson import feature
from havens.interop.registry import Column, Export, Params, Row, register
from havens.orgs.permissions import Principal, require
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
from havens.people.occupancy import AGE_GROUPS, age_group_expression
from havens.zones import capacity as capacity_rules
from havens.zones import service as zone_service
from havens.zones.models import Site, SiteStatus, Zone

# --- zones -----------------------------------------------------------------------------------

ZONE_COLUMNS = (
    Column("zone_code", "#loc+code", "Havens zone code, e.g. SZ-SY07-001"),
    Column("name_en", "#loc+name+i_en", "Zone name in English"),
    Column("name_ar", "#loc+name+i_ar", "Zone name in Arabic"),
    Column("status", "#status", "proposed, negotiating, consented, operational, suspended, "
           "closing, closed or rejected"),
    Column("admin1_pcode", "#adm1+code", "Governorate P-code (OCHA COD-AB)"),
    Column("admin1_name", "#adm1+name", "Governorate name"),
    Column("admin2_pcode", "#adm2+code", "District P-code"),
    Column("admin2_name", "#adm2+name", "District name"),
    Column("admin_pcodes", "#adm3+code+list", "All P-codes the zone covers, space-separated"),
    Column("area_km2", "#geo+area+km2", "Geodesic area of the boundary, km²"),
    Column("sites", "#meta+sites+num", "Sites (camps, collective centres...) in the zone"),
    Column("capacity", "#capacity+ind", "Standard capacity, people (Sphere: 45 m² a person)"),
    Column("reported_ind", "#affected+idps+ind+reported",
           "Individuals by the latest site-monitoring report of each open site"),
    Column("emergency_phase", "#status+phase", "yes: first phase of an emergency (Sphere)"),
    Column("min_lon", "#geo+bounds+lon+min", "Bounding box of the boundary"),
    Column("min_lat", "#geo+bounds+lat+min", "Bounding box of the boundary"),
    Column("max_lon", "#geo+bounds+lon+max", "Bounding box of the boundary"),
    Column("max_lat", "#geo+bounds+lat+max", "Bounding box of the boundary"),
)


def _zone_figures(db: Session, zone: Zone) -> tuple[int, int | None, int]:
    sites = list(db.scalars(select(Site).where(Site.zone_id == zone.id,
                                               Site.status != SiteStatus.closed)))
    reports = zone_service.latest_reports(db, site_ids=[s.id for s in sites])
    return (len(sites), capacity_rules.zone_capacity(db, zone_id=zone.id),
            sum(r.individuals for r in reports.values()))


def zone_rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    require(actor, "zones.read")
    areas = Areas(db)
    for zone in zones_of(db, params.zone):
        adm1, adm2 = areas.of_zone(zone, 1), areas.of_zone(zone, 2)
        sites, capacity, reported = _zone_figures(db, zone)
        yield (zone.code, zone.name_en, zone.name_ar, zone.status,
               adm1.pcode if adm1 else None, adm1.name_en if adm1 else None,
               adm2.pcode if adm2 else None, adm2.name_en if adm2 else None,
               zone.admin_pcodes, round(zone.area_m2 / 1e6, 3) if zone.area_m2 else None,
               sites, capacity, reported, zone.emergency_phase,
               zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat)


def zone_features(db: Session, actor: Principal, params: Params) -> Iterator[dict[str, Any]]:
    """Zones as ``zones.service.feature_collection`` makes them (``havens zones import`` reads
    them back), with the export's figures added to the properties."""
    require(actor, "zones.read")
    for zone in zones_of(db, params.zone):
        base = zone_service.feature_collection(db, [zone])["features"][0]
        sites, capacity, reported = _zone_figures(db, zone)
        base["properties"].update({"sites": sites, "capacity": capacity,
                                   "reported_individuals": reported})
        yield base


register(Export(
    name="zones", title="Safe zones",
    description="One row per zone: names, status, admin areas, area, sites, capacity and the "
    "population reported by site monitoring. GeoJSON: the boundaries, re-importable with "
    "`havens zones import`.",
    columns=ZONE_COLUMNS, rows=zone_rows, features=zone_features, action="zones.read"))


# --- admin areas -----------------------------------------------------------------------------

AREA_COLUMNS = (
    Column("pcode", "#adm+code", "P-code (OCHA COD-AB)"),
    Column("level", "#adm+level", "1 governorate, 2 district, 3 sub-district"),
    Column("parent_pcode", "#adm+code+parent", "P-code of the area above"),
    Column("name_en", "#adm+name+i_en", "Name in English"),
    Column("name_ar", "#adm+name+i_ar", "Name in Arabic"),
    Column("centroid_lon", "#geo+lon", "Centroid longitude"),
    Column("centroid_lat", "#geo+lat", "Centroid latitude"),
)


def _areas(db: Session) -> Iterator[AdminArea]:
    yield from db.scalars(select(AdminArea).order_by(AdminArea.level, AdminArea.pcode)
                          .execution_options(yield_per=200))


def area_rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    require(actor, "geo.read")
    for a in _areas(db):
        yield (a.pcode, a.level, a.parent_pcode, a.name_en, a.name_ar, a.centroid_lon,
               a.centroid_lat)


def area_features(db: Session, actor: Principal, params: Params) -> Iterator[dict[str, Any]]:
    require(actor, "geo.read")
    for a in _areas(db):
        geometry = a.geometry or ({"type": "Point", "coordinates": [a.centroid_lon,
                                                                     a.centroid_lat]}
                                  if a.centroid_lon is not None else None)
        yield feature(geometry, {"pcode": a.pcode, "level": a.level,
                                 "parent_pcode": a.parent_pcode, "name_en": a.name_en,
                                 "name_ar": a.name_ar}, a.pcode)


register(Export(
    name="admin-areas", title="Administrative areas",
    description="The reference geography: governorates, districts and sub-districts with "
    "their P-codes; GeoJSON with their boundaries where known (else the centroid).",
    columns=AREA_COLUMNS, rows=area_rows, features=area_features, action="geo.read"))


# --- population by zone, sex and age ---------------------------------------------------------

_SEX_ATTR = {Sex.female: "f", Sex.male: "m"}
_AGE_ATTR = {"0-4": "children+age0_4", "5-11": "children+age5_11",
             "12-17": "children+age12_17", "18-59": "adults+age18_59",
             "60+": "elderly+age60plus"}


def _label(age_group: str) -> str:
    return age_group.replace("-", "_").replace("+", "plus")


CELLS: tuple[tuple[Sex, str], ...] = tuple((sex, label) for sex in (Sex.female, Sex.male)
                                           for label, _l, _h in AGE_GROUPS)

POPULATION_COLUMNS = (
    Column("zone_code", "#loc+code", "Zone code; TOTAL for the last row"),
    Column("zone_name", "#loc+name", "Zone name (English)"),
    Column("admin1_pcode", "#adm1+code", "Governorate P-code"),
    Column("households", "#affected+idps+hh", "Registered households present"),
    Column("individuals", "#affected+idps+ind", "Registered individuals present"),
    Column("female", "#affected+idps+f", "Women and girls present"),
    Column("male", "#affected+idps+m", "Men and boys present"),
    *(Column(f"{'female' if sex is Sex.female else 'male'}_{_label(label)}",
             f"#affected+idps+{_SEX_ATTR[sex]}+{_AGE_ATTR[label]}",
             f"{'Female' if sex is Sex.female else 'Male'} present aged {label} on the date")
      for sex, label in CELLS),
)


def population_table(db: Session, actor: Principal, params: Params, zones: list[Zone]
                     ) -> tuple[disclosure.Protected, list[disclosure.Count], disclosure.Count]:
    """Present registered population of the zones: (sex × age table, households, total)."""
    require(actor, "people.aggregate")
    index = {z.id: n for n, z in enumerate(zones)}
    cells = [[0] * len(CELLS) for _ in zones]
    own = [[0] * len(CELLS) for _ in zones]
    position = {key: n for n, key in enumerate(CELLS)}
    group = age_group_expression(params.on).label("age_group")
    mine = own_count(Individual.organisation_id, actor)
    for zone_id, sex, label, count, count_own in db.execute(
            select(Site.zone_id, Individual.sex, group, func.count(), mine)
            .select_from(Individual).join(Site, Site.id == Individual.site_id)
            .where(Individual.present.is_(True), not_merged(Individual),
                   Site.zone_id.in_(list(index)))
            .group_by(Site.zone_id, Individual.sex, group)):
        row, col = index[zone_id], position[(Sex(sex), label)]
        cells[row][col], own[row][col] = int(count), int(count_own)
    households, hh_own = [0] * len(zones), [0] * len(zones)
    for zone_id, count, count_own in db.execute(
            select(Site.zone_id, func.count(), own_count(Household.organisation_id, actor))
            .select_from(Household).join(Site, Site.id == Household.site_id)
            .where(Household.status == HouseholdStatus.present, not_merged(Household),
                   Site.zone_id.in_(list(index)))
            .group_by(Site.zone_id)):
        households[index[zone_id]], hh_own[index[zone_id]] = int(count), int(count_own)
    strict = disclosure.must_suppress(actor)
    suppress = not actor.is_system
    exempt = None if strict else [[c == o for c, o in zip(r, ro, strict=True)]
                                  for r, ro in zip(cells, own, strict=True)]
    half = len(AGE_GROUPS)
    # A zone's individuals and households are published elsewhere too (the standards
    # indicators are computed per person, the site list adds up per zone): they are kept.
    table = disclosure.protect(cells, exempt=exempt, suppress=suppress, keep_row_totals=True,
                               groups=[list(range(half)), list(range(half, 2 * half))])
    hh, hh_total = disclosure.protect_column(
        households, suppress=suppress, keep_cells=True,
        exempt=None if strict else [c == o for c, o in zip(households, hh_own, strict=True)])
    return table, hh, hh_total


def population_rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    zones = zones_of(db, params.zone)
    table, households, hh_total = population_table(db, actor, params, zones)
    areas = Areas(db)
    for n, zone in enumerate(zones):
        adm1 = areas.of_zone(zone, 1)
        yield (zone.code, zone.name_en, adm1.pcode if adm1 else None, households[n],
               table.row_totals[n], *table.group_totals[n], *table.cells[n])
    yield ("TOTAL", "All zones" if not params.zone else zones[0].name_en, None, hh_total,
           table.total, *table.group_column_totals, *table.column_totals)


register(Export(
    name="population", title="Present population by zone, sex and age",
    description="Registered households and individuals present in each zone on the date, by "
    "sex and age group, with a TOTAL row. For callers without personal-data rights — and for "
    "counts that include other organisations' registrations — counts of 1 to 4 show as `<5` "
    "and enough other cells as `x` that none can be worked out from the totals.",
    columns=POPULATION_COLUMNS, rows=population_rows, action="people.aggregate"))


# --- arrivals and departures -----------------------------------------------------------------

FLOW_KEYS: tuple[str, ...] = ("arrivals", *(f"departures_{d.value}" for d in DestinationType),
                              "relocations_in", "relocations_out")
FLOW_COLUMNS = (
    Column("zone_code", "#loc+code", "Zone code; TOTAL for the last row"),
    Column("zone_name", "#loc+name", "Zone name (English)"),
    Column("start", "#date+start", "First day of the period"),
    Column("end", "#date+end", "Last day of the period"),
    Column("arrival_households", "#affected+idps+hh+arrived", "Households arrived"),
    Column("arrivals", "#affected+idps+ind+arrived", "Individuals arrived"),
    *(Column(f"departures_{d.value}", f"#affected+idps+ind+departed+{d.value}",
             f"Individuals departed, destination: {d.value.replace('_', ' ')}")
      for d in DestinationType),
    Column("relocations_in", "#affected+idps+ind+relocated+in",
           "Individuals relocated into the zone from another zone"),
    Column("relocations_out", "#affected+idps+ind+relocated+out",
           "Individuals relocated from the zone to another zone"),
)


def flow_table(db: Session, actor: Principal, params: Params, zones: list[Zone]
               ) -> tuple[disclosure.Protected, list[disclosure.Count], disclosure.Count]:
    """Flows per zone over the period: (individuals table, arrival households, total)."""
    require(actor, "people.aggregate")
    start, end = params.period()
    index = {z.id: n for n, z in enumerate(zones)}
    position = {key: n for n, key in enumerate(FLOW_KEYS)}
    cells = [[0] * len(FLOW_KEYS) for _ in zones]
    own = [[0] * len(FLOW_KEYS) for _ in zones]
    arrived_hh, arrived_hh_own = [0] * len(zones), [0] * len(zones)
    to_site = aliased(Site)
    people = func.coalesce(func.sum(Movement.individuals), 0)
    people_own = own_sum(Household.organisation_id, Movement.individuals, actor)
    rows = db.execute(
        select(Site.zone_id, to_site.zone_id, Movement.kind, Movement.destination_type,
               func.count(), own_count(Household.organisation_id, actor), people, people_own)
        .select_from(Movement).join(Site, Site.id == Movement.site_id)
        .join(Household, Household.id == Movement.household_id)
        .outerjoin(to_site, to_site.id == Movement.to_site_id)
        .where(Movement.moved_on >= start, Movement.moved_on <= end, not_merged(Household))
        .group_by(Site.zone_id, to_site.zone_id, Movement.kind, Movement.destination_type))
    for zone_from, zone_to, kind, destination, hh, hh_own, ind, ind_own in rows:
        targets: list[tuple[int | None, str]] = []
        if kind == MovementKind.arrival:
            targets = [(zone_from, "arrivals")]
            if zone_from in index:
                arrived_hh[index[zone_from]] += int(hh)
                arrived_hh_own[index[zone_from]] += int(hh_own)
        elif kind == MovementKind.departure:
            kind_of = DestinationType(destination or DestinationType.unknown).value
            targets = [(zone_from, f"departures_{kind_of}")]
        elif zone_from != zone_to:
            targets = [(zone_from, "relocations_out"), (zone_to, "relocations_in")]
        for zone_id, key in targets:
            if zone_id in index:
                cells[index[zone_id]][position[key]] += int(ind)
                own[index[zone_id]][position[key]] += int(ind_own)
    strict = disclosure.must_suppress(actor)
    suppress = not actor.is_system
    # The departures of all destinations together are published too (reports show them).
    departures = [n for n, key in enumerate(FLOW_KEYS) if key.startswith("departures_")]
    # The site list shows arrivals and departures per site: their sums per zone are kept.
    table = disclosure.protect(cells, suppress=suppress, groups=[departures],
                               keep_columns=[FLOW_KEYS.index("arrivals")],
                               keep_group_totals=True, exempt=None
                               if strict else [[c == o for c, o in zip(r, ro, strict=True)]
                                               for r, ro in zip(cells, own, strict=True)])
    hh, hh_total = disclosure.protect_column(
        arrived_hh, suppress=suppress,
        exempt=None if strict else [c == o for c, o in zip(arrived_hh, arrived_hh_own,
                                                          strict=True)])
    return table, hh, hh_total


def flow_rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    zones = zones_of(db, params.zone)
    start, end = params.period()
    table, households, hh_total = flow_table(db, actor, params, zones)
    for n, zone in enumerate(zones):
        yield (zone.code, zone.name_en, start, end, households[n], *table.cells[n])
    yield ("TOTAL", "All zones" if not params.zone else zones[0].name_en, start, end, hh_total,
           *table.column_totals)


register(Export(
    name="flows", title="Arrivals and departures by zone",
    description="Movements of registered households over a period (default: the 30 days "
    "ending on the date): arrivals, departures by destination type (`abroad` apart: what the "
    "zones exist to prevent) and relocations between zones; disclosure control as for "
    "`population`.",
    columns=FLOW_COLUMNS, rows=flow_rows, action="people.aggregate"))

