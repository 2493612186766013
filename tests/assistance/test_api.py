"""The HTTP API: paths, permissions, errors."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.assistance.models import Activity
from havens.orgs.models import User
from tests.assistance.conftest import World, agreement_in_force, zone_with_people

Headers = Callable[[User], dict[str, str]]


def test_permissions(client: TestClient, db: Session, world: World, token_for: Headers
                     ) -> None:
    zone = zone_with_people(db, world.iom, 100)
    survey = {"zone": zone.code, "measured_on": "2030-02-01",
              "values": {"toilets_functional": 4, "water_delivered_lpd": 1000}}
    assert client.post("/api/v1/assistance/measurements", json=survey).status_code == 401
    denied = client.post("/api/v1/assistance/measurements", json=survey,
                         headers=token_for(world.viewer))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    made = client.post("/api/v1/assistance/measurements", json=survey,
                       headers=token_for(world.provider))
    assert made.status_code == 201 and len(made.json()) == 2
    override = {"standard": "people_per_toilet", "threshold": 30, "valid_from": "2030-01-01",
                "reason": "Cluster decision of January: 1:30 during the winter"}
    assert client.post("/api/v1/assistance/overrides", json=override,
                       headers=token_for(world.provider)).status_code == 403
    assert client.post("/api/v1/assistance/overrides", json=override,
                       headers=token_for(world.coordinator)).status_code == 201
    activity = {"implementing_org": world.iom.acronym, "sector": "wash",
                "activity_type": "water_trucking", "zone": zone.code,
                "start_date": "2030-02-01", "reached": {"total": 100}}
    assert client.post("/api/v1/assistance/activities", json=activity,
                       headers=token_for(world.viewer)).status_code == 403
    created = client.post("/api/v1/assistance/activities", json=activity,
                          headers=token_for(world.provider))
    assert created.status_code == 201 and created.json()["zone_code"] == zone.code
    listed = client.get("/api/v1/assistance/activities", params={"zone": zone.code},
                        headers=token_for(world.viewer))
    assert [a["id"] for a in listed.json()] == [created.json()["id"]]


def test_indicators_gaps_and_series(client: TestClient, db: Session, world: World,
                                    token_for: Headers) -> None:
    zone = zone_with_people(db, world.iom, 5000)
    headers = token_for(world.provider)
    for day, toilets in (("2030-01-10", 150), ("2030-02-10", 180)):
        client.post("/api/v1/assistance/measurements", headers=headers, json={
            "zone": zone.code, "measured_on": day,
            "values": {"toilets_functional": toilets, "water_delivered_lpd": 60000}})
    viewer = token_for(world.viewer)
    body = client.get(f"/api/v1/zones/{zone.id}/indicators", params={"on": "2030-03-01"},
                      headers=viewer).json()
    assert (body["population"], body["population_source"]) == (5000, "registered")
    by_code = {i["standard"]: i for i in body["indicators"]}
    assert by_code["people_per_toilet"]["value"] == 27.78
    assert by_code["water_lpd"]["status"] == "not_met"
    assert by_code["covered_area_m2_pp"]["status"] == "unknown"
    assert "Sphere Handbook 2018" in by_code["water_lpd"]["citation"]
    gaps = client.get("/api/v1/assistance/gaps", params={"on": "2030-03-01", "sector": "wash"},
                      headers=viewer).json()
    assert [g["text"] for g in gaps] == ["needs 70 more toilets", "needs 15,000 more l/day"]
    series = client.get(f"/api/v1/zones/{zone.id}/indicators/people_per_toilet/series",
                        params={"start": "2030-01-01", "end": "2030-03-01"},
                        headers=viewer).json()
    assert [(p["date"], p["value"]) for p in series["points"]] == [
        ("2030-01-10", 33.33), ("2030-02-10", 27.78), ("2030-03-01", 27.78)]
    bars = client.get("/api/v1/assistance/charts/gaps", params={"on": "2030-03-01"},
                      headers=viewer).json()
    assert [(c["standard"], c["bars"][0]["gap"]) for c in bars] == [
        ("water_lpd", 15000), ("people_per_toilet", 70)]
    all_zones = client.get("/api/v1/assistance/indicators", params={"on": "2030-03-01"},
                           headers=viewer).json()
    assert [z["zone_code"] for z in all_zones] == [zone.code]
    assert client.get("/api/v1/zones/999999/indicators", headers=viewer).status_code == 404
    assert client.get("/api/v1/assistance/standards", headers=viewer).status_code == 200


def test_import_endpoint_reports_row_errors(client: TestClient, db: Session, world: World,
                                            token_for: Headers) -> None:
    zone = zone_with_people(db, world.iom, 10)
    text = ("org,sector,activity,zone,start\n"
            f"{world.iom.acronym},WASH,water_trucking,{zone.code},2030-01-01\n"
            f"{world.iom.acronym},WASH,water_trucking,NOPE,2030-01-01\n")
    response = client.post("/api/v1/assistance/activities/import",
                           files={"file": ("3w.csv", text.encode(), "text/csv")},
                           headers=token_for(world.provider))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["errors"] == [{"row": 3, "column": "zone", "reason": "No zone NOPE."}]
    assert db.scalar(select(func.count()).select_from(Activity)) == 0
    ok = client.post("/api/v1/assistance/activities/import",
                     files={"file": ("3w.csv", text.encode().split(b"\n", 2)[0] + b"\n"
                                     + text.encode().split(b"\n")[1] + b"\n", "text/csv")},
                     headers=token_for(world.provider))
    assert ok.status_code == 200 and ok.json()["created"] == 1


def test_commitments_endpoints(client: TestClient, db: Session, world: World,
                               token_for: Headers) -> None:
    zone = zone_with_people(db, world.iom, 1000)
    agreement = agreement_in_force(db, world, zone, [
        {"ref": "C-W", "party": world.iom.acronym, "what": "water", "indicator": "water_lpd",
         "target": 15, "due_date": "2030-03-01"},
        {"ref": "C-X", "party": world.ngo.acronym, "what": "community centre"}])
    coordinator = token_for(world.coordinator)
    client.post("/api/v1/assistance/measurements", headers=token_for(world.provider), json={
        "zone": zone.code, "measured_on": "2030-03-01", "values": {"water_delivered_lpd": 9000}})
    listed = client.get("/api/v1/assistance/commitments", params={"on": "2030-03-02"},
                        headers=coordinator).json()
    assert {c["ref"]: c["status"] for c in listed} == {"C-W": "broken", "C-X": "pending"}
    changed = client.post("/api/v1/assistance/commitments/refresh",
                          params={"on": "2030-03-02"}, headers=coordinator).json()
    assert {c["ref"] for c in changed} == {"C-W", "C-X"}
    attest = {"status": "kept", "evidence": "Opened on 2030-03-10", "effective_on": "2030-03-10",
              "evidence_url": "https://example.org/photo.jpg"}
    url = f"/api/v1/assistance/commitments/{agreement.id}/C-X/attestations"
    assert client.post(url, json=attest, headers=token_for(world.viewer)).status_code == 403
    assert client.post(url, json={**attest, "evidence_url": "javascript:alert(1)"},
                       headers=coordinator).status_code == 422
    assert client.post(url, json=attest, headers=coordinator).status_code == 201
    history = client.get(f"/api/v1/assistance/commitments/{agreement.id}/C-X/history",
                         headers=coordinator).json()
    assert [h["status"] for h in history] == ["pending", "kept"]
    report = client.get("/api/v1/assistance/compliance", params={"on": "2030-04-01"},
                        headers=coordinator).json()
    assert {p["party"]: p["counts"]["broken"] for p in report} == {
        world.iom.acronym: 1, world.ngo.acronym: 0}
