"""The zone lifecycle: the only code that changes ``Zone.status``.

::

    proposed → negotiating → consented → operational ⇄ suspended → closing → closed
    proposed/negotiating → rejected

A zone may be ``consented`` or ``operational`` only while a version of its agreement is in force
(see :mod:`havens.agreements.verify` for the exact rule). :func:`refresh` re-evaluates a zone on a
day and makes the automatic moves:

- negotiating → consented when a version comes into force;
- consented/operational → suspended when none is in force any more (expiry, or an amendment that
  replaced it ended): field operations need a valid agreement to continue;
- consented/operational/suspended → closing when the host government withdrew consent, with the
  closing date = withdrawal date + the notice period of the version then in force.

The explicit moves (:func:`transition`) are checked against :data:`EXPLICIT` and the in-force
rule. A suspended zone does not resume by itself when a version comes into force again, because
suspension may also have been decided for security reasons: resuming is an explicit act.
Every move is audited (``zone.status``) with its reason.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.agreements import canonical, keys
from havens.agreements.models import Agreement, AgreementVersion, ConsentWithdrawal
from havens.agreements.verify import VersionFacts, facts_from_terms, version_in_force
from havens.audit import service as audit
from havens.database import utcnow
from havens.exceptions import Conflict, PermissionDenied
from havens.orgs.models import OrganisationKey
from havens.orgs.permissions import Principal
from havens.zones.models import Zone, ZoneStatus

S = ZoneStatus

#: Moves people make: (from, to) -> does the target need a version in force?
EXPLICIT: dict[tuple[ZoneStatus, ZoneStatus], bool] = {
    (S.proposed, S.negotiating): False,
    (S.proposed, S.rejected): False,
    (S.negotiating, S.rejected): False,
    (S.consented, S.operational): True,
    (S.operational, S.suspended): False,
    (S.suspended, S.operational): True,
    (S.closing, S.closed): False,
}

#: Moves :func:`refresh` makes by itself.
AUTOMATIC: frozenset[tuple[ZoneStatus, ZoneStatus]] = frozenset({
    (S.proposed, S.negotiating),
    (S.negotiating, S.consented),
    (S.consented, S.suspended),
    (S.operational, S.suspended),
    (S.consented, S.closing),
    (S.operational, S.closing),
    (S.suspended, S.closing),
})

CONSENTED_STATES = frozenset({S.consented, S.operational})
FINAL_STATES = frozenset({S.closed, S.rejected})


def today_utc() -> dt.date:
    return utcnow().date()


def agreement_of(db: Session, zone: Zone) -> Agreement | None:
    return db.scalar(select(Agreement).where(Agreement.zone_id == zone.id))


def version_facts(db: Session, agreement: Agreement) -> list[VersionFacts]:
    """Each version's facts, counting only signatures that verify over its own message."""
    key_ids = {s.key_id for v in agreement.versions for s in v.signatures}
    public: dict[str, str] = {}
    if key_ids:
        rows = db.execute(select(OrganisationKey.key_id, OrganisationKey.public_key)
                          .where(OrganisationKey.key_id.in_(key_ids)))
        public = {key_id: value for key_id, value in rows}
    result = []
    for version in agreement.versions:
        message = canonical.signing_message(agreement.zone.code, version.number, version.hash)
        signed = {s.organisation_id: s.signed_at for s in version.signatures
                  if s.signed_hash == version.hash and s.key_id in public
                  and keys.is_valid(public[s.key_id], message, s.signature)}
        result.append(facts_from_terms(version.number, version.terms, signed))
    return result


def withdrawn_on(agreement: Agreement) -> dt.date | None:
    dates = [w.withdrawn_on for w in agreement.withdrawals]
    return min(dates) if dates else None


def in_force(db: Session, agreement: Agreement, today: dt.date) -> AgreementVersion | None:
    """The version in force on ``today``, if any."""
    facts = version_in_force(version_facts(db, agreement), today, withdrawn_on(agreement))
    if facts is None:
        return None
    return next(v for v in agreement.versions if v.number == facts.number)


def _set_status(db: Session, zone: Zone, new: ZoneStatus, *, reason: str, actor: Principal,
                closing_date: dt.date | None = None) -> None:
    old = zone.status
    zone.status = new
    zone.status_reason = reason
    zone.status_changed_at = utcnow()
    if new == S.closing:
        zone.closing_date = closing_date
    db.flush()
    audit.record(db, actor=actor, action="zone.status", object_type="zone", object_id=zone.id,
                 detail={"zone": zone.code, "from": old.value, "to": new.value,
                         "reason": reason, "closing_date": closing_date})


def refresh(db: Session, zone: Zone, today: dt.date | None = None, *,
            actor: Principal | None = None) -> ZoneStatus:
    """Re-evaluate the zone on ``today`` (default: the UTC date) and make the automatic moves."""
    today = today or today_utc()
    actor = actor or Principal.system()
    if zone.status in FINAL_STATES:
        return zone.status
    agreement = agreement_of(db, zone)
    if agreement is None:
        return zone.status
    if zone.status == S.proposed:
        _set_status(db, zone, S.negotiating, reason="an agreement was proposed", actor=actor)
    withdrawal = _first_withdrawal(agreement)
    if withdrawal is not None:
        if zone.status != S.closing:
            _set_status(db, zone, S.closing, actor=actor, closing_date=withdrawal.notice_end,
                        reason=f"{withdrawal.organisation.acronym} withdrew consent on "
                               f"{withdrawal.withdrawn_on}: {withdrawal.reason}")
        return zone.status
    current = in_force(db, agreement, today)
    if zone.status == S.negotiating and current is not None:
        _set_status(db, zone, S.consented, actor=actor,
                    reason=f"version {current.number} is in force (all required signatures)")
    elif zone.status in CONSENTED_STATES and current is None:
        _set_status(db, zone, S.suspended, actor=actor, reason=_why_not_in_force(
            agreement, today))
    return zone.status


def _first_withdrawal(agreement: Agreement) -> ConsentWithdrawal | None:
    return min(agreement.withdrawals, key=lambda w: w.withdrawn_on, default=None)


def _why_not_in_force(agreement: Agreement, today: dt.date) -> str:
    ended = [v for v in agreement.versions if v.end_date < today and v.fully_signed_at]
    if ended:
        last = max(ended, key=lambda v: v.number)
        return f"no version in force: version {last.number} ended on {last.end_date}"
    return "no version in force on " + today.isoformat()


def transition(db: Session, *, actor: Principal, zone: Zone, to: ZoneStatus, reason: str,
               today: dt.date | None = None) -> ZoneStatus:
    """An explicit move, checked against the state machine and the in-force rule."""
    today = today or today_utc()
    refresh(db, zone, today, actor=actor)
    move = (zone.status, to)
    if move not in EXPLICIT:
        allowed = sorted(t.value for f, t in EXPLICIT if f == zone.status)
        raise Conflict(f"Zone {zone.code} is {zone.status.value}: it cannot become {to.value} "
                       f"by hand (possible: {', '.join(allowed) or 'nothing'}).", field="to")
    agreement = agreement_of(db, zone)
    if EXPLICIT[move] and (agreement is None or in_force(db, agreement, today) is None):
        raise Conflict(f"Zone {zone.code} cannot become {to.value}: no version of its "
                       "agreement is in force today.", field="to")
    if move == (S.closing, S.closed) and zone.closing_date and today < zone.closing_date:
        raise Conflict(f"Zone {zone.code} closes on {zone.closing_date}, at the end of the "
                       "withdrawal notice period, not before.", field="to")
    _set_status(db, zone, to, reason=reason, actor=actor)
    return zone.status


def require_consent_possible(zone: Zone) -> None:
    if zone.status in FINAL_STATES or zone.status == S.closing:
        raise PermissionDenied(f"Zone {zone.code} is {zone.status.value}: its agreement can no "
                               "longer change.", code="zone_closed")
