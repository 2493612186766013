"""The site list in the shape of an IOM DTM / CCCM site assessment (ISIMM-style master list).

One row per site: identification (CP code, names in English and Arabic), location (P-codes
admin 1–3 and community, coordinates), site type and status, the zone, the managing agency,
population (registered households and individuals present; the latest site-monitoring figure),
arrivals and departures over the last 30 days, and the services present (sectors with an
activity of the 3W running at the site or in its zone on the date). So the zones of Havens can
be shared with the CCCM cluster's site lists. People are counted once: registrations merged into
another (confirmed duplicates) and households merged into another are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from havens.assistance.models import Activity, ActivityStatus, Sector
from havens.interop import disclosure
from havens.interop.common import Areas, own_count, own_sum
from havens.interop.geojson import feature, point
from havens.interop.registry import Column, Export, Params, Row, register
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, require
from havens.people.merges import not_merged
from havens.people.models import Household, HouseholdStatus, Individual, Movement, MovementKind
from havens.zones import capacity as capacity_rules
from havens.zones import service as zone_service
from havens.zones.models import Site, Zone

SECTORS = tuple(Sector)

COLUMNS = (
    Column("site_id", "#loc+code", "Site code (CCCM CP + 6 digits in north-west Syria)"),
    Column("site_name_en", "#loc+name+i_en", "Site name in English"),
    Column("site_name_ar", "#loc+name+i_ar", "Site name in Arabic"),
    Column("admin1_pcode", "#adm1+code", "Governorate P-code"),
    Column("admin1_name", "#adm1+name", "Governorate"),
    Column("admin2_pcode", "#adm2+code", "District P-code"),
    Column("admin2_name", "#adm2+name", "District"),
    Column("admin3_pcode", "#adm3+code", "Sub-district P-code"),
    Column("admin3_name", "#adm3+name", "Sub-district"),
    Column("community_pcode", "#adm4+code", "Community P-code"),
    Column("latitude", "#geo+lat", "Latitude (WGS 84)"),
    Column("longitude", "#geo+lon", "Longitude (WGS 84)"),
    Column("location_estimated", "#geo+estimated",
           "yes: no coordinates were given; the point is the admin area's centroid"),
    Column("site_type", "#loc+type", "IS informal settlement, PC planned camp, "
           "CC collective centre, T/RC transit/reception centre"),
    Column("site_status", "#status", "planned, open or closed"),
    Column("zone_code", "#loc+code+zone", "Havens safe zone holding the site (blank: outside)"),
    Column("managing_agency", "#org+name+cccm", "Site management agency"),
    Column("capacity", "#capacity+ind", "Standard or declared capacity, people"),
    Column("households", "#affected+idps+hh", "Registered households present"),
    Column("individuals", "#affected+idps+ind", "Registered individuals present"),
    Column("reported_individuals", "#affected+idps+ind+reported",
           "Individuals by the latest site-monitoring report"),
    Column("reported_on", "#date+reported", "Date of that report"),
    Column("arrivals_30d", "#affected+idps+ind+arrived", "Individuals arrived, last 30 days"),
    Column("departures_30d", "#affected+idps+ind+departed",
           "Individuals departed, last 30 days"),
    *(Column(f"service_{s.value}", f"#service+{s.value}",
             f"yes: a {s.value.replace('_', ' ')} activity of the 3W runs at the site or in "
             "its zone on the date") for s in SECTORS),
)


@dataclass
class SiteFigures:
    households: list[disclosure.Count]
    individuals: list[disclosure.Count]
    arrivals: list[disclosure.Count]
    departures: list[disclosure.Count]


def _sites(db: Session, params: Params) -> list[Site]:
    query = select(Site).order_by(Site.code)
    if params.zone:
        zone = db.scalar(select(Zone).where(Zone.code == params.zone.strip().upper()))
        if zone is None:
            from havens.exceptions import NotFound

            raise NotFound(f"No zone with code {params.zone}.", field="zone")
        query = query.where(Site.zone_id == zone.id)
    return list(db.scalars(query))


def _grouped(db: Session, query: Any, index: dict[int, int], size: int
             ) -> tuple[list[int], list[int]]:
    values, own = [0] * size, [0] * size
    for site_id, count, count_own in db.execute(query):
        if site_id in index:
            values[index[site_id]], own[index[site_id]] = int(count), int(count_own)
    return values, own


def figures(db: Session, actor: Principal, params: Params, sites: list[Site]) -> SiteFigures:
    """Registered population and 30-day flows of the sites, with disclosure control."""
    require(actor, "people.aggregate")
    index = {s.id: n for n, s in enumerate(sites)}
    n = len(sites)
    hh, hh_own = _grouped(db, select(Household.site_id, func.count(),
                                     own_count(Household.organisation_id, actor))
                          .where(Household.status == HouseholdStatus.present,
                                 not_merged(Household))
                          .group_by(Household.site_id), index, n)
    ind, ind_own = _grouped(db, select(Individual.site_id, func.count(),
                                       own_count(Individual.organisation_id, actor))
                            .where(Individual.present.is_(True), not_merged(Individual))
                            .group_by(Individual.site_id), index, n)
    start, end = params.period(30)
    flows: dict[MovementKind, tuple[list[int], list[int]]] = {}
    for kind in (MovementKind.arrival, MovementKind.departure):
        people = func.coalesce(func.sum(Movement.individuals), 0)
        mine = own_sum(Household.organisation_id, Movement.individuals, actor)
        flows[kind] = _grouped(db, select(Movement.site_id, people, mine)
                               .join(Household, Household.id == Movement.household_id)
                               .where(Movement.kind == kind, Movement.moved_on >= start,
                                      Movement.moved_on <= end, not_merged(Household))
                               .group_by(Movement.site_id), index, n)
    strict, suppress = disclosure.must_suppress(actor), not actor.is_system

    def mask(values: list[int], own: list[int]) -> list[bool] | None:
        return None if strict else [v == o for v, o in zip(values, own, strict=True)]

    # The zones' sums of these are published by the population and flows exports: each zone
    # keeps its total and protects its sites among themselves.
    zones = [s.zone_id or 0 for s in sites]
    arrivals, departures = flows[MovementKind.arrival], flows[MovementKind.departure]

    def protected(pair: tuple[list[int], list[int]]) -> list[disclosure.Count]:
        values, own = pair
        if not suppress:
            return list(values)
        return disclosure.protect_within(values, zones, exempt=mask(values, own))

    return SiteFigures(protected((hh, hh_own)), protected((ind, ind_own)),
                       protected(arrivals), protected(departures))


def _services(db: Session, params: Params) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Sectors with an activity running on the date: by site, and zone-wide by zone."""
    by_site: dict[int, set[str]] = {}
    by_zone: dict[int, set[str]] = {}
    rows = db.execute(select(Activity.zone_id, Activity.site_id, Activity.sector).where(
        Activity.start_date <= params.on,
        or_(Activity.end_date.is_(None), Activity.end_date >= params.on),
        Activity.status.in_([ActivityStatus.ongoing, ActivityStatus.completed])).distinct())
    for zone_id, site_id, sector in rows:
        target = by_site.setdefault(site_id, set()) if site_id else by_zone.setdefault(
            zone_id, set())
        target.add(Sector(sector).value)
    return by_site, by_zone


def _records(db: Session, actor: Principal, params: Params) -> Iterator[tuple[Site, Row]]:
    require(actor, "zones.read")
    sites = _sites(db, params)
    numbers = figures(db, actor, params, sites)
    areas = Areas(db)
    zones = {z.id: z.code for z in db.scalars(select(Zone))}
    agencies = {o.id: o.acronym for o in db.scalars(select(Organisation))}
    reports = zone_service.latest_reports(db, site_ids=[s.id for s in sites])
    by_site, by_zone = _services(db, params)
    for n, site in enumerate(sites):
        adm = [areas.at_level(site.admin3_pcode or site.admin2_pcode or site.admin1_pcode, level)
               for level in (1, 2, 3)]
        report = reports.get(site.id)
        present = by_site.get(site.id, set()) | by_zone.get(site.zone_id or -1, set())
        row = (site.code, site.name_en, site.name_ar,
               *(v for a in adm for v in ((a.pcode, a.name_en) if a else (None, None))),
               site.community_pcode, site.lat, site.lon, site.location_estimated,
               site.site_type, site.status, zones.get(site.zone_id or -1),
               agencies.get(site.managing_org_id or -1) or site.managing_agency,
               capacity_rules.site_capacity(site), numbers.households[n],
               numbers.individuals[n], report.individuals if report else None,
               report.reported_on if report else None, numbers.arrivals[n],
               numbers.departures[n], *(s.value in present for s in SECTORS))
        yield site, row


def rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    for _site, row in _records(db, actor, params):
        yield row


def features(db: Session, actor: Principal, params: Params) -> Iterator[dict[str, Any]]:
    names = [c.name for c in COLUMNS]
    for site, row in _records(db, actor, params):
        properties = {k: (v.value if hasattr(v, "value") else v) for k, v in zip(names, row,
                                                                                 strict=True)}
        yield feature(point(site.lon, site.lat), properties, site.code)


register(Export(
    name="dtm-sites", title="Site list (IOM DTM / CCCM site assessment shape)",
    description="One row per site in the shape of a DTM / CCCM site list; GeoJSON as points. "
    "Registered population and flows under the disclosure control of `population`.",
    columns=COLUMNS, rows=rows, features=features, action="zones.read"))
