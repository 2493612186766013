from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_needs_no_login_and_checks_the_database(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_api_without_credentials_is_401_with_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/organisations")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["error"]["code"] == "authentication_required"
    assert body["error"]["message"]


def test_bad_bearer_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer hvn_nope"})
    assert response.status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


def test_validation_errors_name_the_field(client: TestClient, make_user, token_for) -> None:
    from havens.orgs.models import Role

    admin = make_user(Role.admin)
    response = client.post("/api/v1/organisations", headers=token_for(admin),
                           json={"name": "X", "acronym": "A", "kind": "ngo", "country": "SYR"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["field"] in {"name", "acronym"}
    assert {d["field"] for d in error["details"]} == {"name", "acronym"}


def test_openapi_is_versioned(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Havens API"
    assert "/api/v1/organisations" in schema["paths"]


def test_security_headers_on_every_response(client: TestClient) -> None:
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_oversized_requests_are_refused(client: TestClient, settings) -> None:
    size = settings.max_upload_mb * 1024 * 1024 + 1
    response = client.post("/api/v1/organisations", content=b"x",
                           headers={"content-length": str(size)})
    assert response.status_code == 413


def test_database_errors_are_503_not_tracebacks(client: TestClient, app, make_user,
                                                token_for) -> None:
    from sqlalchemy.exc import OperationalError

    from havens.orgs.models import Role

    headers = token_for(make_user(Role.admin))

    class Broken:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
            return fail

    working = app.state.session_maker
    app.state.session_maker = lambda: Broken()
    try:
        response = client.get("/api/v1/organisations", headers=headers)
    finally:
        app.state.session_maker = working
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert client.get("/api/v1/organisations", headers=headers).status_code == 200
