"""Registration pages: register a household in Arabic, find it, see occupancy move; the
government liaison sees aggregates and no names."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from havens.geo import service as geo_service
from havens.orgs.models import OrgKind, Role
from havens.orgs.permissions import Principal
from havens.zones.models import Site, SiteType, Zone
from tests.web.test_pages import _csrf, log_in


def _site(db: Session) -> Site:
    zone = Zone(code="SZ-SY07-950", name_en="Registration zone")
    db.add(zone)
    db.flush()
    site = Site(code="CP950001", name_en="Hope Camp", site_type=SiteType.planned_camp,
                lon=36.6, lat=36.2, zone_id=zone.id)
    db.add(site)
    db.flush()
    return site


def _form(token: str) -> dict[str, str]:
    return {
        "csrf_token": token, "member_count": "2", "site_code": "CP950001",
        "origin_pcode": "SY070000", "arrival_date": dt.date.today().isoformat(),
        "consent_registration": "1", "consent_given_by": "head",
        "m0_given_name_ar": "محمد", "m0_father_name_ar": "عبد الرحمن",
        "m0_grandfather_name_ar": "أحمد", "m0_family_name_ar": "الخطيب",
        "m0_relationship": "head", "m0_sex": "M", "m0_date_of_birth": "1980-04-02",
        "m1_given_name_ar": "فاطمة", "m1_father_name_ar": "علي", "m1_family_name_ar": "الحسن",
        "m1_relationship": "spouse", "m1_sex": "F", "m1_birth_year": "1984",
        "m1_dob_estimated": "1",
    }


def test_register_search_and_occupancy(client: TestClient, db: Session, system: Principal,
                                       make_org, make_user) -> None:
    geo_service.load_areas(db, actor=system)
    _site(db)
    org = make_org("UNHCR", kind=OrgKind.un_agency)
    registrar = make_user(Role.registrar, org=org)
    log_in(client, registrar.email)
    before = client.get("/zones/SZ-SY07-950").text
    assert re.search(r'id="kpi-registered">\s*0<', before) or "kpi-registered" in before

    form = client.get("/people/register").text
    missing = client.post("/people/register", data={**_form(_csrf(form)), "m0_sex": ""})
    assert missing.status_code == 422
    assert 'id="form-errors"' in missing.text and "field-error" in missing.text
    assert "محمد" in missing.text  # what was typed is kept

    done = client.post("/people/register", data=_form(_csrf(form)), follow_redirects=False)
    assert done.status_code == 303, done.text
    household = client.get(done.headers["location"]).text
    assert "الخطيب" in household and "فاطمة" in household

    found = client.get("/people", params={"q": "محمد الخطيب"}).text
    assert "CP950001" in found and "الخطيب" in found
    # Spelling without the hamza and with different spacing still finds it.
    assert "الخطيب" in client.get("/people", params={"q": "احمد  الخطيب"}).text

    after = client.get("/zones/SZ-SY07-950").text
    assert re.search(r'id="kpi-registered">\s*2<', after)


def test_government_liaison_sees_aggregates_not_names(client: TestClient, db: Session,
                                                      system: Principal, make_org,
                                                      make_user) -> None:
    geo_service.load_areas(db, actor=system)
    _site(db)
    registrar = make_user(Role.registrar, org=make_org("UNHCR", kind=OrgKind.un_agency))
    log_in(client, registrar.email)
    form = client.get("/people/register").text
    client.post("/people/register", data=_form(_csrf(form)), follow_redirects=False)
    client.post("/logout", data={"csrf_token": _csrf(form)})

    liaison = make_user(Role.government_liaison,
                        org=make_org("MOL", kind=OrgKind.host_government))
    log_in(client, liaison.email)
    page = client.get("/people", params={"q": "الخطيب"}).text
    assert 'id="aggregates-only"' in page
    assert "الخطيب" not in page and "محمد" not in page
    assert "&lt;5" in page  # two people: a small count, suppressed
    zone = client.get("/zones/SZ-SY07-950").text
    assert "الخطيب" not in zone
    assert client.get("/people/households/1").status_code in (403, 404)
