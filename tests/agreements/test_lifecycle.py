"""Signing rules and the zone lifecycle, through the service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.agreements import keyring, keys, lifecycle, service, views
from havens.agreements.models import Agreement, VersionStatus
from havens.agreements.schemas import WithdrawIn
from havens.audit.models import AuditRecord
from havens.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from havens.orgs.models import Role, User
from havens.orgs.permissions import Principal
from havens.zones.models import Zone, ZoneStatus
from tests.agreements.conftest import END, SIGNED_AT, START, Cast, propose_data, terms_in
from tests.conftest import principal


def _proposed(db: Session, cast: Cast, zone: Zone) -> Agreement:
    return service.propose(db, actor=cast["UNA"].actor, data=propose_data(zone.code),
                           today=START)


def _consented(db: Session, cast: Cast, zone: Zone) -> Agreement:
    agreement = _proposed(db, cast, zone)
    version = agreement.versions[0]
    cast.sign("MOL", version)
    cast.sign("UNA", version)
    return agreement


def test_proposing_moves_the_zone_to_negotiating(db: Session, cast: Cast,
                                                 make_zone: Callable[..., Zone]) -> None:
    zone = make_zone()
    agreement = _proposed(db, cast, zone)
    assert zone.status == ZoneStatus.negotiating
    version = agreement.versions[0]
    assert version.number == 1 and version.status == VersionStatus.open
    assert {p.organisation.acronym for p in version.parties if p.required_signer} == {
        "MOL", "UNA"}
    assert version.commitments[0].ref == "NGO-1"
    assert version.commitments[0].target == "15"
    with pytest.raises(Conflict, match="has an agreement already"):
        _proposed(db, cast, zone)


def test_full_signature_consents_and_only_then(db: Session, cast: Cast,
                                               make_zone: Callable[..., Zone]) -> None:
    zone = make_zone()
    agreement = _proposed(db, cast, zone)
    version = agreement.versions[0]
    cast.sign("MOL", version)
    cast.sign("NGO", version)  # optional signer: does not complete the version
    assert zone.status == ZoneStatus.negotiating
    assert [p.acronym for p in views.version_read(db, version, START).pending_signers] == ["UNA"]
    cast.sign("UNA", version)
    assert version.status == VersionStatus.signed
    assert zone.status == ZoneStatus.consented
    assert lifecycle.in_force(db, agreement, START) is version
    audited = db.scalars(select(AuditRecord).where(AuditRecord.action == "agreement.sign")).all()
    assert len(audited) == 3 and all(a.detail["hash"] == version.hash for a in audited)
    assert {a.detail["key_id"] for a in audited} == {cast[o].key_id for o in ("MOL", "UNA", "NGO")}
    with pytest.raises(Conflict, match="fully signed"):
        cast.sign("GUA", version)


def test_a_key_of_another_organisation_is_refused(db: Session, cast: Cast,
                                                  make_zone: Callable[..., Zone]) -> None:
    version = _proposed(db, cast, make_zone()).versions[0]
    message = service.signing_message(version)
    # The administrator's user submits a valid signature made with the host government's key.
    with pytest.raises(PermissionDenied, match="registered to MOL"):
        service.submit_signature(db, actor=cast["UNA"].actor, version=version,
                                 key_id=cast["MOL"].key_id,
                                 signature=keys.sign(cast["MOL"].key, message))
    # A key nobody registered, even with a valid signature under it.
    stray = keys.generate()
    with pytest.raises(ValidationFailed, match="not registered"):
        service.submit_signature(db, actor=cast["UNA"].actor, version=version,
                                 key_id=keys.key_id_of(keys.public_b64(stray)),
                                 signature=keys.sign(stray, message))
    # The UNA key id, but the signature made with another private key.
    with pytest.raises(ValidationFailed, match="does not verify"):
        service.submit_signature(db, actor=cast["UNA"].actor, version=version,
                                 key_id=cast["UNA"].key_id, signature=keys.sign(stray, message))
    # An organisation that is not a party, with its own valid key: it cannot even see it,
    # and the operator submitting that signature is told why it cannot count.
    with pytest.raises(NotFound):
        cast.sign("OUT", version)
    with pytest.raises(PermissionDenied, match="OUT is not a party"):
        service.submit_signature(db, actor=Principal.system(), version=version,
                                 key_id=cast["OUT"].key_id,
                                 signature=keys.sign(cast["OUT"].key, message))
    assert version.signatures == []


def test_a_revoked_key_is_refused(db: Session, cast: Cast, make_zone: Callable[..., Zone],
                                  system: Principal) -> None:
    version = _proposed(db, cast, make_zone()).versions[0]
    keyring.revoke_key(db, actor=system, organisation_id=cast["MOL"].org.id,
                       key_id=cast["MOL"].key_id)
    with pytest.raises(PermissionDenied, match="revoked"):
        cast.sign("MOL", version)


def test_a_replayed_signature_of_an_older_version_does_not_count(
        db: Session, cast: Cast, make_zone: Callable[..., Zone]) -> None:
    zone = make_zone()
    agreement = _consented(db, cast, zone)
    v1 = agreement.versions[0]
    # Version 2 with exactly the same terms: same hash, but another message to sign.
    v2 = service.amend(db, actor=cast["UNA"].actor, agreement_id=agreement.id,
                       data=terms_in(), today=START)
    assert v2.hash == v1.hash
    old = next(s for s in v1.signatures if s.organisation.acronym == "MOL")
    with pytest.raises(ValidationFailed, match="does not verify for version 2"):
        service.submit_signature(db, actor=cast["MOL"].actor, version=v2, key_id=old.key_id,
                                 signature=old.signature)
    # Nor does a signature of the same terms in another zone's agreement.
    other = _proposed(db, cast, make_zone()).versions[0]
    with pytest.raises(ValidationFailed, match="does not verify"):
        service.submit_signature(db, actor=cast["MOL"].actor, version=other, key_id=old.key_id,
                                 signature=old.signature)
    assert lifecycle.in_force(db, agreement, START) is v1
    assert v2.status == VersionStatus.open


def test_amendment_takes_effect_when_fully_signed_old_stays_until_then(
        db: Session, cast: Cast, make_zone: Callable[..., Zone]) -> None:
    zone = make_zone()
    agreement = _consented(db, cast, zone)
    v1 = agreement.versions[0]
    v2 = service.amend(db, actor=cast["MOL"].actor, agreement_id=agreement.id,
                       data=terms_in(notice_period_days=30), today=START)
    cast.sign("UNA", v2, today=START)
    assert lifecycle.in_force(db, agreement, START) is v1
    cast.sign("MOL", v2, now=SIGNED_AT + dt.timedelta(days=40), today=START)
    # Fully signed on 2030-01-10: v1 in force until then, v2 from that day.
    assert lifecycle.in_force(db, agreement, dt.date(2030, 1, 9)) is v1
    assert lifecycle.in_force(db, agreement, dt.date(2030, 1, 10)) is v2
    assert v1.status == VersionStatus.superseded and v2.status == VersionStatus.signed


def test_administrator_change_needs_the_host_government_not_the_outgoing_administrator(
        db: Session, cast: Cast, make_zone: Callable[..., Zone]) -> None:
    zone = make_zone()
    agreement = _consented(db, cast, zone)
    v1 = agreement.versions[0]
    change = terms_in(parties=[
        {"organisation": "MOL", "role": "host_government"},
        {"organisation": "UNB", "role": "administrator"},
        {"organisation": "UNA", "role": "supporting_agency", "required_signer": True},
        {"organisation": "GUA", "role": "guarantor", "required_signer": True},
    ], commitments=[])
    v2 = service.amend(db, actor=cast["UNA"].actor, agreement_id=agreement.id, data=change,
                       today=START)
    # Everyone but the host government signs: the old administrator stays in charge.
    for acronym in ("UNB", "UNA", "GUA"):
        cast.sign(acronym, v2)
    assert lifecycle.in_force(db, agreement, START) is v1
    assert views.agreement_read(db, agreement, START).administrator.acronym == "UNA"
    assert [p.acronym for p in views.version_read(db, v2, START).pending_signers] == ["MOL"]
    cast.sign("MOL", v2)
    assert lifecycle.in_force(db, agreement, START) is v2
    assert views.agreement_read(db, agreement, START).administrator.acronym == "UNB"

    # Once in force under UNB, a change back to UNA does not need the outgoing UNB.
    v3 = service.amend(db, actor=cast["MOL"].actor, agreement_id=agreement.id,
                       data=terms_in(), today=START)
    cast.sign("UNA", v3)
    assert lifecycle.in_force(db, agreement, START) is v2
    cast.sign("MOL", v3)
    assert lifecycle.in_force(db, agreement, START) is v3
    assert not any(s.organisation.acronym == "UNB" for s in v3.signatures)


def test_an_amendment_cannot_swap_the_host_government(
        db: Session, cast: Cast, make_zone: Callable[..., Zone],
        make_org: Callable[..., object]) -> None:
    from havens.orgs.models import OrgKind

    make_org(acronym="MOL2", kind=OrgKind.host_government)
    agreement = _consented(db, cast, make_zone())
    swap = terms_in(parties=[{"organisation": "MOL2", "role": "host_government"},
                             {"organisation": "UNB", "role": "administrator"}], commitments=[])
    with pytest.raises(Conflict, match="cannot change the host government"):
        service.amend(db, actor=cast["UNA"].actor, agreement_id=agreement.id, data=swap)


def test_operational_suspended_and_expiry(db: Session, cast: Cast,
                                          make_zone: Callable[..., Zone]) -> None:
    zone = make_zone()
    agreement = _consented(db, cast, zone)
    una = cast["UNA"].actor
    service.transition_zone(db, actor=una, agreement_id=agreement.id,
                            to=ZoneStatus.operational, reason="sites ready", today=START)
    assert zone.status == ZoneStatus.operational
    assert lifecycle.refresh(db, zone, END) == ZoneStatus.operational
    assert lifecycle.refresh(db, zone, END + dt.timedelta(days=1)) == ZoneStatus.suspended
    assert "ended on 2030-12-31" in (zone.status_reason or "")
    with pytest.raises(Conflict, match="no version of its agreement is in force"):
        service.transition_zone(db, actor=una, agreement_id=agreement.id,
                                to=ZoneStatus.operational, reason="resume",
                                today=END + dt.timedelta(days=1))
    # An extension signed by both brings it back in force; resuming is explicit.
    v2 = service.amend(db, actor=una, agreement_id=agreement.id,
                       data=terms_in(end_date="2031-12-31"), today=END + dt.timedelta(days=1))
    later = dt.datetime(2031, 1, 5, tzinfo=dt.UTC)
    cast.sign("MOL", v2, now=later, today=dt.date(2031, 1, 5))
    cast.sign("UNA", v2, now=later, today=dt.date(2031, 1, 5))
    assert zone.status == ZoneStatus.suspended
    service.transition_zone(db, actor=una, agreement_id=agreement.id, to=ZoneStatus.operational,
                            reason="extension signed", today=dt.date(2031, 1, 5))
    assert zone.status == ZoneStatus.operational
    moves = db.scalars(select(AuditRecord).where(AuditRecord.action == "zone.status",
                                                 AuditRecord.object_id == str(zone.id))).all()
    assert [(m.detail["from"], m.detail["to"]) for m in moves] == [
        ("proposed", "negotiating"), ("negotiating", "consented"),
        ("consented", "operational"), ("operational", "suspended"),
        ("suspended", "operational")]
    assert all(m.detail["reason"] for m in moves)


def test_invalid_explicit_moves_are_refused(db: Session, cast: Cast,
                                            make_zone: Callable[..., Zone]) -> None:
    zone = make_zone()
    agreement = _proposed(db, cast, zone)
    with pytest.raises(Conflict, match="cannot become operational by hand"):
        service.transition_zone(db, actor=cast["MOL"].actor, agreement_id=agreement.id,
                                to=ZoneStatus.operational, reason="go", today=START)
    with pytest.raises(Conflict, match="cannot become consented"):
        service.transition_zone(db, actor=cast["MOL"].actor, agreement_id=agreement.id,
                                to=ZoneStatus.consented, reason="go", today=START)
    with pytest.raises(PermissionDenied, match="host_government or administrator"):
        service.transition_zone(db, actor=cast["NGO"].actor, agreement_id=agreement.id,
                                to=ZoneStatus.rejected, reason="no", today=START)
    service.transition_zone(db, actor=cast["MOL"].actor, agreement_id=agreement.id,
                            to=ZoneStatus.rejected, reason="the ministry declines", today=START)
    assert zone.status == ZoneStatus.rejected
    with pytest.raises(PermissionDenied, match="can no longer change"):
        service.amend(db, actor=cast["UNA"].actor, agreement_id=agreement.id, data=terms_in())


def test_withdrawal_moves_to_closing_with_the_notice_date(
        db: Session, cast: Cast, make_zone: Callable[..., Zone],
        make_user: Callable[..., User]) -> None:
    zone = make_zone()
    agreement = _consented(db, cast, zone)
    day = dt.date(2030, 3, 1)
    with pytest.raises(PermissionDenied, match=r"agreements\.withdraw"):
        service.withdraw(db, actor=cast["UNA"].actor, agreement_id=agreement.id,
                         data=WithdrawIn(reason="a coordinator may not"), today=day)
    una_admin = principal(make_user(Role.admin, org=cast["UNA"].org))
    with pytest.raises(PermissionDenied, match="host_government"):
        service.withdraw(db, actor=una_admin, agreement_id=agreement.id,
                         data=WithdrawIn(reason="not ours to withdraw"), today=day)
    with pytest.raises(PermissionDenied, match="user of the host government"):
        service.withdraw(db, actor=Principal.system(), agreement_id=agreement.id,
                         data=WithdrawIn(reason="operator cannot"), today=day)
    withdrawal = service.withdraw(db, actor=cast["MOL"].actor, agreement_id=agreement.id,
                                  data=WithdrawIn(reason="security situation changed"),
                                  today=day)
    assert withdrawal.notice_end == dt.date(2030, 5, 30)  # 90 days
    assert zone.status == ZoneStatus.closing and zone.closing_date == dt.date(2030, 5, 30)
    assert "MOL withdrew consent on 2030-03-01" in (zone.status_reason or "")
    assert lifecycle.in_force(db, agreement, day) is None
    assert lifecycle.in_force(db, agreement, day - dt.timedelta(days=1)) is agreement.versions[0]
    with pytest.raises(Conflict, match="closes on 2030-05-30"):
        service.transition_zone(db, actor=cast["UNA"].actor, agreement_id=agreement.id,
                                to=ZoneStatus.closed, reason="done", today=dt.date(2030, 5, 29))
    service.transition_zone(db, actor=cast["UNA"].actor, agreement_id=agreement.id,
                            to=ZoneStatus.closed, reason="notice ended",
                            today=dt.date(2030, 5, 30))
    assert zone.status == ZoneStatus.closed


def test_withdrawal_needs_consent_first(db: Session, cast: Cast,
                                        make_zone: Callable[..., Zone]) -> None:
    agreement = _proposed(db, cast, make_zone())
    with pytest.raises(Conflict, match="no consent to withdraw"):
        service.withdraw(db, actor=cast["MOL"].actor, agreement_id=agreement.id,
                         data=WithdrawIn(reason="never mind"), today=START)


def test_server_held_keys_sign_and_are_flagged(db: Session, cast: Cast,
                                               make_zone: Callable[..., Zone],
                                               system: Principal) -> None:
    secret = "a test secret key, long enough"
    key = keyring.create_server_held_key(db, actor=system, organisation_id=cast["MOL"].org.id,
                                         secret=secret)
    assert key.private_key_encrypted and "BEGIN" not in key.private_key_encrypted
    version = _proposed(db, cast, make_zone()).versions[0]
    signature = service.sign_with_server_key(db, actor=cast["MOL"].actor, version=version,
                                             secret=secret, now=SIGNED_AT, today=START)
    assert signature.server_held and signature.key_id == key.key_id
    with pytest.raises(Conflict, match="cannot be decrypted"):
        service.sign_with_server_key(db, actor=system, version=version, secret="wrong",
                                     organisation_id=cast["MOL"].org.id)
