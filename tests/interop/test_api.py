"""The exports and the sitrep over HTTP: listed, streamed, refused, audited."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit.models import AuditRecord
from havens.orgs.models import User
from tests.interop.conftest import World

Auth = Callable[[User], dict[str, str]]


def test_list_of_exports(client: TestClient, world: World, token_for: Auth) -> None:
    response = client.get("/api/v1/exports", headers=token_for(world.viewer))
    assert response.status_code == 200
    exports = {e["name"]: e for e in response.json()}
    assert {"zones", "population", "flows", "dtm-sites", "activities", "indicators",
            "incidents", "returns", "registered-individuals"} <= set(exports)
    assert exports["zones"]["formats"] == ["csv", "xlsx", "geojson"]
    assert exports["population"]["columns"][4]["hashtag"] == "#affected+idps+ind"
    assert exports["registered-individuals"]["personal"] is True


def test_csv_streams_with_hxl_and_suppression(client: TestClient, world: World,
                                             token_for: Auth, db: Session) -> None:
    response = client.get("/api/v1/exports/population.csv", params={"on": "2026-11-20"},
                          headers=token_for(world.liaison))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "havens-population-2026-11-20.csv" in response.headers["content-disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("#loc+code,#loc+name,#adm1+code,#affected+idps+hh")
    assert lines[3].split(",")[3] == "<5"  # zone 2's two households, for a liaison
    assert lines[-1].startswith("TOTAL,")
    audit = db.scalars(select(AuditRecord).where(AuditRecord.action == "export.read")).all()
    assert audit and audit[-1].detail["export"] == "population"


def test_xlsx_and_geojson(client: TestClient, world: World, token_for: Auth) -> None:
    headers = token_for(world.coordinator)
    response = client.get("/api/v1/exports/dtm-sites.xlsx", headers=headers,
                          params={"on": "2026-11-20"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "#loc+code" and rows[2][0] == "CP900001"
    response = client.get("/api/v1/exports/zones.geojson", headers=headers,
                          params={"zone": "SZ-TEST-002"})
    assert response.headers["content-type"] == "application/geo+json"
    features = json.loads(response.content)["features"]
    assert [f["id"] for f in features] == ["SZ-TEST-002"]


def test_refusals(client: TestClient, world: World, token_for: Auth) -> None:
    liaison = token_for(world.liaison)
    assert client.get("/api/v1/exports/population.csv").status_code == 401
    assert client.get("/api/v1/exports/nothing.csv", headers=liaison).status_code == 404
    assert client.get("/api/v1/exports/population.pdf", headers=liaison).status_code == 422
    assert client.get("/api/v1/exports/population.geojson", headers=liaison).status_code == 422
    assert client.get("/api/v1/exports/zones.csv", headers=liaison,
                      params={"zone": "SZ-NONE"}).status_code == 404
    personal = "/api/v1/exports/registered-individuals.csv"
    assert client.get(personal, headers=liaison, params={
        "purpose": "I would like the names"}).status_code == 403
    registrar = token_for(world.registrar)
    response = client.get(personal, headers=registrar)
    assert response.status_code == 422 and response.json()["error"]["field"] == "purpose"
    response = client.get(personal, headers=registrar,
                          params={"purpose": "Verification visit planning, November"})
    assert response.status_code == 200
    assert "فاطمة" in response.content.decode("utf-8-sig")


def test_sitrep_pdf(client: TestClient, world: World, token_for: Auth) -> None:
    response = client.get("/api/v1/reports/sitrep.pdf", headers=token_for(world.liaison),
                          params={"zone": "SZ-TEST-001", "lang": "ar", "on": "2026-11-20"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    bad = client.get("/api/v1/reports/sitrep.pdf", headers=token_for(world.liaison),
                     params={"lang": "fr"})
    assert bad.status_code == 422
