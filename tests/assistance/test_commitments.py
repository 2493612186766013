"""Attested commitments, waivers, who may attest, and the compliance report."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.assistance import commitments, service
from havens.assistance.models import CommitmentState
from havens.assistance.schemas import AttestIn, MeasurementsIn
from havens.audit.models import AuditRecord
from havens.exceptions import Conflict, NotFound, PermissionDenied
from havens.orgs.models import Role
from tests.assistance.conftest import World, agreement_in_force, zone_with_people
from tests.conftest import principal

ON = dt.date(2030, 6, 1)
COMMITMENTS = [
    {"ref": "C-WATER", "party": "IOMT", "what": "15 l/person/day", "indicator": "water_lpd",
     "target": 15, "due_date": "2030-03-01"},
    {"ref": "C-HEALTH", "party": "NGOT", "what": "Health point open six days a week",
     "indicator": "health_days_per_week", "target": 6, "due_date": "2030-02-01"},
    {"ref": "C-REG", "party": "UNHT", "what": "Register every household within 30 days"},
]


@pytest.fixture
def agreement_id(db: Session, world: World) -> int:
    zone = zone_with_people(db, world.iom, 1000)
    return agreement_in_force(db, world, zone, COMMITMENTS).id


def rows(db: Session, world: World, on: dt.date = ON) -> dict[str, commitments.CommitmentRead]:
    return {r.ref: r for r in commitments.statuses(db, actor=world.p(world.coordinator), on=on)}


def test_unmeasured_commitments_are_attested_with_evidence(db: Session, world: World,
                                                           agreement_id: int) -> None:
    assert rows(db, world)["C-HEALTH"].status == CommitmentState.pending
    assert rows(db, world)["C-HEALTH"].basis == "none"
    commitments.attest(db, actor=world.p(world.coordinator), agreement_id=agreement_id,
                       ref="C-HEALTH", data=AttestIn(
                           status=CommitmentState.kept, effective_on=dt.date(2030, 5, 1),
                           evidence="Monitoring visits in May: open 6 days each week",
                           evidence_url="https://example.org/visits.pdf"))
    row = rows(db, world)["C-HEALTH"]
    assert (row.status, row.basis, row.since) == (CommitmentState.kept, "attested",
                                                  dt.date(2030, 5, 1))
    assert row.evidence_url == "https://example.org/visits.pdf"
    assert rows(db, world, dt.date(2030, 4, 30))["C-HEALTH"].status == CommitmentState.pending
    audit = db.scalar(select(AuditRecord).where(
        AuditRecord.action == "assistance.commitment.attest"))
    assert audit is not None and audit.detail["ref"] == "C-HEALTH"


def test_party_cannot_attest_its_own_commitment_kept(db: Session, world: World,
                                                     agreement_id: int, make_user) -> None:
    ngo_provider = principal(make_user(Role.service_provider, org=world.ngo))
    data = AttestIn(status=CommitmentState.kept, evidence="We did it")
    with pytest.raises(PermissionDenied):
        commitments.attest(db, actor=ngo_provider, agreement_id=agreement_id,
                           ref="C-HEALTH", data=data)
    # It may own up to a broken one.
    commitments.attest(db, actor=ngo_provider, agreement_id=agreement_id, ref="C-HEALTH",
                       data=AttestIn(status=CommitmentState.broken, effective_on=ON,
                                     evidence="No doctor in May"))
    assert rows(db, world)["C-HEALTH"].status == CommitmentState.broken


def test_measured_commitments_cannot_be_attested_but_can_be_waived(
        db: Session, world: World, agreement_id: int) -> None:
    with pytest.raises(Conflict):
        commitments.attest(db, actor=world.p(world.coordinator), agreement_id=agreement_id,
                           ref="C-WATER", data=AttestIn(status=CommitmentState.kept,
                                                        evidence="Trust us"))
    waive = AttestIn(status=CommitmentState.waived, effective_on=dt.date(2030, 4, 1),
                     evidence="Cluster meeting 2030-03-28: trucking suspended by fighting")
    with pytest.raises(PermissionDenied):  # a waiver needs assistance.adapt
        commitments.attest(db, actor=world.p(world.provider), agreement_id=agreement_id,
                           ref="C-WATER", data=waive)
    service.record_measurements(db, actor=world.p(world.provider), data=MeasurementsIn(
        zone=rows(db, world)["C-WATER"].zone_code, measured_on=dt.date(2030, 3, 1),
        values={"water_delivered_lpd": 5000}))
    assert rows(db, world, dt.date(2030, 3, 15))["C-WATER"].status == CommitmentState.broken
    commitments.attest(db, actor=world.p(world.coordinator), agreement_id=agreement_id,
                       ref="C-WATER", data=waive)
    assert rows(db, world)["C-WATER"].status == CommitmentState.waived
    assert rows(db, world, dt.date(2030, 3, 15))["C-WATER"].status == CommitmentState.broken


def test_unknown_ref_and_invisible_agreement(db: Session, world: World, agreement_id: int,
                                             make_org, make_user) -> None:
    data = AttestIn(status=CommitmentState.broken, evidence="x")
    with pytest.raises(NotFound):
        commitments.attest(db, actor=world.p(world.coordinator), agreement_id=agreement_id,
                           ref="C-NOPE", data=data)
    outsider = principal(make_user(Role.coordinator, org=make_org("OUTS")))
    with pytest.raises(NotFound):
        commitments.attest(db, actor=outsider, agreement_id=agreement_id, ref="C-REG",
                           data=data)
    assert commitments.statuses(db, actor=outsider, on=ON) == []


def test_compliance_report_per_party(db: Session, world: World, agreement_id: int) -> None:
    actor = world.p(world.coordinator)
    service.record_measurements(db, actor=world.p(world.provider), data=MeasurementsIn(
        zone=rows(db, world)["C-WATER"].zone_code, measured_on=dt.date(2030, 3, 1),
        values={"water_delivered_lpd": 5000}))
    commitments.refresh(db, actor=actor, on=dt.date(2030, 3, 2))
    commitments.attest(db, actor=world.p(world.provider), agreement_id=agreement_id,
                       ref="C-REG", data=AttestIn(status=CommitmentState.partly_kept,
                                                  effective_on=dt.date(2030, 4, 1),
                                                  evidence="83 % within 30 days"))
    report = {p.party: p for p in commitments.compliance(db, actor=actor, on=ON)}
    assert set(report) == {"IOMT", "NGOT", "UNHT"}
    assert report["IOMT"].counts["broken"] == 1
    [water] = report["IOMT"].commitments
    assert water.since == dt.date(2030, 3, 2) and water.value == 5.0
    assert report["UNHT"].counts == {"pending": 0, "kept": 0, "partly_kept": 1, "broken": 0,
                                     "waived": 0}
    assert report["NGOT"].counts["pending"] == 1
    only = commitments.compliance(db, actor=actor, on=ON, organisation_id=world.iom.id)
    assert [p.party for p in only] == ["IOMT"]


def test_no_agreement_in_force_no_commitments(db: Session, world: World,
                                              agreement_id: int) -> None:
    assert rows(db, world, dt.date(2029, 12, 31)) == {}  # before the start date
    assert rows(db, world, dt.date(2032, 6, 1)) == {}  # after the end date
