"""Boundary validation and geodesic measures."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import shape

from havens.exceptions import ValidationFailed
from havens.zones import geometry
from tests.zones.conftest import square


def _error(boundary: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        geometry.polygon_from_geojson(boundary)
    assert caught.value.field == "boundary"
    return caught.value


def test_a_valid_polygon_and_multipolygon_pass() -> None:
    assert geometry.polygon_from_geojson(square(36.6, 36.2)).geom_type == "Polygon"
    multi = {"type": "MultiPolygon", "coordinates": [square(36.0, 36.0)["coordinates"],
                                                     square(37.0, 36.0)["coordinates"]]}
    assert geometry.polygon_from_geojson(multi).geom_type == "MultiPolygon"


def test_self_intersection_is_named() -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[36, 36], [37, 37], [37, 36], [36, 37],
                                                   [36, 36]]]}
    assert "intersects itself" in _error(bow_tie).message


def test_open_ring_is_named() -> None:
    ring = square(36, 36)["coordinates"][0][:-1]
    error = _error({"type": "Polygon", "coordinates": [ring]})
    assert "not closed" in error.message and "outer ring" in error.message


def test_out_of_range_coordinates_are_named() -> None:
    assert "longitude out of range" in _error(square(179.95, 10)).message
    assert "latitude out of range" in _error(square(36, 89.95)).message


def test_wrong_type_and_shape_are_named() -> None:
    assert "not 'Point'" in _error({"type": "Point", "coordinates": [36, 36]}).message
    assert "GeoJSON geometry object" in _error("POLYGON((36 36, 37 36, 37 37, 36 36))").message
    assert "at least 4 positions" in _error(
        {"type": "Polygon", "coordinates": [[[36, 36], [37, 36], [36, 36]]]}).message
    assert "not [longitude, latitude]" in _error(
        {"type": "Polygon", "coordinates": [[[36, 36], [37, "36"], [37, 37], [36, 36]]]}).message
    hole_open = square(36, 36, 1)["coordinates"] + [[[36.2, 36.2], [36.4, 36.2], [36.4, 36.4]]]
    assert "hole 1" in _error({"type": "Polygon", "coordinates": hole_open}).message


def _ellipsoidal_quadrangle_m2(lat1: float, lat2: float, dlon: float) -> float:
    """Exact area between two parallels and two meridians on the WGS 84 ellipsoid:
    A = b² Δλ / 2 · [f(φ2) − f(φ1)], f(φ) = sinφ/(1−e²sin²φ) + atanh(e sinφ)/e."""
    a = 6378137.0
    flattening = 1 / 298.257223563
    b = a * (1 - flattening)
    e = math.sqrt(flattening * (2 - flattening))

    def f(phi: float) -> float:
        s = math.sin(phi)
        return s / (1 - e * e * s * s) + math.atanh(e * s) / e

    return b * b * math.radians(dlon) / 2 * (f(math.radians(lat2)) - f(math.radians(lat1)))


def test_geodesic_area_of_a_square_matches_the_closed_form() -> None:
    # 0.1° × 0.1° at Idleb's latitude: the geodesic top and bottom edges differ from the
    # parallels by far less than the 0.01 % tolerance.
    measured = geometry.geodesic_area_m2(shape(square(36.6, 36.2, 0.1)))
    expected = _ellipsoidal_quadrangle_m2(36.2, 36.3, 0.1)
    assert measured == pytest.approx(expected, rel=1e-4)
    assert 99e6 < measured < 100e6  # ~8.98 km × 11.1 km
    # One degree square on the equator: the textbook 12,308.8 km².
    equator = geometry.geodesic_area_m2(shape(square(0, 0, 1)))
    assert equator / 1e6 == pytest.approx(12308.8, abs=0.5)


def test_area_is_positive_whatever_the_ring_orientation_and_holes_count() -> None:
    ring = square(36, 36, 0.1)["coordinates"][0]
    clockwise = {"type": "Polygon", "coordinates": [list(reversed(ring))]}
    assert geometry.geodesic_area_m2(shape(clockwise)) == pytest.approx(
        geometry.geodesic_area_m2(shape(square(36, 36, 0.1))))
    holed = {"type": "Polygon", "coordinates": [
        ring, square(36.025, 36.025, 0.05)["coordinates"][0]]}
    assert geometry.geodesic_area_m2(shape(holed)) == pytest.approx(
        0.75 * geometry.geodesic_area_m2(shape(square(36, 36, 0.1))), rel=1e-3)


def test_touching_is_not_overlapping() -> None:
    a, b = shape(square(36, 36)), shape(square(36.1, 36))
    assert not geometry.interiors_intersect(a, b)
    assert geometry.interiors_intersect(a, shape(square(36.05, 36.05)))
    assert geometry.interiors_intersect(shape(square(36, 36, 1)), shape(square(36.2, 36.2)))


def test_check_point() -> None:
    assert geometry.check_point(36, 36.5) == (36.0, 36.5)
    with pytest.raises(ValidationFailed, match="Latitude 91"):
        geometry.check_point(36, 91)
    with pytest.raises(ValidationFailed, match="must be a number"):
        geometry.check_point(True, 36)
