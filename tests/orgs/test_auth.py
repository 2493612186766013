from __future__ import annotations

from fastapi.testclient import TestClient

from havens.orgs.models import Role
from tests.conftest import PASSWORD


def test_login_sets_an_httponly_session_and_me_works(client: TestClient, make_user) -> None:
    user = make_user(Role.registrar)
    response = client.post("/api/v1/auth/login", json={"email": user.email,
                                                       "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert "havens_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["user"]["email"] == user.email


def test_email_is_case_insensitive(client: TestClient, make_user) -> None:
    user = make_user(Role.viewer)
    response = client.post("/api/v1/auth/login", json={"email": user.email.upper(),
                                                       "password": PASSWORD})
    assert response.status_code == 200


def test_five_wrong_passwords_lock_the_account(client: TestClient, make_user) -> None:
    user = make_user(Role.coordinator)
    codes = [client.post("/api/v1/auth/login", json={"email": user.email, "password": "wrong"}
                         ).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    # Even the right password is refused while the account is limited.
    right = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert right.status_code == 429
    assert right.json()["error"]["code"] == "rate_limited"


def test_failures_of_one_account_do_not_lock_another(client: TestClient, make_user) -> None:
    victim, other = make_user(Role.viewer), make_user(Role.viewer)
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"email": victim.email, "password": "x"})
    ok = client.post("/api/v1/auth/login", json={"email": other.email, "password": PASSWORD})
    assert ok.status_code == 200


def test_login_failures_are_limited_per_address(client: TestClient, settings) -> None:
    codes = {client.post("/api/v1/auth/login",
                         json={"email": f"nobody{i}@example.org", "password": "x"}).status_code
             for i in range(settings.login_max_failures_per_ip + 1)}
    assert 429 in codes


def test_unknown_and_inactive_users_cannot_log_in(client: TestClient, make_user, db,
                                                  system) -> None:
    from havens.orgs import service
    from havens.orgs.schemas import UserUpdate

    user = make_user(Role.viewer)
    service.update_user(db, actor=system, user_id=user.id, data=UserUpdate(is_active=False))
    db.flush()
    for email in (user.email, "ghost@example.org"):
        response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 401


def test_tokens_are_shown_once_stored_hashed_and_revocable(client: TestClient, make_user,
                                                           token_for, db) -> None:
    from sqlalchemy import select

    from havens.orgs.models import ApiToken

    user = make_user(Role.registrar)
    headers = token_for(user)
    created = client.post("/api/v1/tokens", headers=headers, json={"name": "laptop"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("hvn_")
    stored = db.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)
    listed = client.get("/api/v1/tokens", headers=headers).json()
    assert all("token" not in row for row in listed)
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=mine).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=headers)
    assert revoked.status_code == 200
    assert client.get("/api/v1/me", headers=mine).status_code == 401


def test_session_cookie_cannot_change_state_through_the_api(client: TestClient,
                                                            make_user) -> None:
    admin = make_user(Role.admin)
    client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert client.get("/api/v1/organisations").status_code == 200
    response = client.post("/api/v1/organisations", json={
        "name": "Cross-site", "acronym": "CSRF", "kind": "ngo", "country": "SYR"})
    assert response.status_code == 401


def test_deactivating_a_user_ends_their_sessions(client: TestClient, make_user, db,
                                                 system) -> None:
    from havens.orgs import service
    from havens.orgs.schemas import UserUpdate

    user = make_user(Role.viewer)
    client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert client.get("/api/v1/me").status_code == 200
    service.update_user(db, actor=system, user_id=user.id, data=UserUpdate(is_active=False))
    db.flush()
    assert client.get("/api/v1/me").status_code == 401
