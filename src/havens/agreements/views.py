"""What the API, the command line and the export show of agreements (read-only)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.agreements import canonical, keyring, lifecycle
from havens.agreements.diff import diff_terms
from havens.agreements.models import Agreement, AgreementVersion, VersionStatus
from havens.agreements.schemas import (
    AgreementRead,
    ChangeRead,
    CommitmentRead,
    DiffRead,
    OrgRef,
    PartyRead,
    SignatureRead,
    VersionRead,
    VersionSummary,
    WithdrawalRead,
)
from havens.agreements.service import agreement_for_zone, get_agreement, get_version
from havens.agreements.verify import EXPORT_FORMAT
from havens.database import utcnow
from havens.orgs.models import Organisation, OrganisationKey
from havens.orgs.permissions import Principal


def _ref(org: Organisation) -> OrgRef:
    return OrgRef(id=org.id, acronym=org.acronym)


def _pending(db: Session, version: AgreementVersion) -> list[OrgRef]:
    if version.status != VersionStatus.open:
        return []
    signed = {o for f in lifecycle.version_facts(db, version.agreement)
              if f.number == version.number for o in f.signed_at}
    return [_ref(p.organisation) for p in version.parties
            if p.required_signer and p.organisation_id not in signed]


def version_read(db: Session, version: AgreementVersion, today: dt.date | None = None
                 ) -> VersionRead:
    today = today or lifecycle.today_utc()
    current = lifecycle.in_force(db, version.agreement, today)
    signed = {s.organisation_id for s in version.signatures}
    return VersionRead(
        id=version.id, number=version.number, status=version.status,
        in_force=current is version, hash=version.hash,
        signing_message=canonical.signing_message(
            version.agreement.zone.code, version.number, version.hash).decode(),
        canonical_terms=version.canonical_terms, terms=version.terms, note=version.note,
        start_date=version.start_date, end_date=version.end_date,
        created_at=version.created_at, fully_signed_at=version.fully_signed_at,
        parties=[PartyRead(organisation=_ref(p.organisation), role=p.role,
                           required_signer=p.required_signer,
                           signed=p.organisation_id in signed) for p in version.parties],
        signatures=[SignatureRead(
            organisation=_ref(s.organisation), key_id=s.key_id, signature=s.signature,
            signed_hash=s.signed_hash, signer_user_id=s.signer_user_id,
            server_held=s.server_held, signed_at=s.signed_at) for s in version.signatures],
        pending_signers=_pending(db, version),
        commitments=[CommitmentRead(
            id=c.id, ref=c.ref, party=_ref(c.organisation), what=c.what, indicator=c.indicator,
            target=c.target, unit=c.unit, due_date=c.due_date) for c in version.commitments],
    )


def agreement_read(db: Session, agreement: Agreement, today: dt.date | None = None
                   ) -> AgreementRead:
    today = today or lifecycle.today_utc()
    current = lifecycle.in_force(db, agreement, today)
    zone = agreement.zone
    administrator = None
    if current is not None:
        administrator = _ref(next(p.organisation for p in current.parties
                                  if p.organisation_id == current.administrator_org_id))
    numbers = {v.id: v.number for v in agreement.versions}
    return AgreementRead(
        id=agreement.id, zone_id=zone.id, zone_code=zone.code, zone_status=zone.status,
        zone_status_reason=zone.status_reason, closing_date=zone.closing_date,
        version_in_force=current.number if current else None, administrator=administrator,
        versions=[VersionSummary(number=v.number, status=v.status, in_force=v is current,
                                 hash=v.hash, start_date=v.start_date, end_date=v.end_date,
                                 fully_signed_at=v.fully_signed_at)
                  for v in agreement.versions],
        withdrawals=[WithdrawalRead(organisation=_ref(w.organisation),
                                    withdrawn_on=w.withdrawn_on, notice_end=w.notice_end,
                                    reason=w.reason,
                                    version_number=numbers.get(w.version_id or -1))
                     for w in agreement.withdrawals],
    )


def diff(db: Session, *, actor: Principal, agreement_id: int, a: int, b: int) -> DiffRead:
    old = get_version(db, actor=actor, agreement_id=agreement_id, number=a)
    new = get_version(db, actor=actor, agreement_id=agreement_id, number=b)
    changes = diff_terms(json.loads(old.canonical_terms), json.loads(new.canonical_terms))
    return DiffRead(agreement_id=agreement_id, from_version=a, to_version=b,
                    changes=[ChangeRead(**c.as_dict()) for c in changes])


def export_document(db: Session, *, actor: Principal, zone_code: str | None = None,
                    agreement_id: int | None = None) -> dict[str, Any]:
    """Everything needed to check the agreement outside Havens (``havens agreements verify``):
    every version's canonical terms, hash, parties and signatures, and the public keys."""
    if agreement_id is not None:
        agreement = get_agreement(db, actor=actor, agreement_id=agreement_id)
    else:
        agreement = agreement_for_zone(db, actor=actor, zone_code=zone_code or "")
    key_ids = {s.key_id for v in agreement.versions for s in v.signatures}
    used_keys = list(db.scalars(select(OrganisationKey).where(OrganisationKey.key_id.in_(key_ids))
                                .order_by(OrganisationKey.key_id))) if key_ids else []
    zone = agreement.zone
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "zone": {"code": zone.code, "name_en": zone.name_en, "name_ar": zone.name_ar,
                 "status": zone.status.value, "closing_date": _iso(zone.closing_date)},
        "agreement_id": agreement.id,
        "message_format": f"{canonical.MESSAGE_PREFIX}:<zone code>:<version number>:<hash>",
        "versions": [{
            "number": v.number, "status": v.status.value, "note": v.note,
            "created_at": v.created_at.isoformat(), "hash": v.hash,
            "canonical_terms": v.canonical_terms,
            "fully_signed_at": v.fully_signed_at.isoformat() if v.fully_signed_at else None,
            "parties": [{"organisation": canonical.org_ref(p.organisation.acronym,
                                                           p.organisation_id),
                         "role": p.role.value, "required_signer": p.required_signer}
                        for p in v.parties],
            "signatures": [{"organisation": canonical.org_ref(s.organisation.acronym,
                                                              s.organisation_id),
                            "key_id": s.key_id, "signature": s.signature,
                            "signed_hash": s.signed_hash, "signed_at": s.signed_at.isoformat(),
                            "server_held": s.server_held} for s in v.signatures],
        } for v in agreement.versions],
        "keys": [{"key_id": k.key_id, "public_key": k.public_key,
                  "organisation": canonical.org_ref(k.organisation.acronym, k.organisation_id),
                  "server_held": keyring.is_server_held(k),
                  "created_at": k.created_at.isoformat(),
                  "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}
                 for k in used_keys],
        "withdrawals": [{"organisation": canonical.org_ref(w.organisation.acronym,
                                                           w.organisation_id),
                         "withdrawn_on": w.withdrawn_on.isoformat(),
                         "notice_end": w.notice_end.isoformat(), "reason": w.reason}
                        for w in agreement.withdrawals],
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
