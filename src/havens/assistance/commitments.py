"""Commitments of the agreements in force: kept or broken, over time.

The status of a commitment on a day D (the version in force on D, see
:func:`havens.agreements.lifecycle.in_force`):

- **waived**: an attested waiver (``assistance.adapt``) effective on or before D wins over all.
- A commitment naming an indicator of ``standards.json`` (e.g. ``water_lpd``) with a numeric
  target is **computed** from the indicator measured on D (latest measurements on or before D),
  against the commitment's own target and the standard's direction:
  - before its due date (no due date: the version's start) -> ``pending``;
  - due, but no measurement or no population -> ``pending`` ("due, not measured"): an unknown
    is never counted as kept, nor as broken without evidence;
  - target met -> ``kept``; at least 90 % of the way (value >= 0.9 x target for "at least"
    targets, value <= target / 0.9 for "at most" ones) -> ``partly_kept``; else ``broken``.
    90 %, not less: 12 l/p/d against a promise of 15 is a broken promise (the issue's own
    scenario), while 14 l/p/d is a promise nearly kept.
- Otherwise it is **attested**: the latest attestation (status + evidence text + optional link)
  effective on or before D; ``pending`` without one. A party may not attest its own commitment
  as kept or partly kept.

:func:`refresh` records each change of status as a history row (``CommitmentStatus``) and in
the audit log; attestations are history rows from the start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.agreements import lifecycle
from havens.agreements import service as agreement_service
from havens.agreements.models import Agreement, AgreementVersion, Commitment
from havens.assistance import indicators
from havens.assistance.models import CommitmentState, CommitmentStatus
from havens.assistance.schemas import AttestIn, CommitmentRead, ComplianceRead
from havens.assistance.standards import IndicatorResult, standards
from havens.audit import service as audit
from havens.exceptions import Conflict, NotFound, PermissionDenied
from havens.orgs.permissions import Principal, require

PARTLY_KEPT_SHARE = 0.9
S = CommitmentState


def target_of(commitment: Commitment) -> float | None:
    try:
        return float(Decimal(str(commitment.target).strip())) if commitment.target else None
    except InvalidOperation:
        return None


def is_computed(commitment: Commitment) -> bool:
    return commitment.indicator in standards() and target_of(commitment) is not None


@dataclass
class Evaluation:
    status: CommitmentState
    basis: str  # "computed" | "attested" | "none"
    value: float | None
    reason: str
    evidence: str | None = None
    evidence_url: str | None = None


def compute_status(*, target: float, direction: str, due: dt.date, on: dt.date,
                   result: IndicatorResult | None) -> Evaluation:
    """The status of a commitment with a numeric target against its measured indicator."""
    if on < due:
        return Evaluation(S.pending, "computed", None, f"due on {due.isoformat()}")
    if result is None or result.status == "unknown":
        why = result.reason if result else "indicator not computed"
        return Evaluation(S.pending, "computed", None,
                          f"due since {due.isoformat()}, not measured ({why})")
    value = result.exact
    if value is None:  # e.g. no toilet at all: infinitely many people per toilet
        return Evaluation(S.broken, "computed", None, f"nothing delivered ({result.reason})")
    if direction == ">=":
        kept, partly = value >= target, value >= PARTLY_KEPT_SHARE * target
    else:
        kept, partly = value <= target, value <= target / PARTLY_KEPT_SHARE
    value = round(value, 2)
    shown = f"{value:g} {result.unit} against {target:g}"
    if kept:
        return Evaluation(S.kept, "computed", value, f"{shown}: met")
    if partly:
        return Evaluation(S.partly_kept, "computed", value,
                          f"{shown}: within {100 - PARTLY_KEPT_SHARE * 100:.0f} % of the target")
    return Evaluation(S.broken, "computed", value, f"{shown}: not met")


def _latest_attested(db: Session, agreement_id: int, ref: str, on: dt.date
                     ) -> CommitmentStatus | None:
    return db.scalar(
        select(CommitmentStatus)
        .where(CommitmentStatus.agreement_id == agreement_id,
               CommitmentStatus.commitment_ref == ref, CommitmentStatus.basis == "attested",
               CommitmentStatus.effective_on <= on)
        .order_by(CommitmentStatus.effective_on.desc(), CommitmentStatus.id.desc()).limit(1))


def _history(db: Session, agreement_id: int, ref: str, on: dt.date | None = None
             ) -> list[CommitmentStatus]:
    query = select(CommitmentStatus).where(CommitmentStatus.agreement_id == agreement_id,
                                           CommitmentStatus.commitment_ref == ref)
    if on is not None:
        query = query.where(CommitmentStatus.effective_on <= on)
    return list(db.scalars(query.order_by(CommitmentStatus.effective_on, CommitmentStatus.id)))


def evaluate(db: Session, commitment: Commitment, version: AgreementVersion, on: dt.date,
             result: IndicatorResult | None) -> Evaluation:
    attested = _latest_attested(db, version.agreement_id, commitment.ref, on)
    if attested is not None and attested.status == S.waived:
        return Evaluation(S.waived, "attested", None, attested.reason, attested.evidence,
                          attested.evidence_url)
    target = target_of(commitment)
    if is_computed(commitment) and target is not None:
        standard = standards()[commitment.indicator or ""]
        return compute_status(target=target, direction=standard.direction,
                              due=commitment.due_date or version.start_date, on=on,
                              result=result)
    if attested is not None:
        return Evaluation(attested.status, "attested", attested.value, attested.reason,
                          attested.evidence, attested.evidence_url)
    due = commitment.due_date or version.start_date
    return Evaluation(S.pending, "none", None,
                      f"no evidence attested yet (due {due.isoformat()})")


def _in_force(db: Session, actor: Principal, on: dt.date, zone_id: int | None
              ) -> list[tuple[Agreement, AgreementVersion]]:
    found = []
    for agreement in agreement_service.list_agreements(db, actor=actor):
        if zone_id is not None and agreement.zone_id != zone_id:
            continue
        version = lifecycle.in_force(db, agreement, on)
        if version is not None:
            found.append((agreement, version))
    return found


def _since(db: Session, agreement_id: int, ref: str, status: CommitmentState, on: dt.date
           ) -> dt.date | None:
    """First day of the current run of this status in the recorded history."""
    since = None
    for row in reversed(_history(db, agreement_id, ref, on)):
        if row.status != status:
            break
        since = row.effective_on
    return since


def statuses(db: Session, *, actor: Principal, on: dt.date, zone_id: int | None = None,
             organisation_id: int | None = None) -> list[CommitmentRead]:
    """Status on a day of every commitment of the agreements in force (that the caller sees)."""
    require(actor, "assistance.read")
    pairs = _in_force(db, actor, on, zone_id)
    zone_ids = [a.zone_id for a, _v in pairs]
    computed = {facts.zone_id: {r.standard: r for r in results}
                for facts, results in indicators.compute(db, on=on, zone_ids=zone_ids)
                } if zone_ids else {}
    rows = []
    for agreement, version in pairs:
        for commitment in version.commitments:
            if organisation_id is not None and commitment.organisation_id != organisation_id:
                continue
            result = computed.get(agreement.zone_id, {}).get(commitment.indicator or "")
            ev = evaluate(db, commitment, version, on, result)
            rows.append(CommitmentRead(
                agreement_id=agreement.id, zone_id=agreement.zone_id,
                zone_code=agreement.zone.code, ref=commitment.ref,
                party=commitment.organisation.acronym, organisation_id=commitment.organisation_id,
                what=commitment.what, indicator=commitment.indicator,
                target=target_of(commitment), unit=commitment.unit,
                due_date=commitment.due_date or version.start_date, status=ev.status,
                basis=ev.basis, value=ev.value, reason=ev.reason,
                since=_since(db, agreement.id, commitment.ref, ev.status, on),
                evidence=ev.evidence, evidence_url=ev.evidence_url))
    return rows


def refresh(db: Session, *, actor: Principal, on: dt.date, zone_id: int | None = None
            ) -> list[CommitmentRead]:
    """Record (and audit) every commitment whose status on ``on`` differs from its history."""
    require(actor, "assistance.write")
    changed = []
    for row in statuses(db, actor=actor, on=on, zone_id=zone_id):
        history = _history(db, row.agreement_id, row.ref, on)
        last = history[-1] if history else None
        if last is not None and last.status == row.status:
            continue
        db.add(CommitmentStatus(
            agreement_id=row.agreement_id, commitment_ref=row.ref, zone_id=row.zone_id,
            organisation_id=row.organisation_id, status=row.status, effective_on=on,
            basis="computed" if row.basis == "computed" else "none", value=row.value,
            target=row.target, reason=row.reason, recorded_by_user_id=actor.user_id))
        db.flush()
        audit.record(db, actor=actor, action="assistance.commitment.status",
                     object_type="agreement", object_id=row.agreement_id, detail={
                         "zone": row.zone_code, "ref": row.ref, "party": row.party,
                         "from": last.status.value if last else None, "to": row.status.value,
                         "on": on.isoformat(), "value": row.value, "reason": row.reason})
        changed.append(row.model_copy(update={"since": on}))
    return changed


def _find_commitment(agreement: Agreement, ref: str, on: dt.date
                     ) -> tuple[AgreementVersion, Commitment]:
    # The latest version that has the ref and started on or before the day, else any.
    candidates = [(v, c) for v in sorted(agreement.versions, key=lambda v: -v.number)
                  for c in v.commitments if c.ref == ref]
    if not candidates:
        raise NotFound(f"No commitment {ref} in this agreement.", field="ref")
    started = [vc for vc in candidates if vc[0].start_date <= on]
    return (started or candidates)[0]


def attest(db: Session, *, actor: Principal, agreement_id: int, ref: str, data: AttestIn
           ) -> CommitmentStatus:
    """Record a status with evidence: for commitments not measured by an indicator, or a
    waiver (which needs ``assistance.adapt``) of any commitment."""
    require(actor, "assistance.write")
    if data.status == S.waived:
        require(actor, "assistance.adapt")
    agreement = agreement_service.get_agreement(db, actor=actor, agreement_id=agreement_id)
    _version, commitment = _find_commitment(agreement, ref, data.effective_on)
    if is_computed(commitment) and data.status != S.waived:
        raise Conflict(f"Commitment {ref} is measured by the indicator {commitment.indicator}: "
                       "its status is computed from measurements (record them), or it can be "
                       "waived.", field="status")
    if (data.status in (S.kept, S.partly_kept) and not actor.is_system
            and actor.organisation_id == commitment.organisation_id):
        raise PermissionDenied("A party cannot attest that it kept its own commitment: another "
                               "party or the coordinator attests it.", field="status")
    row = CommitmentStatus(
        agreement_id=agreement.id, commitment_ref=ref, zone_id=agreement.zone_id,
        organisation_id=commitment.organisation_id, status=data.status,
        effective_on=data.effective_on, basis="attested", value=None,
        target=target_of(commitment), reason=data.evidence.strip(),
        evidence=data.evidence.strip(), evidence_url=data.evidence_url,
        recorded_by_user_id=actor.user_id)
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="assistance.commitment.attest",
                 object_type="agreement", object_id=agreement.id, detail={
                     "zone": agreement.zone.code, "ref": ref, "status": data.status.value,
                     "on": data.effective_on.isoformat(), "evidence_url": data.evidence_url})
    return row


def history(db: Session, *, actor: Principal, agreement_id: int, ref: str
            ) -> list[CommitmentStatus]:
    require(actor, "assistance.read")
    agreement_service.get_agreement(db, actor=actor, agreement_id=agreement_id)
    return _history(db, agreement_id, ref)


def compliance(db: Session, *, actor: Principal, on: dt.date,
               organisation_id: int | None = None) -> list[ComplianceRead]:
    """Per party: its commitments in force on the day, counted by status, with since-dates."""
    rows = statuses(db, actor=actor, on=on, organisation_id=organisation_id)
    parties: dict[int, list[CommitmentRead]] = {}
    for row in rows:
        parties.setdefault(row.organisation_id, []).append(row)
    report = []
    for org_id, items in sorted(parties.items(), key=lambda kv: kv[1][0].party):
        counts = {state.value: sum(1 for i in items if i.status == state) for state in S}
        report.append(ComplianceRead(organisation_id=org_id, party=items[0].party, on=on,
                                     counts=counts, commitments=items))
    return report
