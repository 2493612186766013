"""The assistance demo: some standards met, some not; commitments get computed statuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.assistance import commitments, indicators
from havens.assistance.models import Activity, CommitmentState, CommitmentStatus
from havens.demo import assistance as demo
from havens.orgs.models import Organisation, OrgKind
from tests.assistance.conftest import World, agreement_in_force, zone_with_people

TODAY = dt.date(2030, 6, 1)


def test_demo_zones_get_a_mixed_picture(db: Session, world: World,
                                        make_org: Callable[..., Organisation]) -> None:
    for acronym in ("IOM", "NRC", "SARC", "UNHCR"):
        make_org(acronym, kind=OrgKind.ngo)
    atmeh = zone_with_people(db, world.iom, 2000, code="SZ-SY07-001")
    azaz = zone_with_people(db, world.iom, 1000, code="SZ-SY02-001")
    # SZ-SY07-002 does not exist here: skipped quietly.
    agreement_in_force(db, world, atmeh, [
        {"ref": "C-1", "party": world.iom.acronym, "what": "Safe water 15 l/p/d",
         "indicator": "water_lpd", "target": 15, "due_date": "2030-01-01"},
        {"ref": "C-2", "party": world.ngo.acronym, "what": "Covered space 3.5 m²",
         "indicator": "covered_area_m2_pp", "target": "3.5"},
        {"ref": "C-3", "party": world.ngo.acronym, "what": "Health point six days a week",
         "indicator": "health_days_per_week", "target": 6}])
    demo.load(db, actor=world.system, today=TODAY)

    status = {(f.zone_code, r.standard): r.status
              for f, rs in indicators.compute(db, on=TODAY) for r in rs}
    assert status[("SZ-SY07-001", "water_lpd")] == "not_met"
    assert status[("SZ-SY07-001", "people_per_water_point")] == "met"
    assert status[("SZ-SY07-001", "learners_per_classroom")] == "met"
    assert status[("SZ-SY02-001", "water_lpd")] == "met"
    assert status[("SZ-SY02-001", "learners_per_classroom")] == "not_met"
    assert db.scalar(select(func.count()).select_from(Activity).where(
        Activity.zone_id.in_([atmeh.id, azaz.id]))) == 7
    rows = {r.ref: r for r in commitments.statuses(db, actor=world.system, on=TODAY)}
    assert rows["C-1"].status == CommitmentState.broken and rows["C-1"].basis == "computed"
    assert rows["C-2"].status == CommitmentState.partly_kept  # 3.2 of 3.5 m²: over 90 %
    assert rows["C-3"].status == CommitmentState.kept and rows["C-3"].basis == "attested"
    # The shelter commitment was broken in the first round and partly kept in the second.
    history = db.scalars(select(CommitmentStatus.status).where(
        CommitmentStatus.commitment_ref == "C-2").order_by(CommitmentStatus.effective_on)).all()
    assert history == [CommitmentState.broken, CommitmentState.partly_kept]
