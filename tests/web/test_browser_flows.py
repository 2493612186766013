"""Daily work in a real Chromium, per role: the map, a zone, registering a household with two
members in Arabic script, finding it, and the zone's occupancy going up by two. The government
liaison sees aggregates and no names."""

from __future__ import annotations

import re

import pytest

from havens.demo.orgs import USERS
from tests.web.conftest import log_in, screenshot

pytestmark = pytest.mark.browser
ZONE = "SZ-SY07-001"


def _demo(role: str, org: str = "UNHCR"):
    return next(u for u in USERS if u.role.value == role and u.org == org)


def _registered(page) -> int:
    return int(re.sub(r"\D", "", page.locator("#kpi-registered").inner_text()) or 0)


def _see_map_and_zone(page, base: str) -> None:
    page.goto(f"{base}/")
    page.wait_for_selector("#overview-map[data-ready=true]")
    assert page.locator("#overview-map path.leaflet-interactive").count() >= 3 + 14
    page.click(f"a[href='/zones/{ZONE}']")
    page.wait_for_selector("#zone-map[data-ready=true]")
    assert page.locator("#zone-map path.leaflet-interactive").count() >= 1


@pytest.mark.parametrize(("role", "names"), [
    ("coordinator", ("خالد", "يوسف", "إبراهيم", "الحمصي", "مريم")),
    ("registrar", ("عمر", "حسين", "مصطفى", "الإدلبي", "هدى")),
])
def test_register_two_members_in_arabic_and_find_them(page, live_server: str, role: str,
                                                      names: tuple[str, ...]) -> None:
    given, father, grandfather, family, wife = names
    user = _demo(role)
    log_in(page, live_server, user.email, user.password)
    _see_map_and_zone(page, live_server)
    before = _registered(page)
    site = page.locator("#sites-table tbody tr td").first.inner_text().strip()

    page.goto(f"{live_server}/people/register")
    page.select_option("#site_code", site)
    page.fill("#origin_pcode", "SY070000")
    page.check("#consent_registration")
    page.fill("#m0_given_name_ar", given)
    page.fill("#m0_father_name_ar", father)
    page.fill("#m0_grandfather_name_ar", grandfather)
    page.fill("#m0_family_name_ar", family)
    page.select_option("#m0_sex", "M")
    page.fill("#m0_date_of_birth", "1979-03-14")
    page.fill("#m1_given_name_ar", wife)
    page.fill("#m1_father_name_ar", "علي")
    page.fill("#m1_family_name_ar", family)
    page.select_option("#m1_relationship", "spouse")
    page.select_option("#m1_sex", "F")
    page.fill("#m1_birth_year", "1983")
    page.click("#register-submit")
    page.wait_for_selector("#registration-number")
    assert family in page.locator("#members-table").inner_text()

    page.goto(f"{live_server}/people")
    page.fill("#q", f"{given} {family}")
    page.click("#search-button")
    page.wait_for_load_state()
    screenshot(page, f"search-{role}")
    assert family in page.locator("#results").inner_text()

    page.goto(f"{live_server}/zones/{ZONE}")
    assert _registered(page) == before + 2
    screenshot(page, f"zone-en-{role}")


def test_form_errors_are_shown_inline(page, live_server: str) -> None:
    user = _demo("registrar")
    log_in(page, live_server, user.email, user.password)
    page.goto(f"{live_server}/people/register")
    page.fill("#m0_given_name_ar", "سارة")
    page.click("#register-submit")
    assert page.locator("#form-errors").is_visible()
    assert page.locator(".field-error").count() >= 1
    assert page.input_value("#m0_given_name_ar") == "سارة"


def test_government_liaison_sees_aggregates_but_no_names(page, live_server: str) -> None:
    user = _demo("government_liaison", "MOLAE")
    log_in(page, live_server, user.email, user.password)
    _see_map_and_zone(page, live_server)
    assert page.locator("#kpi-registered").inner_text().strip() not in ("", "–")
    page.goto(f"{live_server}/people")
    assert page.locator("#aggregates-only").is_visible()
    assert page.locator("#results").count() == 0
    assert page.locator("#zone-figures tbody tr").count() >= 1
    text = page.locator("main").inner_text()
    assert "الخطيب" not in text and "محمد" not in text


def test_screenshots_in_both_languages(page, live_server: str) -> None:
    user = _demo("coordinator")
    log_in(page, live_server, user.email, user.password)
    page.wait_for_selector("#overview-map[data-ready=true]")
    screenshot(page, "overview-en")
    page.goto(f"{live_server}/zones/{ZONE}")
    page.wait_for_selector("#zone-map[data-ready=true]")
    screenshot(page, "zone-en")
    page.goto(f"{live_server}/lang/ar?next=/")
    page.wait_for_selector("#overview-map[data-ready=true]")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert "المناطق" in page.locator("nav").inner_text()
    screenshot(page, "overview-ar")
    page.goto(f"{live_server}/zones/{ZONE}")
    page.wait_for_selector("#zone-map[data-ready=true]")
    screenshot(page, "zone-ar")
