"""GeoJSON exports read back with Shapely; the zones export round-trips through the zones
importer; incidents are points only where the caller may see them."""

from __future__ import annotations

import json

from shapely.geometry import shape
from sqlalchemy.orm import Session

from havens.orgs.permissions import Principal
from havens.zones import service as zone_service
from havens.zones.schemas import ZoneCreate
from tests.interop.conftest import World, box
from tests.interop.helpers import run


def _collection(data: bytes) -> dict:
    parsed = json.loads(data)
    assert parsed["type"] == "FeatureCollection"
    return parsed


def test_zones_geojson_round_trips_through_the_importer(db: Session, world: World,
                                                        system: Principal) -> None:
    collection = _collection(run(db, world.p(world.liaison), "zones", "geojson"))
    features = {f["properties"]["code"]: f for f in collection["features"]}
    zone = features["SZ-TEST-001"]
    polygon = shape(zone["geometry"])
    assert polygon.is_valid and polygon.equals(shape(box(36.60, 35.90, 36.70, 36.00)))
    assert zone["properties"]["sites"] == 2 and zone["properties"]["name_ar"] == "سرمدا الشمالية"

    # A zone without sites is deleted, then the exported file is imported back: it returns
    # with the same boundary, names and P-codes; the others are unchanged.
    zone_service.create_zone(db, actor=system, data=ZoneCreate(
        code="SZ-TEST-003", name_en="Empty", name_ar="فارغة", admin_pcodes=["SY070000"],
        boundary=box(36.56, 36.01, 36.59, 36.04)))
    collection = _collection(run(db, system, "zones", "geojson"))
    exported = next(f for f in collection["features"] if f["id"] == "SZ-TEST-003")
    zone_service.delete_zone(db, actor=system, zone_id=zone_service.get_zone_by_code(
        db, actor=system, code="SZ-TEST-003").id)
    db.flush()
    result = zone_service.import_geojson(db, actor=system, data=collection)
    assert result.created == ["SZ-TEST-003"]
    assert result.unchanged == ["SZ-TEST-001", "SZ-TEST-002"]
    back = zone_service.get_zone_by_code(db, actor=system, code="SZ-TEST-003")
    assert shape(back.boundary).equals(shape(exported["geometry"]))
    assert back.name_ar == "فارغة" and back.admin_pcodes == ["SY070000"]


def test_admin_areas_and_sites_as_geojson(db: Session, world: World, system: Principal) -> None:
    areas = _collection(run(db, system, "admin-areas", "geojson"))["features"]
    idleb = next(f for f in areas if f["properties"]["pcode"] == "SY070000")
    assert shape(idleb["geometry"]).area > 0 and idleb["properties"]["name_ar"] == "إدلب"
    sites = _collection(run(db, world.p(world.liaison), "dtm-sites", "geojson"))["features"]
    assert [f["id"] for f in sites] == ["CP900001", "CP900002", "CP900003"]
    point = shape(sites[0]["geometry"])
    assert (point.x, point.y) == (36.62, 35.93)
    assert shape(box(36.60, 35.90, 36.70, 36.00)).contains(point)
    assert sites[2]["properties"]["households"] == "<5"  # liaison: suppressed


def test_incident_points_only_where_the_caller_may_see_them(db: Session, world: World,
                                                            system: Principal) -> None:
    for actor in (system, world.p(world.coordinator), world.p(world.liaison)):
        points = _collection(run(db, actor, "incidents", "geojson"))["features"]
        assert [p["properties"]["incident_type"] for p in points] == ["shelling"]
        assert "narrative" not in points[0]["properties"]
        assert shape(points[0]["geometry"]).geom_type == "Point"
    own = _collection(run(db, world.p(world.sarc_protection), "incidents", "geojson"))
    assert sorted(p["properties"]["incident_type"] for p in own["features"]) == ["gbv",
                                                                                "shelling"]
