"""The IASC criteria, the area status rule and its history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from havens.audit.models import AuditRecord
from havens.exceptions import PermissionDenied, ValidationFailed
from havens.returns import service
from havens.returns.criteria import Criterion, Rating, ReturnStatus, area_status, parse_rating
from havens.returns.schemas import AssessmentCreate, CriterionIn
from tests.returns.conftest import ORIGIN, OTHER, World, all_met

C, R = Criterion, Rating


@pytest.mark.parametrize(("ratings", "expected"), [
    (all_met(), ReturnStatus.conducive),
    ({**all_met(), C.safety_security: R.not_met}, ReturnStatus.not_conducive),
    ({**all_met(), C.safety_security: R.unknown}, ReturnStatus.not_conducive),
    ({C.safety_security: R.met}, ReturnStatus.partly_conducive),  # the rest unknown
    ({**all_met(), C.documentation: R.partly_met}, ReturnStatus.partly_conducive),
    ({**all_met(), C.safety_security: R.partly_met}, ReturnStatus.partly_conducive),
    ({**dict.fromkeys(Criterion, R.not_met), C.safety_security: R.partly_met},
     ReturnStatus.partly_conducive),
    ({}, ReturnStatus.not_conducive),
])
def test_rule(ratings: dict[Criterion, Rating], expected: ReturnStatus) -> None:
    assert area_status(ratings)[0] == expected


def test_eight_criteria() -> None:
    assert len(Criterion) == 8
    assert parse_rating("Partly met") == R.partly_met and parse_rating("n/a") is None


def test_assessment_status_and_history(world: World) -> None:
    actor = world.p(world.coordinator)
    assert service.area_status_read(world.db, actor=actor, pcode=ORIGIN).status == "not_assessed"
    first = world.assess(ORIGIN, {C.safety_security: R.not_met}, on=dt.date(2026, 1, 1))
    world.assess(ORIGIN, {C.safety_security: R.not_met, C.livelihoods: R.partly_met},
                 on=dt.date(2026, 2, 1))
    third = world.assess(ORIGIN, {**all_met(), C.housing_land_property: R.partly_met},
                         on=dt.date(2026, 3, 1))
    # An older assessment recorded late takes its place in the history, not the lead.
    world.assess(ORIGIN, all_met(), on=dt.date(2025, 12, 1))
    status = service.area_status_read(world.db, actor=world.p(world.viewer), pcode=ORIGIN)
    assert status.status == "partly_conducive" and status.assessment_id == third
    assert "housing_land_property" in (status.status_reason or "")
    assert [(h.assessed_on.month, h.status.value, h.changed) for h in status.history] == [
        (12, "conducive", True), (1, "not_conducive", True), (2, "not_conducive", False),
        (3, "partly_conducive", True)]
    read = service.get_assessment(world.db, actor=actor, assessment_id=first)
    assert [c.rating for c in read.criteria].count(R.unknown) == 7
    assert read.criteria[0].label_en == "Long-term safety and security"
    audits = world.db.scalars(select(AuditRecord).where(
        AuditRecord.action == "return_area.assess").order_by(AuditRecord.seq)).all()
    assert [(a.detail["area_status_before"], a.detail["area_status_after"]) for a in audits][
        :3] == [("not_assessed", "not_conducive"), ("not_conducive", "not_conducive"),
                ("not_conducive", "partly_conducive")]
    assert service.area_status_read(world.db, actor=actor, pcode=OTHER).history == []


def test_assessment_checks(world: World) -> None:
    actor = world.p(world.coordinator)

    def assess(**fields: object) -> None:
        data = {"pcode": ORIGIN, "assessed_on": "2026-01-01", "criteria": [], **fields}
        service.create_assessment(world.db, actor=actor,
                                  data=AssessmentCreate.model_validate(data, strict=False))

    with pytest.raises(ValidationFailed, match="not admin level 3"):
        assess(pcode="SY0703")
    with pytest.raises(ValidationFailed, match="Unknown P-code"):
        assess(pcode="SY999999")
    with pytest.raises(ValidationFailed, match="rated twice"):
        assess(criteria=[{"criterion": "livelihoods", "rating": "met"},
                         {"criterion": "livelihoods", "rating": "not_met"}])
    with pytest.raises(ValidationFailed, match="future"):
        assess(assessed_on=(dt.date.today() + dt.timedelta(days=2)).isoformat())
    with pytest.raises(PermissionDenied):
        service.create_assessment(world.db, actor=world.p(world.viewer), data=AssessmentCreate(
            pcode=ORIGIN, assessed_on=dt.date(2026, 1, 1),
            criteria=[CriterionIn(criterion=C.safety_security, rating=R.met)]))
