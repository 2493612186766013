"""Authorisation matrix: endpoint × role × own-organisation vs other-organisation object.

ONE table (``MATRIX``) says, for every API endpoint that touches organisation-scoped objects
and for the main role gates of the others, which status each role gets on an object of its
own organisation (``own``) and of another (``other``); a test is generated per row. An object
outside the caller's scope is a 404 (its existence is not disclosed); a role that may not do
the action at all is a 403. ``"ok"`` means "passes authorisation": a 2xx, or a business answer
such as 409/422 — never 401/403/404 or a 5xx. Every other endpoint is listed in
``AUTHENTICATED`` (it must refuse a caller without credentials), and
``test_every_route_is_in_the_matrix`` fails when an endpoint is added without a line here.

The world is built once per row; each request runs in a SAVEPOINT rolled back after it, so
one role's success (a departure, a revoked token) never changes what the next role sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from havens.agreements import service as agreement_service
from havens.orgs import service as org_service
from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.schemas import TokenCreate
from havens.people import service as people_service
from havens.people.crypto import FieldCipher
from havens.people.schemas import HouseholdCreate
from havens.safety.models import SecurityIncident
from havens.sharing import service as sharing_service
from havens.sharing.schemas import DsaCreate
from tests.agreements.conftest import propose_data
from tests.conftest import principal
from tests.people.conftest import add_areas, add_zone, household_payload

R = Role
ALL = frozenset(Role)
PERSONAL = frozenset({R.admin, R.coordinator, R.registrar, R.protection_officer})
REGISTER = frozenset({R.admin, R.coordinator, R.registrar})
STAFF = frozenset({R.admin, R.coordinator})
SIGN = STAFF | {R.government_liaison}
TODAY = dt.date.today().isoformat()
Expect = int | str  # a status, or "ok" (passes authorisation)


def gate(allowed: frozenset[Role], yes: Expect, no: Expect = 403) -> dict[Role, Expect]:
    return {role: yes if role in allowed else no for role in Role}


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # {x} are filled from the world: own or other object
    own: dict[Role, Expect]
    other: dict[Role, Expect] | None = None  # None: the endpoint has no object of an org
    body: dict[str, Any] | None = None
    known_gap: str | None = None  # a finding not yet fixed: the row fails until it is (xfail)


MATRIX: list[Row] = [
    # households and individuals: personal data of the registering organisation only
    Row("GET", "/households/{household_id}", gate(PERSONAL, 200), gate(PERSONAL, 404)),
    Row("PATCH", "/households/{household_id}", gate(REGISTER, 200), gate(REGISTER, 404),
        body={}),
    Row("POST", "/households/{household_id}/move", gate(REGISTER, 200), gate(REGISTER, 404),
        body={"to_site_code": "{site2}", "moved_on": TODAY}),
    Row("POST", "/households/{household_id}/depart", gate(REGISTER, 200), gate(REGISTER, 404),
        body={"destination_type": "unknown", "moved_on": TODAY}),
    Row("PATCH", "/individuals/{individual_id}", gate(REGISTER, 200), gate(REGISTER, 404),
        body={"specific_needs": []}),
    Row("GET", "/households?q={registration_number}", gate(PERSONAL, 200)),
    Row("POST", "/households", gate(REGISTER, "ok"), body={"__household__": True}),
    # sensitive incidents: protection officers of the reporting organisation only
    Row("GET", "/incidents/{incident_id}", gate({R.protection_officer}, 200, 404),
        gate(frozenset(), 200, 404)),
    # agreements: parties only; withdrawal by the host government (the own one is unsigned)
    Row("GET", "/agreements/{agreement_id}", gate(ALL, 200), gate(ALL, 404)),
    Row("GET", "/agreements/{agreement_id}/export", gate(ALL, 200), gate(ALL, 404)),
    Row("POST", "/agreements/{agreement_id}/withdrawals",
        gate(frozenset({R.admin, R.government_liaison}), 409), gate(ALL, 404),
        body={"reason": "Security no longer guaranteed."}),
    # data-sharing agreements: the two sides only
    Row("GET", "/sharing-agreements/{dsa_id}", gate(ALL, 200), gate(ALL, 404)),
    Row("POST", "/sharing-agreements/{dsa_id}/sign", gate(SIGN, 200), gate(ALL, 404)),
    Row("POST", "/sharing-agreements/{dsa_id}/revoke", gate(SIGN, 200), gate(ALL, 404),
        body={"reason": "Project closed."}),
    Row("GET", "/sharing-agreements/{dsa_id}/households?purpose=protection", gate(ALL, 422),
        gate(ALL, 404)),
    Row("GET", "/sharing-agreements/{dsa_id}/households/{household_id}?purpose=protection",
        gate(ALL, 422), gate(ALL, 404)),
    Row("POST", "/sharing-agreements", gate(STAFF, 201),
        body={"recipient": "MTX-G", "purposes": ["protection"], "fields": ["names"],
              "starts_on": TODAY, "expires_on": "{in_a_month}"}),
    # users and tokens: an organisation's administrator manages its own people
    Row("GET", "/users/{user_id}", gate({R.admin}, 200), gate({R.admin}, 404)),
    Row("PATCH", "/users/{user_id}", gate({R.admin}, 200), gate({R.admin}, 404),
        body={"display_name": "Renamed"}),
    Row("DELETE", "/tokens/{token_id}", gate(ALL, 200), gate(ALL, 404)),
    # role gates of the other domains
    Row("GET", "/audit", gate({R.admin}, 200)),
    Row("GET", "/audit/verify", gate({R.admin}, 200)),
    Row("PATCH", "/zones/{zone_id}", gate(STAFF, 200), body={"name_en": "Renamed zone"}),
    Row("PATCH", "/sites/{site_id}", gate(STAFF, 200), body={"name_en": "Renamed site"}),
    Row("POST", "/assistance/activities", gate(STAFF | {R.service_provider}, "ok"),
        body={"implementing_org": "MTX-A", "sector": "wash", "activity_type": "water_trucking",
              "zone": "{zone_code}", "start_date": TODAY}),
    Row("GET", "/people/zones/{zone_id}/occupancy", gate(ALL, 200)),
]

#: Endpoints without organisation-scoped objects or role gates of their own beyond reading:
#: each must refuse a caller without credentials (401).
AUTHENTICATED: set[str] = {
    "GET /me", "GET /organisations", "POST /organisations", "GET /organisations/{organisation_id}",
    "GET /users", "POST /users", "GET /tokens", "POST /tokens",
    "GET /admin-areas", "GET /admin-areas.geojson", "GET /admin-areas/{pcode}",
    "GET /zones", "POST /zones", "GET /zones.geojson", "GET /zones/{zone_id}",
    "DELETE /zones/{zone_id}", "GET /zones/{zone_id}/occupancy", "GET /sites", "POST /sites",
    "GET /sites.geojson", "GET /sites/{site_id}", "DELETE /sites/{site_id}",
    "GET /sites/{site_id}/population", "POST /sites/{site_id}/population",
    "POST /imports/sites", "GET /locate", "GET /agreements", "POST /agreements",
    "POST /agreements/{agreement_id}/versions", "GET /agreements/{agreement_id}/versions/{number}",
    "POST /agreements/{agreement_id}/versions/{number}/signatures",
    "GET /agreements/{agreement_id}/versions/{a}/diff/{b}",
    "POST /agreements/{agreement_id}/transitions", "GET /organisations/{organisation_id}/keys",
    "POST /organisations/{organisation_id}/keys",
    "DELETE /organisations/{organisation_id}/keys/{key_id}", "POST /imports",
    "GET /people/sites/{site_id}/occupancy", "GET /people/flows",
    "GET /assistance/standards", "GET /assistance/activity-types", "GET /assistance/overrides",
    "POST /assistance/overrides", "GET /assistance/activities",
    "POST /assistance/activities/import", "GET /assistance/activities/{activity_id}",
    "PATCH /assistance/activities/{activity_id}", "POST /assistance/measurements",
    "GET /zones/{zone_id}/measurements", "GET /zones/{zone_id}/indicators",
    "GET /zones/{zone_id}/indicators/{standard}/series", "GET /assistance/indicators",
    "GET /assistance/gaps", "GET /assistance/coverage", "GET /assistance/charts/gaps",
    "GET /assistance/commitments", "POST /assistance/commitments/refresh",
    "POST /assistance/commitments/{agreement_id}/{ref}/attestations",
    "GET /assistance/commitments/{agreement_id}/{ref}/history", "GET /assistance/compliance",
    "GET /incidents", "POST /incidents", "GET /incidents/types", "POST /incidents/import",
    "GET /safety/zones", "GET /zones/{zone_id}/safety", "GET /returns/reference",
    "POST /returns/assessments", "GET /returns/assessments",
    "GET /returns/assessments/{assessment_id}", "GET /returns/areas/{pcode}",
    "GET /returns/areas/{pcode}/report", "POST /returns/intentions",
    "POST /returns/intentions/import", "GET /returns/households/{household_id}/intentions",
    "POST /returns", "GET /returns", "GET /zones/{zone_id}/departures", "GET /exports",
    "GET /exports/{filename}", "GET /reports/sitrep.pdf", "GET /sharing-agreements",
    # record linkage (organisation-scoped candidates: rows to be added with their owner)
    "GET /linkage/candidates", "GET /linkage/candidates/{pair_id}",
    "POST /linkage/candidates/{pair_id}/confirm", "POST /linkage/candidates/{pair_id}/reject",
    "POST /linkage/merges/{merge_id}/unmerge",
}
PUBLIC = {"POST /auth/login", "GET /health"}


def _route(row: Row) -> str:
    path = row.path.split("?")[0]
    for name in ("dsa_id",):
        path = path.replace("{" + name + "}", "{agreement_id}")
    return f"{row.method} {path}"


def test_every_route_is_in_the_matrix(app: Any) -> None:
    """A new endpoint fails here until it is given a line of the matrix (or AUTHENTICATED)."""
    routes = set()
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            routes.add(f"{method.upper()} {path.removeprefix('/api/v1')}")
    listed = {_route(r) for r in MATRIX} | AUTHENTICATED | PUBLIC
    assert routes - listed == set(), "endpoints missing from the authorisation matrix"
    assert listed - routes == set(), "the matrix lists endpoints that no longer exist"


@dataclass
class MatrixWorld:
    users: dict[Role, User]
    headers: dict[Role, dict[str, str]]
    tokens: dict[Role, int]
    own: dict[str, Any]
    other: dict[str, Any]


@pytest.fixture
def matrix_world(db: Session, make_org: Callable[..., Organisation],
                 make_user: Callable[..., User], system: Any,
                 cipher: FieldCipher) -> MatrixWorld:
    add_areas(db)
    zone, sites = add_zone(db, "Z-MTX")
    own_org = make_org("MTX-A", kind=OrgKind.un_agency)
    other_org = make_org("MTX-B")
    gov = make_org("MTX-G", kind=OrgKind.host_government)
    users = {role: make_user(role, org=own_org) for role in Role}
    tokens, headers = {}, {}
    for role, user in users.items():
        row, token = org_service.create_token(db, actor=system, user_id=user.id,
                                              data=TokenCreate(name="matrix"))
        tokens[role], headers[role] = row.id, {"Authorization": f"Bearer {token}"}
    other_registrar = make_user(Role.registrar, org=other_org)
    other_coordinator = make_user(Role.coordinator, org=other_org)
    other_token, _ = org_service.create_token(db, actor=system, user_id=other_coordinator.id,
                                              data=TokenCreate(name="other"))

    def household(user: User, ref: str) -> Any:
        return people_service.register_household(
            db, actor=principal(user), cipher=cipher, data=HouseholdCreate.model_validate(
                household_payload(sites[0], household_ref=ref)))

    own_hh, other_hh = household(users[Role.registrar], "MTX-1"), household(other_registrar,
                                                                            "MTX-2")
    incidents = {}
    for key, org in (("own", own_org), ("other", other_org)):
        incident = SecurityIncident(
            organisation_id=org.id, zone_id=zone.id, incident_type="gbv", severity=3,
            occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), sensitive=True,
            narrative="-", lon=36.6, lat=36.2)
        db.add(incident)
        db.flush()
        incidents[key] = incident.id
    agreements = {}
    for key, org, user in (("own", own_org, users[Role.coordinator]),
                           ("other", other_org, other_coordinator)):
        agreement_zone, _ = add_zone(db, f"Z-MTX-{key.upper()}", sites=0)
        parties = [{"organisation": gov.acronym, "role": "host_government"},
                   {"organisation": org.acronym, "role": "administrator"}]
        agreements[key] = agreement_service.propose(
            db, actor=principal(user), data=propose_data(
                agreement_zone.code, parties=parties, commitments=[])).id
    dsas = {}
    for key, user in (("own", users[Role.coordinator]), ("other", other_coordinator)):
        dsas[key] = sharing_service.propose(db, actor=principal(user), data=DsaCreate(
            recipient=gov.acronym, purposes=["protection"], fields=["names"],
            starts_on=dt.date.today(), expires_on=dt.date.today() + dt.timedelta(days=30))).id
    common = {"site2": sites[1].code, "zone_id": zone.id, "zone_code": zone.code,
              "site_id": sites[0].id, "registration_number": own_hh.registration_number,
              "in_a_month": (dt.date.today() + dt.timedelta(days=30)).isoformat()}
    own = {**common, "household_id": own_hh.id, "individual_id": own_hh.members[0].id,
           "incident_id": incidents["own"], "agreement_id": agreements["own"],
           "dsa_id": dsas["own"], "user_id": users[Role.viewer].id}
    other = {**common, "household_id": other_hh.id, "individual_id": other_hh.members[0].id,
             "incident_id": incidents["other"], "agreement_id": agreements["other"],
             "dsa_id": dsas["other"], "user_id": other_coordinator.id,
             "token_id": other_token.id}
    return MatrixWorld(users, headers, tokens, own, other)


def _fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str):
        for key, item in names.items():
            value = value.replace("{" + key + "}", str(item))
        return value
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _matches(expected: Expect, status: int) -> bool:
    if expected == "ok":
        return status < 500 and status not in (401, 403, 404)
    return status == expected


@pytest.mark.parametrize("row", [
    pytest.param(r, id=f"{r.method} {r.path}", marks=[pytest.mark.xfail(
        strict=True, reason=r.known_gap)] if r.known_gap else []) for r in MATRIX])
def test_matrix(row: Row, client: TestClient, connection: Connection,
                matrix_world: MatrixWorld) -> None:
    failures = []
    scopes = [("own", row.own, matrix_world.own)]
    if row.other is not None:
        scopes.append(("other", row.other, matrix_world.other))
    for scope, expected, names in scopes:
        for role in Role:
            values = dict(names)
            values.setdefault("token_id", matrix_world.tokens[role])
            body = row.body
            if body is not None and body.get("__household__"):
                body = household_payload(values["site2"], household_ref=f"NEW-{role.value}")
            savepoint = connection.begin_nested()
            try:
                response = client.request(row.method, "/api/v1" + _fill(row.path, values),
                                          headers=matrix_world.headers[role],
                                          json=_fill(body, values) if body is not None
                                          else None)
            finally:
                savepoint.rollback()
            if not _matches(expected[role], response.status_code):
                failures.append(f"{scope} {role.value}: expected {expected[role]}, got "
                                f"{response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


def test_anonymous_callers_are_refused(client: TestClient) -> None:
    """Every listed endpoint refuses a caller without credentials."""
    accepted = []
    for route in sorted(AUTHENTICATED | {_route(r) for r in MATRIX}):
        method, path = route.split(" ", 1)
        for name in ("agreement_id", "zone_id", "site_id", "household_id", "individual_id",
                     "incident_id", "user_id", "token_id", "organisation_id", "activity_id",
                     "assessment_id", "number", "a", "b", "pair_id", "merge_id"):
            path = path.replace("{" + name + "}", "1")
        for name in ("pcode", "key_id", "ref", "standard", "filename"):
            path = path.replace("{" + name + "}", "x")
        response = client.request(method, "/api/v1" + path)
        if response.status_code != 401:
            accepted.append(f"{route}: {response.status_code}")
    assert not accepted
