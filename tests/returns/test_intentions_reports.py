"""Return intentions (recorded and imported from Kobo exports) and the reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from havens.exceptions import NotFound, ValidationFailed
from havens.orgs.models import User
from havens.people.models import DestinationType, Movement, MovementKind
from havens.returns import intentions, movements, reports
from havens.returns.criteria import Criterion, Rating
from havens.returns.models import Intention, ReturnIntention
from havens.returns.schemas import IntentionCreate, ReturnCreate
from tests.returns.conftest import ORIGIN, OTHER, TODAY, World, all_met


@pytest.mark.parametrize(("text", "expected"), [
    ("within_3_months", Intention.within_3_months), ("3_months", Intention.within_3_months),
    ("Within 6 months", Intention.within_6_months), ("12", Intention.within_12_months),
    ("no", Intention.not_intending), ("dont_know", Intention.undecided),
    ("tomorrow", None), ("", None),
])
def test_intention_answers(text: str, expected: Intention | None) -> None:
    assert intentions.parse_intention(text) == expected


def test_record_and_read_an_intention(world: World) -> None:
    household = world.household(1)
    answer = intentions.record_intention(
        world.db, actor=world.p(world.protection), data=IntentionCreate.model_validate({
            "registration_number": household.registration_number, "surveyed_on": "2026-02-01",
            "intention": "within_6_months", "preconditions": ["housing_repair", "schools"]},
            strict=False))
    assert answer.destination_pcode == ORIGIN and answer.preconditions == [
        "housing_repair", "schools"]
    assert [a.id for a in intentions.list_intentions(
        world.db, actor=world.p(world.registrar), household_id=household.id)] == [answer.id]
    with pytest.raises(NotFound):
        intentions.list_intentions(world.db, actor=world.p(world.other_registrar),
                                   household_id=household.id)
    with pytest.raises(ValidationFailed, match="Unknown precondition"):
        intentions.record_intention(
            world.db, actor=world.p(world.registrar), data=IntentionCreate.model_validate({
                "household_id": household.id, "surveyed_on": "2026-02-01",
                "intention": "undecided", "preconditions": ["wifi"]}, strict=False))


KOBO = (
    "start,today,hh/registration_number,intentions/intention_to_return,"
    "intentions/preconditions,intentions/preconditions/safety_security,"
    "intentions/preconditions/housing_repair,_uuid\n"
    "2026-03-01T09:00,2026-03-01,{r1},3_months,,1,1,uuid-1\n"
    "2026-03-01T09:30,2026-03-01,{r2},no,,0,0,uuid-2\n"
    "2026-03-02T10:00,2026-03-02,{r3},undecided,livelihoods schools,0,1,uuid-3\n"
)


def test_kobo_export_is_imported_once(world: World) -> None:
    households = [world.household(n) for n in (1, 2, 3)]
    data = KOBO.format(**{f"r{i + 1}": h.registration_number
                          for i, h in enumerate(households)}).encode()
    actor = world.p(world.registrar)
    report = intentions.import_intentions(world.db, actor=actor, data=data, filename="k.csv")
    assert (report.rows, report.created, report.skipped_existing) == (3, 3, 0)
    answers = {a.household_id: a for a in world.db.scalars(select(ReturnIntention))}
    first = answers[households[0].id]
    assert first.intention == Intention.within_3_months and first.external_ref == "uuid-1"
    assert first.preconditions == ["safety_security", "housing_repair"]
    assert answers[households[2].id].preconditions == ["livelihoods", "schools",
                                                       "housing_repair"]
    assert answers[households[1].id].surveyed_on == dt.date(2026, 3, 1)
    again = intentions.import_intentions(world.db, actor=actor, data=data, filename="k.csv")
    assert (again.created, again.skipped_existing) == (0, 3)


def test_import_problems_are_listed_and_nothing_is_imported(world: World) -> None:
    mine = world.household(1)
    theirs = world.household(2, organisation=world.iom)
    data = (
        "registration_number,intention,preconditions,survey_date,_uuid\n"
        f"{mine.registration_number},within_3_months,safety_security,2026-03-01,a\n"
        f"{theirs.registration_number},undecided,,2026-03-01,b\n"  # another org's household
        f"{mine.registration_number},soon,,2026-03-01,c\n"  # unknown intention
        f"{mine.registration_number},no,wifi,2026-03-01,d\n"  # unknown precondition
        f"{mine.registration_number},no,,yesterday,e\n"  # not a date
        f"{mine.registration_number},no,,2026-03-01,a\n"  # submission twice
    ).encode()
    with pytest.raises(ValidationFailed) as error:
        intentions.import_intentions(world.db, actor=world.p(world.registrar), data=data,
                                     filename="answers.csv")
    problems = {(p["row"], p["column"]) for p in error.value.details}
    assert problems == {(3, "registration_number"), (4, "intention"), (5, "preconditions"),
                        (6, "surveyed_on"), (7, "external_ref")}
    assert world.db.scalar(select(func.count()).select_from(ReturnIntention)) == 0


def test_origin_report_suppresses_small_counts_for_aggregate_readers(world: World) -> None:
    world.assess(ORIGIN, {Criterion.safety_security: Rating.not_met}, on=dt.date(2026, 1, 1))
    world.assess(ORIGIN, all_met(), on=dt.date(2026, 4, 1))
    households = [world.household(n, members=2) for n in range(1, 8)]
    world.household(20, origin=OTHER)
    for household, answer in zip(households[:5], ["within_3_months"] * 4 + ["undecided"],
                                 strict=True):
        intentions.record_intention(world.db, actor=world.p(world.registrar),
                                    data=IntentionCreate.model_validate({
                                        "household_id": household.id,
                                        "surveyed_on": "2026-03-01", "intention": answer,
                                        "preconditions": ["safety_security"]}, strict=False))
    movements.record_return(
        world.db, actor=world.p(world.registrar), cipher=world.cipher,
        data=ReturnCreate.model_validate({
            "household_id": households[6].id, "kind": "spontaneous", "voluntary": True,
            "returned_on": (TODAY - dt.timedelta(days=1)).isoformat()}, strict=False))
    full = reports.origin_report(world.db, actor=world.p(world.coordinator), pcode=ORIGIN)
    assert not full.suppressed
    assert [(z.zone_code, z.households, z.individuals) for z in full.displaced] == [
        ("SZ-R-001", 6, 12)]
    assert full.intentions["within_3_months"] == 4 and full.intentions["undecided"] == 1
    assert full.preconditions == {"safety_security": 5}
    month = (TODAY - dt.timedelta(days=1)).strftime("%Y-%m")
    assert [(m.month, m.spontaneous, m.facilitated, m.individuals)
            for m in full.returns_by_month] == [(month, 1, 0, 2)]
    assert full.status.status == "conducive" and len(full.status.history) == 2
    hidden = reports.origin_report(world.db, actor=world.p(world.viewer), pcode=ORIGIN)
    assert hidden.suppressed
    assert hidden.displaced[0].households == 6 and hidden.displaced[0].individuals == 12
    assert hidden.intentions["within_3_months"] == "<5" and hidden.intentions["undecided"] == "<5"
    assert hidden.intentions["not_intending"] == 0
    assert hidden.preconditions == {"safety_security": 5}
    assert hidden.returns_by_month[0].spontaneous == "<5"


def test_zone_report_counts_departures_by_destination(world: World) -> None:
    world.assess(ORIGIN, all_met())
    for n in range(1, 4):
        household = world.household(n)
        movements.record_return(
            world.db, actor=world.p(world.registrar), cipher=world.cipher,
            data=ReturnCreate.model_validate({
                "household_id": household.id, "kind": "spontaneous", "voluntary": True,
                "returned_on": (TODAY - dt.timedelta(days=n)).isoformat()}, strict=False))
    abroad = world.household(9)
    world.db.add(Movement(household_id=abroad.id, kind=MovementKind.departure,
                          moved_on=TODAY, site_id=world.site.id,
                          destination_type=DestinationType.abroad, individuals=3,
                          recorded_by_org_id=world.unhcr.id))
    world.db.flush()
    full = reports.zone_departures(world.db, actor=world.p(world.coordinator),
                                   zone_id=world.zone.id)
    assert [(d.destination_type, d.households, d.individuals) for d in full.departures] == [
        ("abroad", 1, 3), ("return_to_origin", 3, 9)]
    assert [(a.pcode, a.households) for a in full.returns_by_area] == [(ORIGIN, 3)]
    hidden = reports.zone_departures(world.db, actor=world.p(world.viewer),
                                     zone_id=world.zone.id)
    # 3 people went abroad (<5): the 9 who returned are withheld too, else the zone's
    # departures (12, published by the flows) would give the 3 away.
    assert [(d.households, d.individuals) for d in hidden.departures] == [
        ("<5", "<5"), ("<5", "x")]
    recent = reports.zone_departures(world.db, actor=world.p(world.coordinator),
                                     zone_id=world.zone.id, start=TODAY - dt.timedelta(days=1))
    assert [(d.destination_type, d.households) for d in recent.departures] == [
        ("abroad", 1), ("return_to_origin", 1)]


Headers = Callable[[User], dict[str, str]]


def test_api_assess_report_and_import(world: World, client: TestClient,
                                      token_for: Headers) -> None:
    headers = token_for(world.coordinator)
    created = client.post("/api/v1/returns/assessments", headers=headers, json={
        "pcode": ORIGIN, "assessed_on": "2026-02-01",
        "criteria": [{"criterion": "safety_security", "rating": "partly_met",
                      "notes": "Sporadic shelling in the east"}]})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "partly_conducive"
    area = client.get(f"/api/v1/returns/areas/{ORIGIN}", headers=token_for(world.viewer))
    assert area.json()["status"] == "partly_conducive"
    household = world.household(1)
    upload = client.post("/api/v1/returns/intentions/import", headers=headers, files={
        "file": ("answers.csv", f"registration_number,intention,date\n"
                                f"{household.registration_number},12_months,2026-03-01\n"
                                .encode(), "text/csv")})
    assert upload.status_code == 200, upload.text
    assert upload.json()["created"] == 1
    bad = client.post("/api/v1/returns/intentions/import", headers=headers, files={
        "file": ("answers.csv", b"registration_number,intention\nNOPE,12\n", "text/csv")})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["row"] == 2
    report = client.get(f"/api/v1/returns/areas/{ORIGIN}/report", headers=headers)
    assert report.status_code == 200 and report.json()["intentions"]["within_12_months"] == 1
    departures = client.get(f"/api/v1/zones/{world.zone.id}/departures", headers=headers)
    assert departures.status_code == 200 and departures.json()["departures"] == []
    reference = client.get("/api/v1/returns/reference", headers=headers).json()
    assert len(reference["criteria"]) == 8 and "right_to_remain" in reference["informed_of"]


def test_origin_report_counts_a_merged_registration_once(world: World) -> None:
    """A household registered twice and merged whole (a confirmed duplicate) is one household
    of displaced people from its area, as occupancy and the returns export count it."""
    from havens.people import merges

    kept, copy = world.household(1), world.household(2)
    world.household(3, members=2)
    for person, twin in zip(kept.members, copy.members, strict=True):
        merges.mark_merged(world.db, individual_id=twin.id, into_id=person.id)
    merges.mark_household_merged(world.db, household_id=copy.id, into_id=kept.id)
    world.db.flush()
    report = reports.origin_report(world.db, actor=world.p(world.coordinator), pcode=ORIGIN)
    assert (report.displaced_total.households, report.displaced_total.individuals) == (2, 5)
