"""Every standard evaluated on plain facts (no database): met, not met, unknown, edge cases."""

from __future__ import annotations

from typing import Any

import pytest

from havens.assistance.indicators import Thresholds, indicators_for
from havens.assistance.standards import (
    IndicatorResult,
    ZoneFacts,
    activity_types,
    metrics,
    standards,
)
from havens.zones.capacity import SPHERE_SITE_AREA_PER_PERSON_M2


def facts(population: int | None = 1000, *, school_age: int | None = None,
          area: float | None = None, emergency: bool = False, **measured: float) -> ZoneFacts:
    return ZoneFacts(zone_id=1, zone_code="SZ-X", zone_name="X", emergency_phase=emergency,
                     area_m2=area, population=population,
                     population_source="registered" if population is not None else None,
                     school_age=school_age,
                     measurements={k: (v, "2030-01-01") for k, v in measured.items()})


def result(code: str, f: ZoneFacts) -> IndicatorResult:
    return indicators_for(f, Thresholds([]), [code])[0]


def test_standards_file_is_complete_and_cited() -> None:
    known = set(metrics()) | {"zone_area_m2"}
    assert set(standards()) >= {"water_lpd", "people_per_water_point", "people_per_toilet",
                                "covered_area_m2_pp", "site_area_m2_pp",
                                "learners_per_classroom", "school_enrolment_pct"}
    for s in standards().values():
        assert s.source["document"] in ("Sphere Handbook", "INEE Minimum Standards for Education")
        assert s.source["edition"] and s.source["standard"]
        assert s.direction in (">=", "<=") and s.threshold > 0
        assert set(s.supply) <= known and s.metrics() <= set(metrics())
    assert set(activity_types()) == {"wash", "shelter", "food_security", "health", "education",
                                     "protection", "site_management"}


def test_site_area_threshold_agrees_with_zone_capacity_rule() -> None:
    assert standards()["site_area_m2_pp"].threshold == SPHERE_SITE_AREA_PER_PERSON_M2


@pytest.mark.parametrize(("code", "measured", "value", "status", "gap"), [
    ("water_lpd", {"water_delivered_lpd": 15_000}, 15.0, "met", 0),
    ("water_lpd", {"water_delivered_lpd": 14_999}, 15.0, "not_met", 1),
    ("water_lpd", {"water_delivered_lpd": 0}, 0.0, "not_met", 15_000),
    ("people_per_toilet", {"toilets_functional": 50}, 20.0, "met", 0),
    ("people_per_toilet", {"toilets_functional": 49}, 20.41, "not_met", 1),
    ("covered_area_m2_pp", {"covered_area_m2": 3500}, 3.5, "met", 0),
    ("covered_area_m2_pp", {"covered_area_m2": 3000}, 3.0, "not_met", 500),
    ("people_per_water_point", {"water_points_tap": 4}, 250.0, "met", 0),
    ("people_per_water_point", {"water_points_tap": 3}, 333.33, "not_met", 1),
])
def test_standard_with_1000_people(code: str, measured: dict[str, float], value: float,
                                   status: str, gap: float) -> None:
    r = result(code, facts(1000, **measured))
    assert (r.value, r.status, r.gap) == (value, status, gap)


@pytest.mark.parametrize("code", list(standards()))
def test_zero_population_is_unknown_never_met(code: str) -> None:
    everything: dict[str, Any] = dict.fromkeys(metrics(), 10.0)
    r = result(code, facts(0, school_age=0, area=1e6, **everything))
    if isinstance(standards()[code].base, dict):  # learners per classroom: base is learners
        r = result(code, facts(0, area=1e6, learning_spaces=3))
    assert r.status == "unknown" and r.value is None and r.gap is None
    assert "0" in r.reason or "no " in r.reason


@pytest.mark.parametrize("code", list(standards()))
def test_no_measurement_is_unknown(code: str) -> None:
    r = result(code, facts(1000, school_age=300))
    assert r.status == "unknown" and r.value is None


def test_unknown_population_is_unknown() -> None:
    r = result("water_lpd", facts(None, water_delivered_lpd=50_000))
    assert r.status == "unknown" and "no population" in r.reason


def test_no_toilet_at_all_is_not_met_with_whole_need_as_gap() -> None:
    r = result("people_per_toilet", facts(1000, toilets_functional=0))
    assert r.status == "not_met" and r.value is None and r.gap == 50


def test_water_points_combined_as_tap_equivalents() -> None:
    # 2,000 people: 2 taps (500) + 2 hand pumps (1,000) + 1 open well (400) = 1,900 < 2,000.
    r = result("people_per_water_point",
               facts(2000, water_points_tap=2, water_points_handpump=2, water_points_open_well=1))
    assert r.status == "not_met" and r.value == pytest.approx(2000 / 7.6, abs=0.01)
    assert r.gap == 1  # one more tap
    # A survey that found no taps and only hand pumps: 4 pumps serve 2,000.
    r = result("people_per_water_point", facts(2000, water_points_handpump=4))
    assert r.status == "met" and r.value == 250


def test_toilets_in_first_phase_of_emergency_allow_50_people() -> None:
    f = facts(1000, emergency=True, toilets_functional=25)  # 40 per toilet
    r = result("people_per_toilet", f)
    assert r.status == "met" and r.threshold == 50 and "emergency" in r.threshold_source
    assert result("people_per_toilet", facts(1000, toilets_functional=25)).status == "not_met"


def test_site_area_uses_zone_area_not_a_measurement() -> None:
    assert result("site_area_m2_pp", facts(1000, area=45_000)).status == "met"
    r = result("site_area_m2_pp", facts(1000, area=40_000))
    assert r.status == "not_met" and r.gap == 5000
    assert result("site_area_m2_pp", facts(1000)).status == "unknown"  # no boundary


def test_learners_per_classroom() -> None:
    r = result("learners_per_classroom", facts(
        5000, learning_spaces=10, learners_f_6_11=150, learners_m_6_11=150,
        learners_f_12_17=60, learners_m_12_17=50))
    assert r.value == 41.0 and r.status == "not_met" and r.gap == 1
    r = result("learners_per_classroom", facts(5000, learning_spaces=0, learners_f_6_11=10))
    assert r.status == "not_met" and r.value is None and r.gap == 1


def test_enrolment_share_of_registered_school_age_children() -> None:
    r = result("school_enrolment_pct", facts(5000, school_age=200, learners_f_6_11=80,
                                              learners_m_6_11=70))
    assert r.value == 75.0 and r.status == "not_met" and r.gap == 50
    assert r.gap_unit == "children"
    # Reported population gives no ages: unknown rather than a guess.
    f = facts(5000, learners_f_6_11=80)
    f.population_source, f.school_age = "reported", None
    assert result("school_enrolment_pct", f).status == "unknown"
