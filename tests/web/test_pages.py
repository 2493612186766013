from __future__ import annotations

import re

from fastapi.testclient import TestClient

from havens.orgs.models import Role
from tests.conftest import PASSWORD


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def log_in(client: TestClient, email: str) -> None:
    token = _csrf(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": token, "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def test_pages_need_login(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F"


def test_login_form_without_csrf_token_is_refused(client: TestClient, make_user) -> None:
    user = make_user(Role.viewer)
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "expired" in response.text


def test_login_then_overview_shows_organisations_and_status(client: TestClient, make_org,
                                                            make_user) -> None:
    org = make_org("UNHCR", name="UN High Commissioner for Refugees")
    user = make_user(Role.coordinator, org=org)
    log_in(client, user.email)
    html = client.get("/").text
    assert "UN High Commissioner for Refugees" in html
    assert "database reachable" in html


def test_login_redirects_only_to_local_pages(client: TestClient, make_user) -> None:
    user = make_user(Role.viewer)
    token = _csrf(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token, "next": "//evil.example"},
                           follow_redirects=False)
    assert response.headers["location"] == "/"


def test_logout_ends_the_session(client: TestClient, make_user) -> None:
    user = make_user(Role.viewer)
    log_in(client, user.email)
    token = _csrf(client.get("/").text)
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_arabic_pages_are_rtl(client: TestClient, make_user) -> None:
    user = make_user(Role.viewer)
    log_in(client, user.email)
    client.get("/lang/ar?next=/", follow_redirects=False)
    html = client.get("/").text
    assert '<html lang="ar" dir="rtl">' in html
    assert "نظرة عامة" in html


def test_admin_page_creates_a_token_shown_once(client: TestClient, make_user) -> None:
    user = make_user(Role.registrar)
    log_in(client, user.email)
    token = _csrf(client.get("/admin").text)
    response = client.post("/admin/tokens", data={"name": "laptop", "csrf_token": token})
    assert response.status_code == 200
    shown = re.search(r'id="new-token"[^>]*>(hvn_[^<]+)<', response.text)
    assert shown
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {shown.group(1)}"}).status_code == 200
    assert shown.group(1) not in client.get("/admin").text


def test_admin_adds_a_user_to_own_organisation(client: TestClient, make_org, make_user) -> None:
    org = make_org("AGY")
    admin = make_user(Role.admin, org=org)
    log_in(client, admin.email)
    token = _csrf(client.get("/admin").text)
    response = client.post("/admin/users", data={
        "email": "new@agy.org", "display_name": "New", "role": "registrar",
        "password": "a long enough password", "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert "new@agy.org" in client.get("/admin").text
