"""Negotiating agreements: proposing, amending, signing and withdrawing consent.

Who may see an agreement: the organisations that are a party of any of its versions (and the
operator). Anyone else gets ``NotFound``. Zone status moves are made by
:mod:`havens.agreements.lifecycle` only; every change here ends with a ``refresh`` of the zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from havens.agreements import canonical, keyring, keys, lifecycle
from havens.agreements.models import (
    Agreement,
    AgreementVersion,
    Commitment,
    ConsentWithdrawal,
    PartyRole,
    Signature,
    VersionParty,
    VersionStatus,
)
from havens.agreements.schemas import AgreementPropose, TermsIn, WithdrawIn
from havens.agreements.terms import build_terms, organisation
from havens.audit import service as audit
from havens.database import utcnow
from havens.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from havens.orgs.permissions import Principal, require
from havens.zones.models import Zone, ZoneStatus

# --- finding what the caller may see ---------------------------------------------------------

def _visible_query(actor: Principal) -> Any:
    query = select(Agreement)
    if not actor.is_system:
        query = query.where(exists().where(
            VersionParty.organisation_id == actor.organisation_id,
            VersionParty.version_id == AgreementVersion.id,
            AgreementVersion.agreement_id == Agreement.id))
    return query


def get_agreement(db: Session, *, actor: Principal, agreement_id: int) -> Agreement:
    require(actor, "agreements.read")
    agreement = db.scalar(_visible_query(actor).where(Agreement.id == agreement_id))
    if agreement is None:
        raise NotFound("No such agreement.")
    return agreement


def agreement_for_zone(db: Session, *, actor: Principal, zone_code: str) -> Agreement:
    require(actor, "agreements.read")
    agreement = db.scalar(_visible_query(actor).join(Zone, Zone.id == Agreement.zone_id)
                          .where(Zone.code == zone_code.strip().upper()))
    if agreement is None:
        raise NotFound(f"No agreement for zone {zone_code}.", field="zone")
    return agreement


def list_agreements(db: Session, *, actor: Principal) -> list[Agreement]:
    require(actor, "agreements.read")
    query = _visible_query(actor).join(Zone, Zone.id == Agreement.zone_id).order_by(Zone.code)
    return list(db.scalars(query))


def get_version(db: Session, *, actor: Principal, agreement_id: int, number: int
                ) -> AgreementVersion:
    agreement = get_agreement(db, actor=actor, agreement_id=agreement_id)
    for version in agreement.versions:
        if version.number == number:
            return version
    raise NotFound(f"Agreement {agreement_id} has no version {number}.", field="version")


def latest_version(agreement: Agreement) -> AgreementVersion:
    return max(agreement.versions, key=lambda v: v.number)


def party_of(version: AgreementVersion, organisation_id: int | None) -> VersionParty | None:
    return next((p for p in version.parties if p.organisation_id == organisation_id), None)


def _require_party(actor: Principal, version: AgreementVersion, *roles: PartyRole) -> None:
    if actor.is_system:
        return
    party = party_of(version, actor.organisation_id)
    if party is None or (roles and party.role not in roles):
        wanted = " or ".join(r.value for r in roles) if roles else "a party"
        raise PermissionDenied(f"Your organisation must be {wanted} of version "
                               f"{version.number} to do this.")


def _add_version(db: Session, *, actor: Principal, agreement: Agreement, data: TermsIn,
                 previous: AgreementVersion | None) -> AgreementVersion:
    terms, parties = build_terms(db, agreement.zone, data, previous)
    text = canonical.canonical_text(terms)
    version = AgreementVersion(
        number=previous.number + 1 if previous else 1, terms=terms, canonical_terms=text,
        hash=canonical.terms_hash(text), note=data.note, start_date=data.start_date,
        end_date=data.end_date, administrator_org_id=terms["administrator"]["id"],
        host_government_org_id=next(o.id for o, r, _ in parties
                                    if r == PartyRole.host_government),
        created_by_user_id=actor.user_id, created_by_org_id=actor.organisation_id)
    for org, role, required in parties:
        version.parties.append(VersionParty(organisation_id=org.id, role=role,
                                            required_signer=required))
    for item in terms["commitments"]:
        version.commitments.append(Commitment(
            ref=item["ref"], organisation_id=item["party"]["id"], what=item["what"],
            indicator=item["indicator"], target=item["target"], unit=item["unit"],
            due_date=dt.date.fromisoformat(item["due_date"]) if item["due_date"] else None))
    agreement.versions.append(version)
    db.flush()
    return version


# --- proposing and amending ------------------------------------------------------------------

def propose(db: Session, *, actor: Principal, data: AgreementPropose,
            today: dt.date | None = None) -> Agreement:
    """Create the agreement of a zone with its first version (open for signature)."""
    require(actor, "agreements.negotiate")
    zone = db.scalar(select(Zone).where(Zone.code == data.zone.strip().upper()))
    if zone is None:
        raise NotFound(f"No zone with code {data.zone}.", field="zone")
    if zone.status not in (ZoneStatus.proposed, ZoneStatus.negotiating):
        raise Conflict(f"Zone {zone.code} is {zone.status.value}: an agreement can only be "
                       "proposed for a proposed or negotiating zone.", field="zone")
    if lifecycle.agreement_of(db, zone) is not None:
        raise Conflict(f"Zone {zone.code} has an agreement already: amend it.", field="zone")
    if not actor.is_system and actor.organisation_id not in {
            organisation(db, p.organisation, "parties").id for p in data.parties}:
        raise PermissionDenied("Your organisation must be one of the parties it proposes.")
    agreement = Agreement(zone=zone, created_by_user_id=actor.user_id)
    db.add(agreement)
    try:
        version = _add_version(db, actor=actor, agreement=agreement, data=data, previous=None)
    except IntegrityError as exc:  # another proposal for the zone at the same moment
        raise Conflict(f"Zone {zone.code} has an agreement already: amend it.",
                       field="zone") from exc
    audit.record(db, actor=actor, action="agreement.propose", object_type="agreement",
                 object_id=agreement.id, detail={"zone": zone.code, "version": 1,
                                                 "hash": version.hash})
    lifecycle.refresh(db, zone, today, actor=actor)
    return agreement


def amend(db: Session, *, actor: Principal, agreement_id: int, data: TermsIn,
          today: dt.date | None = None) -> AgreementVersion:
    """A new version. The version in force stays in force until this one takes effect."""
    agreement = get_agreement(db, actor=actor, agreement_id=agreement_id)
    require(actor, "agreements.negotiate")
    lifecycle.require_consent_possible(agreement.zone)
    if agreement.withdrawals:
        raise Conflict("The host government withdrew its consent: the agreement can no longer "
                       "be amended.")
    previous = latest_version(agreement)
    _require_party(actor, previous)
    version = _add_version(db, actor=actor, agreement=agreement, data=data, previous=previous)
    for older in agreement.versions:
        if older.status == VersionStatus.open and older is not version:
            older.status = VersionStatus.superseded
    audit.record(db, actor=actor, action="agreement.amend", object_type="agreement",
                 object_id=agreement.id, detail={
                     "zone": agreement.zone.code, "version": version.number,
                     "hash": version.hash, "administrator_change":
                         version.administrator_org_id != previous.administrator_org_id})
    lifecycle.refresh(db, agreement.zone, today, actor=actor)
    return version


# --- signing ---------------------------------------------------------------------------------

def signing_message(version: AgreementVersion) -> bytes:
    return canonical.signing_message(version.agreement.zone.code, version.number, version.hash)


def submit_signature(db: Session, *, actor: Principal, version: AgreementVersion, key_id: str,
                     signature: str, now: dt.datetime | None = None,
                     today: dt.date | None = None) -> Signature:
    """Record a party's signature of the version, made with its registered key."""
    require(actor, "agreements.sign")
    get_agreement(db, actor=actor, agreement_id=version.agreement_id)  # visibility
    key = keyring.signing_key(db, key_id=key_id)
    if not actor.is_system and key.organisation_id != actor.organisation_id:
        raise PermissionDenied(f"Key {key_id[:12]}… is registered to {key.organisation.acronym},"
                               " not to your organisation.", field="key_id")
    party = party_of(version, key.organisation_id)
    if party is None:
        raise PermissionDenied(f"{key.organisation.acronym} is not a party of version "
                               f"{version.number}.", field="key_id")
    if version.status != VersionStatus.open:
        later = "is fully signed" if version.status == VersionStatus.signed else (
            "was superseded by a later version")
        raise Conflict(f"Version {version.number} {later}: it can no longer be signed.")
    if any(s.organisation_id == key.organisation_id for s in version.signatures):
        raise Conflict(f"{key.organisation.acronym} has signed version {version.number} already.")
    if not keys.is_valid(key.public_key, signing_message(version), signature):
        raise ValidationFailed(
            f"The signature does not verify for version {version.number} (hash "
            f"{version.hash[:12]}…) with key {key_id[:12]}…: it was made for other terms, "
            "another version or another key.", field="signature")
    row = Signature(organisation_id=key.organisation_id, key_id=key.key_id, signature=signature,
                    signed_hash=version.hash, signer_user_id=actor.user_id,
                    server_held=keyring.is_server_held(key), signed_at=now or utcnow())
    version.signatures.append(row)
    try:
        db.flush()
    except IntegrityError as exc:  # the same organisation signing twice at the same moment
        raise Conflict(f"{key.organisation.acronym} has signed version {version.number} "
                       "already.") from exc
    _complete_if_signed(db, version)
    audit.record(db, actor=actor, action="agreement.sign", object_type="agreement_version",
                 object_id=version.id, detail={
                     "zone": version.agreement.zone.code, "version": version.number,
                     "hash": version.hash, "key_id": key.key_id,
                     "org": key.organisation.acronym, "server_held": row.server_held,
                     "fully_signed": version.status == VersionStatus.signed})
    lifecycle.refresh(db, version.agreement.zone, today, actor=actor)
    return row


def _complete_if_signed(db: Session, version: AgreementVersion) -> None:
    agreement = version.agreement
    facts = {f.number: f for f in lifecycle.version_facts(db, agreement)}
    earlier = [f for n, f in facts.items() if n < version.number
               and next(v for v in agreement.versions if v.number == n).fully_signed_at]
    previous = max(earlier, key=lambda f: f.number) if earlier else None
    signed_at = facts[version.number].fully_signed_at(previous)
    if signed_at is None:
        return
    version.status = VersionStatus.signed
    version.fully_signed_at = signed_at
    for older in agreement.versions:
        if older.number < version.number and older.status == VersionStatus.signed:
            older.status = VersionStatus.superseded
    db.flush()


def sign_with_server_key(db: Session, *, actor: Principal, version: AgreementVersion,
                         secret: str, organisation_id: int | None = None,
                         now: dt.datetime | None = None, today: dt.date | None = None
                         ) -> Signature:
    """Demo/low-security option: sign with the organisation's server-held key."""
    org_id = organisation_id if actor.is_system else actor.organisation_id
    if org_id is None:
        raise ValidationFailed("Which organisation signs?", field="organisation")
    key = keyring.server_held_key(db, organisation_id=org_id)
    try:
        private = keys.open_private(key.private_key_encrypted or "", secret=secret,
                                    key_id=key.key_id)
    except keys.KeyFormatError as exc:
        raise Conflict(str(exc)) from exc
    return submit_signature(db, actor=actor, version=version, key_id=key.key_id,
                            signature=keys.sign(private, signing_message(version)),
                            now=now, today=today)


# --- withdrawing consent ---------------------------------------------------------------------

def withdraw(db: Session, *, actor: Principal, agreement_id: int, data: WithdrawIn,
             today: dt.date | None = None) -> ConsentWithdrawal:
    """The host government withdraws consent: the zone closes at the end of the notice."""
    today = today or lifecycle.today_utc()
    agreement = get_agreement(db, actor=actor, agreement_id=agreement_id)
    require(actor, "agreements.withdraw")
    if actor.is_system:
        raise PermissionDenied("Consent is withdrawn by a user of the host government.")
    zone = agreement.zone
    lifecycle.refresh(db, zone, today, actor=actor)
    signed = [v for v in agreement.versions if v.fully_signed_at is not None]
    if zone.status not in (ZoneStatus.consented, ZoneStatus.operational,
                           ZoneStatus.suspended) or not signed:
        raise Conflict(f"Zone {zone.code} is {zone.status.value}: there is no consent to "
                       "withdraw (reject the proposal instead).")
    version = lifecycle.in_force(db, agreement, today) or max(signed, key=lambda v: v.number)
    _require_party(actor, version, PartyRole.host_government)
    withdrawn_on = data.withdrawn_on or today
    if withdrawn_on > today:
        raise ValidationFailed("A withdrawal cannot be dated in the future; the notice period "
                               "gives the time to close.", field="withdrawn_on")
    notice = dt.timedelta(days=int(version.terms["notice_period_days"]))
    withdrawal = ConsentWithdrawal(
        version_id=version.id, organisation_id=version.host_government_org_id,
        withdrawn_on=withdrawn_on, notice_end=withdrawn_on + notice, reason=data.reason,
        by_user_id=actor.user_id)
    agreement.withdrawals.append(withdrawal)
    db.flush()
    audit.record(db, actor=actor, action="agreement.withdraw", object_type="agreement",
                 object_id=agreement.id, detail={
                     "zone": zone.code, "version": version.number, "hash": version.hash,
                     "withdrawn_on": withdrawn_on, "notice_end": withdrawal.notice_end,
                     "reason": data.reason})
    lifecycle.refresh(db, zone, today, actor=actor)
    return withdrawal


# --- zone moves ------------------------------------------------------------------------------

def transition_zone(db: Session, *, actor: Principal, agreement_id: int, to: ZoneStatus,
                    reason: str, today: dt.date | None = None) -> Zone:
    """An explicit lifecycle move, by the host government or the administrator."""
    agreement = get_agreement(db, actor=actor, agreement_id=agreement_id)
    require(actor, "agreements.negotiate")
    _require_party(actor, latest_version(agreement), PartyRole.host_government,
                   PartyRole.administrator)
    lifecycle.transition(db, actor=actor, zone=agreement.zone, to=to, reason=reason,
                         today=today)
    return agreement.zone


def refresh_all(db: Session, *, actor: Principal, today: dt.date | None = None
                ) -> list[tuple[str, ZoneStatus, ZoneStatus]]:
    """Re-evaluate every zone with an agreement: (zone code, before, after) for each."""
    require(actor, "agreements.negotiate")
    result = []
    for zone in db.scalars(select(Zone).join(Agreement, Agreement.zone_id == Zone.id)
                           .order_by(Zone.code)):
        before = zone.status
        result.append((zone.code, before, lifecycle.refresh(db, zone, today, actor=actor)))
    return result
