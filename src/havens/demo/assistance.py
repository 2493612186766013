"""Demo data of the assistance domain: 3W activities, two rounds of measurements per demo zone,
attested commitments and the commitments' computed history.

Measurements are set *relative to each zone's population* on the day of loading (registered, else
reported), so that whatever the people demo registers the picture is the same:

- ``SZ-SY07-001`` (Dana – Atmeh – Sarmada): water short (13 l/p/d), toilets short, shelter space
  improving from 2.6 to 3.2 m²/person (NRC's commitment: broken, then partly kept), enough taps
  and classrooms;
- ``SZ-SY02-001`` (A'zaz): water and toilets met, classrooms crowded;
- ``SZ-SY07-002`` (Kelly – Harbanoush): few water points, latrines being built.

A zone that does not exist is skipped quietly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.assistance import activities, commitments, indicators, service
from havens.assistance.models import CommitmentState
from havens.assistance.schemas import ActivityCreate, AttestIn, MeasurementsIn
from havens.exceptions import HavensError
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal
from havens.zones.models import Zone

#: When a zone has no population figure yet, measurements are made for this many people.
NOMINAL_POPULATION = 20_000

#: zone -> (metric -> amount per person, first round; amount per person, second round)
PER_PERSON: dict[str, dict[str, tuple[float, float]]] = {
    "SZ-SY07-001": {
        "water_delivered_lpd": (11.0, 13.0), "toilets_functional": (1 / 34, 1 / 26),
        "water_points_tap": (1 / 300, 1 / 240), "water_points_handpump": (0.0, 1 / 5000),
        "covered_area_m2": (2.6, 3.2), "showers": (1 / 60, 1 / 50),
        "health_facilities": (1 / 10000, 1 / 10000),
        "health_consultations_week": (0.05, 0.06)},
    "SZ-SY02-001": {
        "water_delivered_lpd": (15.5, 17.0), "toilets_functional": (1 / 19, 1 / 18),
        "water_points_tap": (1 / 200, 1 / 200), "covered_area_m2": (3.6, 3.8),
        "health_facilities": (1 / 8000, 1 / 8000)},
    "SZ-SY07-002": {
        "water_delivered_lpd": (9.0, 10.0), "toilets_functional": (1 / 70, 1 / 45),
        "water_points_tap": (1 / 600, 1 / 500), "water_points_open_well": (1 / 4000, 1 / 4000),
        "covered_area_m2": (3.0, 3.2)},
}

#: zone -> (learning spaces, learners f/m 6-11, f/m 12-17) per 1,000 people
SCHOOLING: dict[str, tuple[float, float, float, float, float]] = {
    "SZ-SY07-001": (4.0, 45, 48, 22, 25),  # 35 learners per classroom: met
    "SZ-SY02-001": (3.0, 50, 52, 30, 28),  # 53: crowded
}

ACTIVITIES: list[dict[str, Any]] = [
    {"implementing_org": "IOM", "funding_org": "ECHO", "sector": "wash",
     "activity_type": "water_trucking", "zone": "SZ-SY07-001", "quantity": 250000,
     "unit": "litres/day", "reached": {"girls": 6100, "boys": 6300, "women": 5200, "men": 4400,
                                       "older_women": 900, "older_men": 700}},
    {"implementing_org": "IOM", "funding_org": "DE-FFO", "sector": "wash",
     "activity_type": "latrine_construction", "zone": "SZ-SY07-002", "quantity": 120,
     "unit": "latrines", "status": "ongoing", "reached": {"total": 6000}},
    {"implementing_org": "NRC", "funding_org": "DE-FFO", "sector": "shelter",
     "activity_type": "shelter_upgrade", "zone": "SZ-SY07-001", "quantity": 800,
     "unit": "shelters", "reached": {"total": 4100}},
    {"implementing_org": "NRC", "funding_org": "ECHO", "sector": "education",
     "activity_type": "learning_space", "zone": "SZ-SY02-001", "quantity": 12,
     "unit": "classrooms", "reached": {"girls": 420, "boys": 390}},
    {"implementing_org": "NRC", "sector": "protection", "activity_type": "legal_aid",
     "zone": "SZ-SY02-001", "reached": {"women": 310, "men": 280}},
    {"implementing_org": "SARC", "funding_org": "BHA", "sector": "health",
     "activity_type": "primary_health_care", "zone": "SZ-SY07-001", "quantity": 2900,
     "unit": "consultations", "reached": {"total": 2900}},
    {"implementing_org": "SARC", "sector": "health", "activity_type": "mobile_clinic",
     "zone": "SZ-SY07-002", "quantity": 4, "unit": "clinic days/week",
     "reached": {"total": 900}},
    {"implementing_org": "UNHCR", "sector": "site_management",
     "activity_type": "complaints_feedback", "zone": "SZ-SY07-001", "reached": {"total": 0}},
    {"implementing_org": "UNHCR", "funding_org": "UNHCR", "sector": "shelter",
     "activity_type": "nfi_distribution", "zone": "SZ-SY07-002", "quantity": 1500,
     "unit": "kits", "status": "completed", "reached": {"total": 7400}},
    {"implementing_org": "IOM", "sector": "wash", "activity_type": "hygiene_kits",
     "zone": "SZ-SY02-001", "quantity": 3000, "unit": "kits", "status": "planned",
     "reached": {"total": 0}},
]


def load(db: Session, *, actor: Principal, today: dt.date | None = None) -> None:
    today = today or dt.datetime.now(dt.UTC).date()
    zones = {z.code: z for z in db.scalars(select(Zone).where(Zone.code.in_(list(PER_PERSON))))}
    if not zones:
        return
    first_round, second_round = today - dt.timedelta(days=90), today - dt.timedelta(days=20)
    facts = {f.zone_code: f for f in indicators.load_facts(
        db, on=today, zone_ids=[z.id for z in zones.values()])}
    for code, zone in zones.items():
        population = facts[code].population or NOMINAL_POPULATION
        for n, day in enumerate((first_round, second_round)):
            values = {metric: round(pair[n] * population, 0 if metric != "covered_area_m2"
                                    else 1)
                      for metric, pair in PER_PERSON[code].items()}
            if code in SCHOOLING:
                spaces, f611, m611, f1217, m1217 = SCHOOLING[code]
                per_k = population / 1000
                values.update(learning_spaces=round(spaces * per_k),
                              learners_f_6_11=round(f611 * per_k),
                              learners_m_6_11=round(m611 * per_k),
                              learners_f_12_17=round(f1217 * per_k),
                              learners_m_12_17=round(m1217 * per_k))
            service.record_measurements(db, actor=actor, data=MeasurementsIn(
                zone=zone.code, measured_on=day, values=values,
                source="Demo: WASH/shelter monitoring round"))
    _activities(db, actor, zones, start=today - dt.timedelta(days=120))
    # Statuses on the rounds' days are recorded only where a version was already in force then
    # (the demo agreements take effect the day they are signed, i.e. today).
    for day in (first_round, second_round):
        commitments.refresh(db, actor=actor, on=day)
    _attest(db, actor, today=today)
    commitments.refresh(db, actor=actor, on=today)


def _activities(db: Session, actor: Principal, zones: dict[str, Zone], start: dt.date) -> None:
    known = {a.lower() for a in db.scalars(select(Organisation.acronym))}
    for n, item in enumerate(ACTIVITIES):
        if item["zone"] not in zones or item["implementing_org"].lower() not in known:
            continue
        data = ActivityCreate.model_validate(
            {"start_date": start + dt.timedelta(days=7 * n), "status": "ongoing", **item},
            strict=False)
        activities.create(db, actor=actor, data=data)


def _attest(db: Session, actor: Principal, today: dt.date) -> None:
    """Evidence for the demo commitments that no indicator measures."""
    evidence = {
        "health_days_per_week": (CommitmentState.kept,
                                 "UNHCR monitoring visits: the SARC health point was open six "
                                 "days a week in each of the last four weeks."),
        "registration_days": (CommitmentState.partly_kept,
                              "Registration backlog report: 83 % of households registered "
                              "within 30 days of arrival."),
    }
    for row in commitments.statuses(db, actor=actor, on=today):
        if row.indicator in evidence:
            status, text = evidence[row.indicator]
            try:
                commitments.attest(db, actor=actor, agreement_id=row.agreement_id, ref=row.ref,
                                   data=AttestIn(status=status, evidence=text,
                                                 effective_on=today))
            except HavensError:  # agreements demo shaped differently: keep the rest
                continue
