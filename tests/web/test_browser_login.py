"""Logging in to the demo in a real Chromium."""

from __future__ import annotations

import pytest

from havens.demo.orgs import USERS
from tests.web.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def _demo(role: str):
    return next(u for u in USERS if u.role.value == role)


def test_demo_user_logs_in_and_sees_the_overview(page, live_server: str) -> None:
    user = _demo("coordinator")
    log_in(page, live_server, user.email, user.password)
    assert page.locator("h1").first.inner_text() == "Overview"
    assert "database reachable" in page.locator("#status-line").inner_text()
    assert "UNHCR" in page.locator("#organisations").inner_text()
    screenshot(page, "overview-en")


def test_wrong_password_shows_an_error(page, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("#email", _demo("viewer").email)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "Wrong email or password" in page.locator("#login-error").inner_text()


def test_arabic_interface_is_right_to_left(page, live_server: str) -> None:
    user = _demo("government_liaison")
    log_in(page, live_server, user.email, user.password)
    page.click("a.lang[hreflang=ar]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    nav = page.locator("nav").inner_text()
    assert "نظرة عامة" in nav
    screenshot(page, "overview-ar")
