"""Occupancy and flows on a small scenario, with disclosure control for aggregate-only users."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from havens.orgs.permissions import Principal
from havens.people import flows as people_flows
from havens.people import occupancy, service
from havens.people.crypto import FieldCipher
from havens.people.schemas import DepartRequest, HouseholdCreate, MoveRequest
from tests.people.conftest import World, add_zone, household_payload, member

ON = dt.date(2026, 3, 1)


def person(relationship: str, sex: str, born: str) -> dict[str, object]:
    return member(relationship=relationship, sex=sex, date_of_birth=born, phone=None,
                  document_type=None, document_number=None, specific_needs=[])


def scenario(db: Session, world: World, cipher: FieldCipher) -> list[int]:
    """Three households at site 0 and one at site 1 (ages on 2026-03-01 in comments)."""
    actor = world.p(world.registrar)
    families = [
        (0, "2026-01-10", [person("head", "M", "1980-01-01"),      # 46
                           person("spouse", "F", "1985-06-01"),    # 40
                           person("child", "F", "2021-03-02"),     # 4 (5 tomorrow)
                           person("child", "M", "2021-03-01")]),   # 5 today
        (0, "2026-01-10", [person("head", "F", "1960-03-01"),      # 66
                           person("child", "M", "2008-03-02")]),   # 17
        (0, "2026-01-12", [person("head", "M", "1966-03-02"),      # 59
                           person("child", "F", "2014-02-01")]),   # 12
        (1, "2026-01-11", [person("head", "M", "1990-01-01")]),
    ]
    ids = []
    for n, (site, arrived, members) in enumerate(families):
        data = HouseholdCreate.model_validate(household_payload(
            world.sites[site], household_ref=f"OCC-{n}", arrival_date=arrived,
            displacement_date=None, members=members))
        ids.append(service.register_household(db, actor=actor, data=data, cipher=cipher).id)
    return ids


def test_zone_occupancy_by_sex_and_age(db: Session, world: World, cipher: FieldCipher) -> None:
    ids = scenario(db, world, cipher)
    service.depart_household(db, actor=world.p(world.registrar), household_id=ids[2],
                             data=DepartRequest(destination_type="abroad",
                                                moved_on=dt.date(2026, 2, 1)), cipher=cipher)
    result = occupancy.zone_occupancy(db, actor=world.p(world.coordinator),
                                      zone_id=world.zone.id, on=ON)
    assert not result.suppressed
    site0 = result.sites[0].population
    assert site0.by_sex_age["M"] == {"0-4": 0, "5-11": 1, "12-17": 1, "18-59": 1, "60+": 0}
    assert site0.by_sex_age["F"] == {"0-4": 1, "5-11": 0, "12-17": 0, "18-59": 1, "60+": 1}
    assert site0.individuals == 6 and site0.households == 2
    assert result.population.individuals == 7 and result.population.households == 3
    assert result.sites[0].capacity is not None
    assert result.sites[0].capacity_use == round(6 / result.sites[0].capacity, 3)
    # The same question from the government liaison: counts under 5 are suppressed.
    masked = occupancy.zone_occupancy(db, actor=world.p(world.liaison), zone_id=world.zone.id,
                                      on=ON)
    assert masked.suppressed
    # Outsiders see the zone as a whole, never site by site.
    assert masked.sites == []
    cells = [v for by_age in masked.population.by_sex_age.values() for v in by_age.values()]
    assert "<5" in cells
    assert all(v in ("<5", "x") or v == 0 or (isinstance(v, int) and v >= 5) for v in cells)
    assert masked.population.by_sex_age["M"]["0-4"] == 0
    # 7 is safe to show, but secondary suppression may withhold it ("x") to protect others.
    assert masked.population.individuals in (7, "x")
    assert masked.capacity_use is None or masked.population.individuals == 7


def test_flows_per_day(db: Session, world: World, cipher: FieldCipher) -> None:
    ids = scenario(db, world, cipher)
    actor = world.p(world.registrar)
    service.depart_household(db, actor=actor, household_id=ids[2], data=DepartRequest(
        destination_type="abroad", moved_on=dt.date(2026, 1, 20)), cipher=cipher)
    service.depart_household(db, actor=actor, household_id=ids[1], data=DepartRequest(
        destination_type="return_to_origin", moved_on=dt.date(2026, 1, 20)), cipher=cipher)
    other_zone, other_sites = add_zone(db, "Z-OTHER", sites=1)
    service.move_household(db, actor=actor, household_id=ids[3], data=MoveRequest(
        to_site_code=other_sites[0].code, moved_on=dt.date(2026, 1, 21)), cipher=cipher)
    service.move_household(db, actor=actor, household_id=ids[0], data=MoveRequest(
        to_site_code=world.sites[1].code, moved_on=dt.date(2026, 1, 21)), cipher=cipher)

    system = Principal.system()
    flows = people_flows.count_flows(db, actor=system, zone_id=world.zone.id,
                            start=dt.date(2026, 1, 11), end=dt.date(2026, 1, 22))
    day = {d.day: d for d in flows.days}
    assert day[dt.date(2026, 1, 11)].arrivals == 1 and day[dt.date(2026, 1, 11)].present == 7
    assert day[dt.date(2026, 1, 12)].arrivals == 2 and day[dt.date(2026, 1, 12)].present == 9
    jan20 = day[dt.date(2026, 1, 20)]
    assert jan20.departures_abroad == 2 and jan20.departures["return_to_origin"] == 2
    assert jan20.present == 5
    jan21 = day[dt.date(2026, 1, 21)]
    assert jan21.relocations_out == 1 and jan21.relocations_in == 0  # internal move unseen
    assert jan21.present == 4
    assert flows.totals.arrivals == 3 and flows.totals.departures_abroad == 2

    site_flows = people_flows.count_flows(db, actor=system, site_id=world.sites[1].id,
                                 start=dt.date(2026, 1, 21), end=dt.date(2026, 1, 21))
    assert site_flows.days[0].relocations_in == 4 and site_flows.days[0].relocations_out == 1
    assert site_flows.days[0].present == 4
    masked = people_flows.count_flows(db, actor=world.p(world.state_viewer), zone_id=other_zone.id,
                             start=dt.date(2026, 1, 21), end=dt.date(2026, 1, 21))
    assert masked.days[0].relocations_in == "<5"


def test_occupancy_api(client: object, world: World, token_for: object) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    response = client.get(f"/api/v1/people/zones/{world.zone.id}/occupancy",
                          headers=token_for(world.state_viewer))  # type: ignore[operator]
    assert response.status_code == 200 and response.json()["suppressed"] is True
    flows = client.get("/api/v1/people/flows",
                       params={"zone_id": world.zone.id, "start": "2026-01-01",
                               "end": "2026-01-31"},
                       headers=token_for(world.state_viewer))  # type: ignore[operator]
    assert flows.status_code == 200 and len(flows.json()["days"]) == 31
