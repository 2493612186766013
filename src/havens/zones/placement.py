"""Which zone holds a point, which site is nearest: used by sites, incidents and services.

Only zones whose status is in ``ACTIVE_ZONE_STATUSES`` place sites and points: their
boundaries never overlap, so the answer is unique (a point on a shared edge goes to the zone
found first). Every lookup prefilters by bounding box before the exact polygon test.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from shapely.geometry import shape
from shapely.prepared import PreparedGeometry, prep
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from havens.zones.geometry import GEOD, Bounds, bounds, distance_m, point
from havens.zones.models import ACTIVE_ZONE_STATUSES, Site, Zone


class ZoneIndex:
    """Prepared boundaries of the active zones, for placing many points in one go."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self._entries: list[tuple[Zone, Bounds, PreparedGeometry]] = []
        for zone in zones:
            if zone.boundary:
                polygon = shape(zone.boundary)
                self._entries.append((zone, bounds(polygon), prep(polygon)))

    @classmethod
    def load(cls, db: Session) -> ZoneIndex:
        return cls(db.scalars(select(Zone).where(Zone.status.in_(ACTIVE_ZONE_STATUSES),
                                                 Zone.boundary.is_not(None)).order_by(Zone.id)))

    def zone_at(self, lon: float, lat: float) -> Zone | None:
        here = point(lon, lat)
        for zone, (min_lon, min_lat, max_lon, max_lat), polygon in self._entries:
            if min_lon <= lon <= max_lon and min_lat <= lat <= max_lat and polygon.covers(here):
                return zone
        return None


def zone_at_point(db: Session, *, lon: float, lat: float) -> Zone | None:
    """The active zone whose boundary holds the point, if any."""
    candidates = db.scalars(select(Zone).where(
        Zone.status.in_(ACTIVE_ZONE_STATUSES), Zone.boundary.is_not(None),
        Zone.min_lon <= lon, Zone.max_lon >= lon, Zone.min_lat <= lat, Zone.max_lat >= lat,
    ).order_by(Zone.id))
    return ZoneIndex(candidates).zone_at(lon, lat)


def place_site(db: Session, site: Site, index: ZoneIndex | None = None) -> None:
    """Set the site's zone from its point (none for an estimated location)."""
    if site.location_estimated:
        site.zone = None
        return
    zone = (index.zone_at(site.lon, site.lat) if index is not None
            else zone_at_point(db, lon=site.lon, lat=site.lat))
    site.zone = zone


def replace_sites_of_zone(db: Session, zone: Zone) -> int:
    """After a zone is created or its boundary changes: its sites are those its boundary holds.
    Returns how many sites changed zone."""
    conditions = [Site.zone_id == zone.id]
    if zone.boundary and zone.min_lon is not None and zone.status in ACTIVE_ZONE_STATUSES:
        conditions.append(and_(
            Site.zone_id.is_(None), Site.location_estimated.is_(False),
            Site.lon >= zone.min_lon, Site.lon <= zone.max_lon,
            Site.lat >= zone.min_lat, Site.lat <= zone.max_lat))
    changed = 0
    for site in db.scalars(select(Site).where(or_(*conditions))):
        before = site.zone_id
        place_site(db, site)
        db.flush()
        changed += site.zone_id != before
    return changed


def _site_polygon_holding(sites: Sequence[Site], lon: float, lat: float) -> Site | None:
    here = point(lon, lat)
    for site in sites:
        if site.boundary and shape(site.boundary).covers(here):
            return site
    return None


def nearest_site(sites: Sequence[Site], lon: float, lat: float) -> tuple[Site, float] | None:
    """The site whose point is nearest (geodesic), with the distance in metres."""
    located = [s for s in sites if not s.location_estimated]
    if not located:
        return None
    count = len(located)
    _fwd, _back, metres = GEOD.inv(np.full(count, lon), np.full(count, lat),
                                   np.array([s.lon for s in located]),
                                   np.array([s.lat for s in located]))
    best = int(np.argmin(metres))
    return located[best], float(metres[best])


def locate(db: Session, *, lon: float, lat: float) -> tuple[Zone | None, Site | None]:
    """The zone holding a point and the site there: the site whose polygon holds the point,
    else the nearest site of that zone. Outside every zone only a site polygon counts."""
    zone, site, _distance = locate_with_distance(db, lon=lon, lat=lat)
    return zone, site


def locate_with_distance(db: Session, *, lon: float, lat: float
                         ) -> tuple[Zone | None, Site | None, float | None]:
    zone = zone_at_point(db, lon=lon, lat=lat)
    if zone is not None:
        sites = list(db.scalars(select(Site).where(Site.zone_id == zone.id).order_by(Site.id)))
    else:
        # No bounding box is kept for site polygons: a point test is cheap for the few drawn.
        sites = list(db.scalars(select(Site).where(Site.boundary.is_not(None))
                                .order_by(Site.id)))
    holder = _site_polygon_holding(sites, lon, lat)
    if holder is not None:
        return zone, holder, distance_m(lon, lat, holder.lon, holder.lat)
    if zone is None:
        return None, None, None
    nearest = nearest_site(sites, lon, lat)
    if nearest is None:
        return zone, None, None
    return zone, nearest[0], nearest[1]
