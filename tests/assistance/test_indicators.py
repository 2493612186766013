"""Indicators from the database: who is counted, which measurement counts, overrides."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.assistance import indicators, service
from havens.assistance.models import Measurement
from havens.assistance.schemas import MeasurementsIn, OverrideIn
from havens.audit.models import AuditRecord
from havens.exceptions import PermissionDenied, ValidationFailed
from havens.zones.models import ReportedPopulation
from tests.assistance.conftest import World, add_people, add_site, add_zone, zone_with_people

DAY = dt.date(2030, 6, 1)


def measure(db: Session, w: World, zone: str, on: dt.date, **values: float) -> None:
    service.record_measurements(db, actor=w.p(w.provider),
                                data=MeasurementsIn(zone=zone, measured_on=on, values=values))


def result(db: Session, zone_id: int, code: str, on: dt.date = DAY
           ) -> indicators.IndicatorResult:
    _facts, results = indicators.compute(db, on=on, zone_ids=[zone_id])[0]
    return next(r for r in results if r.standard == code)


def test_registered_people_present_are_counted_departed_are_not(db: Session, world: World
                                                                ) -> None:
    zone = add_zone(db)
    one, two = add_site(db, zone), add_site(db, zone)
    add_people(db, one, world.iom, count=600)
    add_people(db, two, world.iom, count=400)
    add_people(db, two, world.iom, count=250, present=False)
    add_people(db, add_site(db, None), world.iom, count=99)  # a site outside every zone
    [facts] = indicators.load_facts(db, on=DAY, zone_ids=[zone.id])
    assert (facts.population, facts.population_source) == (1000, "registered")


def test_school_age_is_6_to_17_on_the_date(db: Session, world: World) -> None:
    zone = add_zone(db)
    site = add_site(db, zone)
    on = dt.date(2030, 9, 1)
    add_people(db, site, world.iom, count=3, born=dt.date(2024, 9, 1))  # 6 today
    add_people(db, site, world.iom, count=2, born=dt.date(2024, 9, 2))  # 5 until tomorrow
    add_people(db, site, world.iom, count=4, born=dt.date(2012, 9, 2))  # 17 until tomorrow
    add_people(db, site, world.iom, count=5, born=dt.date(2012, 9, 1))  # 18 today
    [facts] = indicators.load_facts(db, on=on, zone_ids=[zone.id])
    assert (facts.population, facts.school_age) == (14, 7)


def test_reported_population_when_nobody_is_registered(db: Session, world: World) -> None:
    zone = add_zone(db)
    site = add_site(db, zone)
    db.add_all([ReportedPopulation(site_id=site.id, reported_on=dt.date(2030, 1, 31), girls=100,
                                   boys=100, women=100, men=100),
                ReportedPopulation(site_id=site.id, reported_on=dt.date(2030, 5, 31), girls=250,
                                   boys=250, women=250, men=250),
                ReportedPopulation(site_id=site.id, reported_on=dt.date(2030, 7, 31), girls=1,
                                   boys=1, women=1, men=1)])
    db.flush()
    measure(db, world, zone.code, DAY, toilets_functional=50)
    r = result(db, zone.id, "people_per_toilet")
    assert (r.base, r.value, r.inputs["base"]) == (1000, 20.0, "reported population")
    assert result(db, zone.id, "people_per_toilet", dt.date(2030, 3, 1)).status == "unknown"


def test_latest_measurement_on_or_before_the_date(db: Session, world: World) -> None:
    zone = zone_with_people(db, world.iom, 1000)
    measure(db, world, zone.code, dt.date(2030, 1, 1), water_delivered_lpd=10_000)
    measure(db, world, zone.code, dt.date(2030, 3, 1), water_delivered_lpd=16_000)
    measure(db, world, zone.code, dt.date(2030, 8, 1), water_delivered_lpd=1_000)
    assert result(db, zone.id, "water_lpd", dt.date(2029, 12, 31)).status == "unknown"
    assert result(db, zone.id, "water_lpd", dt.date(2030, 2, 28)).value == 10.0
    r = result(db, zone.id, "water_lpd", DAY)
    assert (r.value, r.status, r.inputs["water_delivered_lpd"]["on"]) == (16.0, "met",
                                                                          "2030-03-01")


def test_measuring_again_the_same_day_replaces_and_is_audited(db: Session, world: World
                                                               ) -> None:
    zone = zone_with_people(db, world.iom, 100)
    measure(db, world, zone.code, DAY, toilets_functional=3)
    measure(db, world, zone.code, DAY, toilets_functional=5)
    rows = db.scalars(select(Measurement).where(Measurement.zone_id == zone.id)).all()
    assert [(m.metric, m.value) for m in rows] == [("toilets_functional", 5.0)]
    audits = db.scalars(select(AuditRecord).where(AuditRecord.action == "assistance.measure")
                        .order_by(AuditRecord.id)).all()
    assert [(a.detail["value"], a.detail["previous"]) for a in audits] == [(3.0, None),
                                                                           (5.0, 3.0)]


def test_another_providers_value_is_not_overwritten(db: Session, world: World,
                                                    make_user) -> None:
    from havens.orgs.models import Role
    from tests.conftest import principal

    zone = zone_with_people(db, world.iom, 100)
    measure(db, world, zone.code, DAY, toilets_functional=3)
    other = principal(make_user(Role.service_provider, org=world.ngo))
    with pytest.raises(PermissionDenied):
        service.record_measurements(db, actor=other, data=MeasurementsIn(
            zone=zone.code, measured_on=DAY, values={"toilets_functional": 9}))
    service.record_measurements(db, actor=world.p(world.coordinator), data=MeasurementsIn(
        zone=zone.code, measured_on=DAY, values={"toilets_functional": 9}))


@pytest.mark.parametrize(("values", "field"), [
    ({"toilets": 3.0}, "values.toilets"),
    ({"toilets_functional": -1.0}, "values.toilets_functional"),
    ({"toilets_functional": 10.0, "toilets_female": 6.0, "toilets_male": 5.0},
     "values.toilets_functional"),
])
def test_bad_measurements_are_refused(db: Session, world: World, values: dict[str, float],
                                      field: str) -> None:
    zone = add_zone(db)
    with pytest.raises(ValidationFailed) as caught:
        service.record_measurements(db, actor=world.p(world.provider), data=MeasurementsIn(
            zone=zone.code, measured_on=DAY, values=values))
    assert caught.value.field == field


def test_viewer_may_not_measure(db: Session, world: World) -> None:
    zone = add_zone(db)
    with pytest.raises(PermissionDenied):
        service.record_measurements(db, actor=world.p(world.viewer), data=MeasurementsIn(
            zone=zone.code, measured_on=DAY, values={"showers": 1.0}))


def test_threshold_override_with_reason_zone_beats_cluster(db: Session, world: World) -> None:
    zone, other = zone_with_people(db, world.iom, 1000), zone_with_people(db, world.iom, 1000)
    for z in (zone, other):
        measure(db, world, z.code, DAY, toilets_functional=40)  # 25 people per toilet
    coordinator = world.p(world.coordinator)
    service.set_override(db, actor=coordinator, data=OverrideIn(
        standard="people_per_toilet", threshold=30, valid_from=dt.date(2030, 5, 1),
        reason="Cluster decision 2030-04: 1:30 while the desludging contract is retendered"))
    service.set_override(db, actor=coordinator, data=OverrideIn(
        standard="people_per_toilet", threshold=25, zone=zone.code, valid_from=dt.date(2030, 5, 1),
        reason="Rocky ground: pit latrines cannot be dug, chemical toilets only"))
    r, r_other = result(db, zone.id, "people_per_toilet"), result(db, other.id,
                                                                  "people_per_toilet")
    assert (r.threshold, r.status) == (25, "met") and "Rocky ground" in r.threshold_source
    assert (r_other.threshold, r_other.status) == (30, "met")
    assert "all zones" in r_other.threshold_source
    # Before the overrides took effect: the handbook.
    early = result(db, zone.id, "people_per_toilet", dt.date(2030, 4, 30))
    assert (early.threshold, early.threshold_source) == (20, "handbook")
    # Restoring the handbook for the zone falls back to the handbook, not to the cluster's.
    service.set_override(db, actor=coordinator, data=OverrideIn(
        standard="people_per_toilet", threshold=None, zone=zone.code,
        valid_from=dt.date(2030, 5, 15), reason="Chemical toilets replaced by lined pits"))
    r = result(db, zone.id, "people_per_toilet")
    assert (r.threshold, r.status, r.threshold_source) == (30, "met", r_other.threshold_source)
    audits = db.scalars(select(AuditRecord).where(
        AuditRecord.action == "assistance.standard_override")).all()
    assert len(audits) == 3 and audits[0].detail["reason"].startswith("Cluster decision")
    assert audits[0].detail["handbook"] == 20


def test_override_only_in_emergency_phase(db: Session, world: World) -> None:
    calm = zone_with_people(db, world.iom, 1000)
    emergency = zone_with_people(db, world.iom, 1000, emergency=True)
    for z in (calm, emergency):
        measure(db, world, z.code, DAY, toilets_functional=20)  # 50 per toilet
    service.set_override(db, actor=world.p(world.coordinator), data=OverrideIn(
        standard="people_per_toilet", threshold=40, phase="emergency",
        valid_from=dt.date(2030, 1, 1), reason="Cluster aims higher than Sphere's 1:50"))
    assert result(db, emergency.id, "people_per_toilet").threshold == 40
    assert result(db, calm.id, "people_per_toilet").threshold == 20


def test_override_needs_reason_and_permission(db: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.set_override(db, actor=world.p(world.coordinator), data=OverrideIn(
            standard="water_lpd", threshold=12, reason="  short "))
    assert caught.value.field == "reason"
    with pytest.raises(PermissionDenied):
        service.set_override(db, actor=world.p(world.provider), data=OverrideIn(
            standard="water_lpd", threshold=12, reason="We cannot truck more water."))
    with pytest.raises(ValidationFailed):
        service.set_override(db, actor=world.p(world.coordinator), data=OverrideIn(
            standard="water_lpd", threshold=0, reason="Zero is never a standard."))
