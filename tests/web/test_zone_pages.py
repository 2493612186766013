from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from havens.geo import service as geo_service
from havens.orgs.models import Role
from havens.orgs.permissions import Principal
from tests.web.test_pages import log_in

SQUARE = {"type": "Polygon", "coordinates": [[[36.60, 36.20], [36.70, 36.20], [36.70, 36.30],
                                              [36.60, 36.30], [36.60, 36.20]]]}


def _zone_with_a_site(client: TestClient, headers: dict[str, str]) -> str:
    zone = client.post("/api/v1/zones", headers=headers, json={
        "code": "SZ-SY07-901", "name_en": "Test Zone", "name_ar": "منطقة اختبار",
        "admin_pcodes": ["SY07"], "boundary": SQUARE})
    assert zone.status_code == 201, zone.text
    site = client.post("/api/v1/sites", headers=headers, json={
        "code": "CP900001", "name_en": "Olive Camp", "name_ar": "مخيم الزيتون",
        "site_type": "PC", "lon": 36.65, "lat": 36.25, "admin3_pcode": "SY070000",
        "declared_area_m2": 45000})
    assert site.status_code == 201, site.text
    return "SZ-SY07-901"


def test_zone_list_and_page(client: TestClient, db: Session, system: Principal, make_user,
                            token_for) -> None:
    geo_service.load_areas(db, actor=system)
    coordinator = make_user(Role.coordinator)
    code = _zone_with_a_site(client, token_for(coordinator))
    log_in(client, coordinator.email)
    listing = client.get("/zones")
    assert listing.status_code == 200
    assert code in listing.text and "Test Zone" in listing.text
    assert 'data-zones="' in listing.text
    page = client.get(f"/zones/{code}")
    assert page.status_code == 200, page.text
    assert "Olive Camp" in page.text
    assert "1,000" in page.text  # 45,000 m² at 45 m² per person
    client.get("/lang/ar", follow_redirects=False)
    arabic = client.get(f"/zones/{code}")
    assert "منطقة اختبار" in arabic.text and "مخيم الزيتون" in arabic.text


def test_unknown_zone_is_a_404_page(client: TestClient, make_user) -> None:
    user = make_user(Role.viewer)
    log_in(client, user.email)
    response = client.get("/zones/SZ-NOPE")
    assert response.status_code == 404
    assert "<html" in response.text
