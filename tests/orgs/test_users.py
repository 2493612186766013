from __future__ import annotations

from fastapi.testclient import TestClient

from havens.orgs.models import OrgKind, Role


def test_admin_creates_users_in_own_organisation(client: TestClient, make_org, make_user,
                                                 token_for) -> None:
    org = make_org("AGENCY")
    admin = make_user(Role.admin, org=org)
    response = client.post("/api/v1/users", headers=token_for(admin), json={
        "email": "New.Person@Agency.org", "display_name": "New Person",
        "organisation": "AGENCY", "role": "registrar", "password": "a very long password"})
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "new.person@agency.org"
    duplicate = client.post("/api/v1/users", headers=token_for(admin), json={
        "email": "new.person@agency.org", "display_name": "Again",
        "organisation": "AGENCY", "role": "registrar", "password": "a very long password"})
    assert duplicate.status_code == 409


def test_users_of_another_organisation_are_invisible(client: TestClient, make_org, make_user,
                                                     token_for) -> None:
    ours, theirs = make_org("OURS"), make_org("THEIRS")
    admin = make_user(Role.admin, org=ours)
    stranger = make_user(Role.registrar, org=theirs)
    headers = token_for(admin)
    assert client.get(f"/api/v1/users/{stranger.id}", headers=headers).status_code == 404
    emails = {u["email"] for u in client.get("/api/v1/users", headers=headers).json()}
    assert stranger.email not in emails and admin.email in emails
    response = client.post("/api/v1/users", headers=headers, json={
        "email": "x@theirs.org", "display_name": "X", "organisation": "THEIRS",
        "role": "viewer", "password": "a very long password"})
    assert response.status_code == 404


def test_only_admins_manage_users_and_organisations(client: TestClient, make_user,
                                                    token_for) -> None:
    coordinator = make_user(Role.coordinator)
    headers = token_for(coordinator)
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    response = client.post("/api/v1/organisations", headers=headers, json={
        "name": "Some NGO", "acronym": "SNGO", "kind": "ngo", "country": "SYR"})
    assert response.status_code == 403


def test_organisation_kinds_and_country_codes(client: TestClient, make_user, token_for) -> None:
    headers = token_for(make_user(Role.admin))
    ok = client.post("/api/v1/organisations", headers=headers, json={
        "name": "Ministry", "acronym": "MIN", "kind": OrgKind.host_government.value,
        "country": "SYR"})
    assert ok.status_code == 201
    bad = client.post("/api/v1/organisations", headers=headers, json={
        "name": "Ministry", "acronym": "MIN2", "kind": "government", "country": "SY"})
    assert bad.status_code == 422


def test_passwords_shorter_than_twelve_are_refused(client: TestClient, make_org, make_user,
                                                   token_for) -> None:
    org = make_org("SHORT")
    headers = token_for(make_user(Role.admin, org=org))
    response = client.post("/api/v1/users", headers=headers, json={
        "email": "s@short.org", "display_name": "S", "organisation": "SHORT",
        "role": "viewer", "password": "short"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "password"
