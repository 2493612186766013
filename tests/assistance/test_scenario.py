"""THE SCENARIO of the issue: 5,000 people, 180 toilets, 60,000 l/day; and a commitment of
15 l/p/d by a date that is pending, then broken, then kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.assistance import commitments, gaps, indicators, service
from havens.assistance.models import CommitmentState, CommitmentStatus
from havens.assistance.schemas import MeasurementsIn
from havens.audit.models import AuditRecord
from tests.assistance.conftest import START, World, agreement_in_force, zone_with_people

DUE = dt.date(2030, 3, 1)


def measure(db: Session, w: World, zone_code: str, on: dt.date, **values: float) -> None:
    service.record_measurements(db, actor=w.p(w.provider), data=MeasurementsIn(
        zone=zone_code, measured_on=on, values=values))


def by_code(db: Session, zone_id: int, on: dt.date) -> dict[str, indicators.IndicatorResult]:
    _facts, results = indicators.compute(db, on=on, zone_ids=[zone_id])[0]
    return {r.standard: r for r in results}


def test_zone_of_5000_people(db: Session, world: World) -> None:
    zone = zone_with_people(db, world.iom, 5000)
    measure(db, world, zone.code, dt.date(2030, 2, 1), toilets_functional=180,
            water_delivered_lpd=60_000)
    results = by_code(db, zone.id, dt.date(2030, 2, 10))
    water, toilets = results["water_lpd"], results["people_per_toilet"]
    assert (water.value, water.status, water.gap, water.gap_unit) == (12.0, "not_met", 15_000,
                                                                      "l/day")
    assert (toilets.value, toilets.status, toilets.gap) == (27.78, "not_met", 70)
    assert water.inputs["base"] == "registered population"
    ranked = gaps.gaps(db, actor=world.p(world.viewer), on=dt.date(2030, 2, 10))
    texts = {g.standard: g.text for g in ranked}
    assert texts == {"water_lpd": "needs 15,000 more l/day",
                     "people_per_toilet": "needs 70 more toilets"}
    # 70 of 250 toilets missing (28 %) ranks above 15,000 of 75,000 litres (20 %).
    assert [g.standard for g in ranked] == ["people_per_toilet", "water_lpd"]
    assert ranked[0].share_missing == 0.28


def test_gaps_ranked_across_zones(db: Session, world: World) -> None:
    small = zone_with_people(db, world.iom, 100)
    big = zone_with_people(db, world.iom, 400)
    day = dt.date(2030, 2, 1)
    measure(db, world, small.code, day, toilets_functional=4)  # 25/toilet: 1 missing of 5
    measure(db, world, big.code, day, toilets_functional=10)  # 40/toilet: 10 missing of 20
    ranked = gaps.gaps(db, actor=world.p(world.viewer), on=day)
    assert [(g.zone_code, g.gap) for g in ranked] == [(big.code, 10), (small.code, 1)]
    assert [g.rank for g in ranked] == [1, 2]


def test_water_commitment_pending_broken_kept(db: Session, world: World) -> None:
    zone = zone_with_people(db, world.iom, 5000)
    agreement = agreement_in_force(db, world, zone, [
        {"ref": "C-WATER", "party": world.iom.acronym, "what": "15 l/person/day of water",
         "indicator": "water_lpd", "target": 15, "unit": "l/person/day",
         "due_date": DUE.isoformat()}])
    actor = world.p(world.coordinator)
    measure(db, world, zone.code, dt.date(2030, 1, 15), water_delivered_lpd=60_000)

    def status(on: dt.date) -> commitments.CommitmentRead:
        [row] = commitments.statuses(db, actor=actor, on=on, zone_id=zone.id)
        return row

    assert status(dt.date(2030, 2, 28)).status == CommitmentState.pending
    assert status(dt.date(2030, 2, 28)).reason == "due on 2030-03-01"
    commitments.refresh(db, actor=actor, on=dt.date(2030, 2, 28))
    broken = status(DUE)
    assert broken.status == CommitmentState.broken and broken.value == 12.0
    commitments.refresh(db, actor=actor, on=DUE)
    # Nothing changed: refreshing again records nothing.
    assert commitments.refresh(db, actor=actor, on=dt.date(2030, 3, 5)) == []
    measure(db, world, zone.code, dt.date(2030, 3, 20), water_delivered_lpd=76_000)
    kept = status(dt.date(2030, 3, 21))
    assert kept.status == CommitmentState.kept and kept.value == 15.2
    assert [r.status for r in commitments.refresh(db, actor=actor, on=dt.date(2030, 3, 21))] \
        == [CommitmentState.kept]
    history = commitments.history(db, actor=actor, agreement_id=agreement.id, ref="C-WATER")
    assert [(h.status, h.effective_on) for h in history] == [
        (CommitmentState.pending, dt.date(2030, 2, 28)), (CommitmentState.broken, DUE),
        (CommitmentState.kept, dt.date(2030, 3, 21))]
    assert status(dt.date(2030, 3, 25)).since == dt.date(2030, 3, 21)
    # A status on a past day is still computed from that day's measurements.
    assert status(dt.date(2030, 3, 10)).status == CommitmentState.broken
    changes = db.scalars(select(AuditRecord).where(
        AuditRecord.action == "assistance.commitment.status")).all()
    assert [c.detail["to"] for c in changes] == ["pending", "broken", "kept"]
    report = commitments.compliance(db, actor=actor, on=dt.date(2030, 3, 25))
    [iom] = [p for p in report if p.party == world.iom.acronym]
    assert iom.counts["kept"] == 1 and iom.counts["broken"] == 0


def test_partly_kept_is_90_percent_of_target(db: Session, world: World) -> None:
    zone = zone_with_people(db, world.iom, 1000)
    agreement_in_force(db, world, zone, [
        {"ref": "C-W", "party": world.iom.acronym, "what": "water", "indicator": "water_lpd",
         "target": 15, "due_date": DUE.isoformat()},
        {"ref": "C-T", "party": world.ngo.acronym, "what": "toilets",
         "indicator": "people_per_toilet", "target": 20}])
    on = dt.date(2030, 4, 1)
    measure(db, world, zone.code, on, water_delivered_lpd=13_500, toilets_functional=45)
    rows = {r.ref: r for r in commitments.statuses(db, actor=world.p(world.coordinator), on=on)}
    assert rows["C-W"].status == CommitmentState.partly_kept  # 13.5 >= 0.9 x 15
    assert rows["C-T"].status == CommitmentState.partly_kept  # 22.2 <= 20 / 0.9
    assert rows["C-T"].due_date == START  # no due date: due from the version's start
    measure(db, world, zone.code, on, water_delivered_lpd=13_499, toilets_functional=44)
    rows = {r.ref: r for r in commitments.statuses(db, actor=world.p(world.coordinator), on=on)}
    assert rows["C-W"].status == rows["C-T"].status == CommitmentState.broken


def test_due_but_not_measured_stays_pending(db: Session, world: World) -> None:
    zone = zone_with_people(db, world.iom, 1000)
    agreement_in_force(db, world, zone, [
        {"ref": "C-W", "party": world.iom.acronym, "what": "water", "indicator": "water_lpd",
         "target": 15, "due_date": DUE.isoformat()}])
    [row] = commitments.statuses(db, actor=world.p(world.coordinator), on=dt.date(2030, 5, 1))
    assert row.status == CommitmentState.pending and "not measured" in row.reason


def test_history_rows_are_recorded_with_values(db: Session, world: World) -> None:
    zone = zone_with_people(db, world.iom, 1000)
    agreement_in_force(db, world, zone, [
        {"ref": "C-W", "party": world.iom.acronym, "what": "water", "indicator": "water_lpd",
         "target": 15, "due_date": DUE.isoformat()}])
    measure(db, world, zone.code, DUE, water_delivered_lpd=5000)
    commitments.refresh(db, actor=world.p(world.coordinator), on=DUE)
    row = db.scalar(select(CommitmentStatus))
    assert row is not None and (row.status, row.value, row.target, row.basis) == (
        CommitmentState.broken, 5.0, 15.0, "computed")
