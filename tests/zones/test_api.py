"""The HTTP API of zones and sites."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from havens.orgs.models import Role, User
from havens.orgs.permissions import Principal
from havens.zones import service as zone_service
from havens.zones.models import ZoneStatus
from tests.zones.conftest import square

Headers = dict[str, str]


def _zone(code: str = "SZ-SY07-001", **values: Any) -> dict[str, Any]:
    return {"code": code, "name_en": "Atmeh", "name_ar": "أطمة", "admin_pcodes": ["SY070301"],
            "boundary": square(36.6, 36.2, 0.1), **values}


def test_zone_crud_status_guard_and_geojson_round_trip(
        client: TestClient, db: Session, make_user: Callable[..., User],
        token_for: Callable[[User], Headers], areas: None) -> None:
    staff = token_for(make_user(Role.coordinator))
    created = client.post("/api/v1/zones", json=_zone(), headers=staff)
    assert created.status_code == 201, created.text
    zone = created.json()
    assert zone["status"] == "proposed" and zone["area_m2"] > 9.9e7
    assert zone["bbox"] == pytest.approx([36.6, 36.2, 36.7, 36.3])

    overlap = client.post("/api/v1/zones", json=_zone("SZ-SY07-002",
                                                     boundary=square(36.65, 36.25)),
                          headers=staff)
    assert overlap.status_code == 409
    assert overlap.json()["error"]["field"] == "boundary"
    assert "SZ-SY07-001" in overlap.json()["error"]["message"]

    status = client.patch(f"/api/v1/zones/{zone['id']}", json={"status": "operational"},
                          headers=staff)
    assert status.status_code == 422 and status.json()["error"]["field"] == "status"
    assert "only through its agreement" in status.json()["error"]["message"]

    open_ring = _zone("SZ-SY07-003", boundary={"type": "Polygon", "coordinates": [
        square(30, 30)["coordinates"][0][:-1]]})
    refused = client.post("/api/v1/zones", json=open_ring, headers=staff)
    assert refused.status_code == 422 and "not closed" in refused.json()["error"]["message"]

    patched = client.patch(f"/api/v1/zones/{zone['id']}",
                           json={"emergency_phase": True, "name_en": "Atmeh camps"},
                           headers=staff)
    assert patched.json()["emergency_phase"] is True

    geojson = client.get("/api/v1/zones.geojson", headers=staff)
    assert geojson.status_code == 200
    assert geojson.headers["content-type"].startswith("application/geo+json")
    feature = geojson.json()["features"][0]
    assert feature["properties"]["code"] == "SZ-SY07-001"
    assert feature["geometry"] == zone["boundary"]
    # What the API exports, the import reads back as the same zones.
    again = zone_service.import_geojson(db, actor=Principal.system(), data=geojson.json())
    assert again.unchanged == ["SZ-SY07-001"] and not again.created and not again.updated

    assert client.get("/api/v1/zones", params={"status": ["proposed"]},
                      headers=staff).json()[0]["code"] == "SZ-SY07-001"
    assert client.get("/api/v1/zones", params={"status": ["closed"]},
                      headers=staff).json() == []
    assert client.delete(f"/api/v1/zones/{zone['id']}", headers=staff).status_code == 204
    assert client.get(f"/api/v1/zones/{zone['id']}", headers=staff).status_code == 404


def test_roles_without_write_can_read_only(
        client: TestClient, make_user: Callable[..., User],
        token_for: Callable[[User], Headers], areas: None) -> None:
    staff = token_for(make_user(Role.admin))
    zone = client.post("/api/v1/zones", json=_zone(), headers=staff).json()
    for role in (Role.viewer, Role.registrar, Role.government_liaison):
        other = token_for(make_user(role))
        assert client.get(f"/api/v1/zones/{zone['id']}", headers=other).status_code == 200
        assert client.post("/api/v1/zones", json=_zone("SZ-SY07-009",
                                                       boundary=square(30, 30)),
                           headers=other).status_code == 403
        assert client.patch(f"/api/v1/zones/{zone['id']}", json={"name_en": "X Y"},
                            headers=other).status_code == 403
        assert client.post("/api/v1/sites", json={"name_en": "Camp", "site_type": "IS",
                                                  "lon": 36.65, "lat": 36.25},
                           headers=other).status_code == 403
    assert client.get("/api/v1/zones").status_code == 401


def test_sites_population_occupancy_locate(
        client: TestClient, db: Session, make_user: Callable[..., User],
        token_for: Callable[[User], Headers], areas: None) -> None:
    staff = token_for(make_user(Role.coordinator))
    zone = client.post("/api/v1/zones", json=_zone(), headers=staff).json()
    created = client.post("/api/v1/sites", json={
        "code": "cp000951", "name_en": "Atmeh 1", "name_ar": "أطمة 1", "site_type": "T/RC",
        "lon": 36.65, "lat": 36.25, "admin3_pcode": "SY070301", "declared_area_m2": 9000},
        headers=staff)
    assert created.status_code == 201, created.text
    site = created.json()
    assert site["code"] == "CP000951" and site["zone_code"] == "SZ-SY07-001"
    assert site["outside_zone"] is False and site["capacity"] == 200
    assert site["admin1_pcode"] == "SY07"
    outside = client.post("/api/v1/sites", json={"name_en": "Far", "site_type": "IS",
                                                 "lon": 37.5, "lat": 36.5}, headers=staff)
    assert outside.json()["outside_zone"] is True and outside.json()["code"] == "ST-000001"

    too_many = client.patch(f"/api/v1/sites/{site['id']}", json={"declared_capacity": 500},
                            headers=staff)
    assert too_many.status_code == 422
    assert too_many.json()["error"]["field"] == "declared_capacity"

    report = client.post(f"/api/v1/sites/{site['id']}/population", json={
        "reported_on": "2020-03-31", "girls": 40, "boys": 40, "women": 30, "men": 20,
        "families": 25}, headers=staff)
    assert report.status_code == 201 and report.json()["individuals"] == 130
    assert report.json()["basis"] == "reported"
    assert len(client.get(f"/api/v1/sites/{site['id']}/population", headers=staff).json()) == 1
    occupancy = client.get(f"/api/v1/zones/{zone['id']}/occupancy", headers=staff).json()
    assert (occupancy["reported_individuals"], occupancy["capacity"], occupancy["share"]) == (
        130, 200, 0.65)

    located = client.get("/api/v1/locate", params={"lon": 36.66, "lat": 36.26},
                         headers=staff).json()
    assert located["zone"]["code"] == "SZ-SY07-001" and located["site"]["code"] == "CP000951"
    assert 1000 < located["distance_m"] < 1600
    nowhere = client.get("/api/v1/locate", params={"lon": 10, "lat": 10}, headers=staff).json()
    assert nowhere["zone"] is None and nowhere["site"] is None
    assert client.get("/api/v1/locate", params={"lon": 200, "lat": 10},
                      headers=staff).status_code == 422

    listed = client.get("/api/v1/sites", params={"zone": "SZ-SY07-001"}, headers=staff).json()
    assert [s["code"] for s in listed] == ["CP000951"]
    assert [s["code"] for s in client.get("/api/v1/sites", params={"outside_zone": True},
                                          headers=staff).json()] == ["ST-000001"]
    features = client.get("/api/v1/sites.geojson", headers=staff).json()["features"]
    assert {f["properties"]["code"]: f["properties"]["zone"] for f in features} == {
        "CP000951": "SZ-SY07-001", "ST-000001": None}
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [36.65, 36.25]}

    assert client.get("/api/v1/sites/999999", headers=staff).status_code == 404
    assert client.get("/api/v1/zones/999999", headers=staff).status_code == 404
    assert client.get("/api/v1/sites/999999/population", headers=staff).status_code == 404
    # A zone holding sites cannot be deleted, nor one past negotiation.
    assert client.delete(f"/api/v1/zones/{zone['id']}", headers=staff).status_code == 409
    assert client.delete(f"/api/v1/sites/{site['id']}", headers=staff).status_code == 204
    assert ZoneStatus.proposed.value == zone["status"]


def test_site_list_upload(client: TestClient, make_user: Callable[..., User],
                          token_for: Callable[[User], Headers], areas: None) -> None:
    staff = token_for(make_user(Role.coordinator))
    content = ("Site Name,Type_of_Location,Latitude,Longitude,Admin3\n"
               "Atmeh 1/ أطمة 1,IS,36.31,36.67,SY070301\n"
               "Broken,XX,36.31,36.67,SY070301\n").encode()
    bad = client.post("/api/v1/imports/sites", files={"file": ("sites.csv", content)},
                      headers=staff)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == [
        {"row": 3, "column": "Type_of_Location", "message": bad.json()["error"]["details"][0][
            "message"]}]
    good = client.post("/api/v1/imports/sites", files={"file": ("sites.csv", content)},
                       data={"skip_invalid": "true"}, headers=staff)
    assert good.status_code == 200, good.text
    assert (good.json()["created"], good.json()["skipped_rows"]) == (1, [3])
