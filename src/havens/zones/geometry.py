"""Geometry of zones and sites: GeoJSON validation, geodesic areas and distances.

Boundaries are GeoJSON in longitude/latitude (WGS 84). Validation is done on the raw
coordinates first (Shapely silently closes open rings), then with Shapely for topology.
Areas and distances are geodesic on the WGS 84 ellipsoid (pyproj ``Geod``), not planar.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from havens.exceptions import ValidationFailed

GEOD = Geod(ellps="WGS84")
POLYGON_TYPES = ("Polygon", "MultiPolygon")

Bounds = tuple[float, float, float, float]


def check_point(lon: Any, lat: Any, *, field: str = "location") -> tuple[float, float]:
    """A longitude/latitude pair as floats, in range; else ``ValidationFailed``."""
    for name, value in (("longitude", lon), ("latitude", lat)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            raise ValidationFailed(f"The {name} must be a number, not {value!r}.", field=field)
    if not -180 <= lon <= 180:
        raise ValidationFailed(f"Longitude {lon} is out of range (-180 to 180).", field=field)
    if not -90 <= lat <= 90:
        raise ValidationFailed(f"Latitude {lat} is out of range (-90 to 90).", field=field)
    return float(lon), float(lat)


def polygon_from_geojson(geojson: Any, *, field: str = "boundary") -> BaseGeometry:
    """A valid Shapely (Multi)Polygon from a GeoJSON geometry, or an error naming the problem."""
    if not isinstance(geojson, dict):
        raise ValidationFailed("The boundary must be a GeoJSON geometry object.", field=field)
    kind = geojson.get("type")
    if kind not in POLYGON_TYPES:
        raise ValidationFailed(
            f"The boundary must be a GeoJSON Polygon or MultiPolygon, not {kind!r}.", field=field)
    coordinates = geojson.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise ValidationFailed(f"The {kind} has no coordinates.", field=field)
    for p_index, rings in enumerate(polygons, start=1):
        where = f"polygon {p_index}, " if kind == "MultiPolygon" else ""
        if not isinstance(rings, list) or not rings:
            raise ValidationFailed(f"{where}the polygon has no rings.".capitalize(), field=field)
        for r_index, ring in enumerate(rings):
            name = "outer ring" if r_index == 0 else f"hole {r_index}"
            _check_ring(ring, f"{where}{name}", field)
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ValidationFailed(f"The boundary is not valid GeoJSON: {exc}.", field=field) from exc
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        if "Self-intersection" in reason or "Ring Self-intersection" in reason:
            raise ValidationFailed(f"The boundary intersects itself ({reason}).", field=field)
        raise ValidationFailed(f"The boundary is not a valid polygon ({reason}).", field=field)
    if geometry.is_empty or geometry.area == 0:
        raise ValidationFailed("The boundary encloses no area.", field=field)
    return geometry


def _check_ring(ring: Any, name: str, field: str) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ValidationFailed(
            f"The {name} needs at least 4 positions (a closed triangle).", field=field)
    for position in ring:
        if (not isinstance(position, list | tuple) or len(position) not in (2, 3)
                or any(isinstance(v, bool) or not isinstance(v, int | float) for v in position)):
            raise ValidationFailed(
                f"The {name} has a position that is not [longitude, latitude]: {position!r}.",
                field=field)
        lon, lat = position[0], position[1]
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            raise ValidationFailed(
                f"The {name} has a longitude out of range (-180 to 180): {lon}.", field=field)
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            raise ValidationFailed(
                f"The {name} has a latitude out of range (-90 to 90): {lat}.", field=field)
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise ValidationFailed(
            f"The {name} is not closed: its last position must repeat its first "
            f"{list(ring[0][:2])}.", field=field)


def to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of a geometry, with plain lists (JSON columns and comparisons want no tuples)."""
    mapping = shapely.geometry.mapping(geometry)
    return {"type": mapping["type"], "coordinates": _lists(mapping["coordinates"])}


def _lists(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    """Area on the WGS 84 ellipsoid in square metres (holes subtracted)."""
    # pyproj sums signed ring areas: outer rings must run counter-clockwise and holes
    # clockwise for holes to be subtracted, whatever the orientation the user drew.
    area, _perimeter = GEOD.geometry_area_perimeter(shapely.orient_polygons(geometry))
    return abs(area)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance between two points in metres."""
    _fwd, _back, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(metres)


def bounds(geometry: BaseGeometry) -> Bounds:
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    return float(min_lon), float(min_lat), float(max_lon), float(max_lat)


def interiors_intersect(a: BaseGeometry, b: BaseGeometry) -> bool:
    """True when two areas share interior (overlap); sharing only an edge or corner is not."""
    return bool(a.relate_pattern(b, "T********"))


def point(lon: float, lat: float) -> Point:
    return Point(lon, lat)
