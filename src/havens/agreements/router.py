"""Agreements API: negotiation, versions, signatures, consent, zone moves, organisation keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from havens.agreements import keyring, service, views
from havens.agreements.schemas import (
    AgreementPropose,
    AgreementRead,
    DiffRead,
    KeyIn,
    KeyRead,
    SignatureIn,
    SignatureRead,
    TermsIn,
    TransitionIn,
    VersionRead,
    WithdrawalRead,
    WithdrawIn,
    ZoneStatusRead,
)
from havens.api_types import ObjectId
from havens.orgs.dependencies import CurrentPrincipal, DbSession

router = APIRouter(tags=["agreements"])


@router.get("/agreements", response_model=list[AgreementRead])
def list_agreements(principal: CurrentPrincipal, db: DbSession, zone: str | None = None
                    ) -> list[AgreementRead]:
    """Agreements your organisation is a party of (optionally of one zone, by code)."""
    if zone:
        return [views.agreement_read(db, service.agreement_for_zone(
            db, actor=principal, zone_code=zone))]
    return [views.agreement_read(db, a) for a in service.list_agreements(db, actor=principal)]


@router.post("/agreements", response_model=AgreementRead, status_code=201)
def propose(data: AgreementPropose, principal: CurrentPrincipal, db: DbSession
            ) -> AgreementRead:
    """Propose the agreement of a zone: its first version, open for signature."""
    return views.agreement_read(db, service.propose(db, actor=principal, data=data))


@router.get("/agreements/{agreement_id}", response_model=AgreementRead)
def get_agreement(agreement_id: ObjectId, principal: CurrentPrincipal, db: DbSession
                  ) -> AgreementRead:
    return views.agreement_read(db, service.get_agreement(db, actor=principal,
                                                          agreement_id=agreement_id))


@router.post("/agreements/{agreement_id}/versions", response_model=VersionRead, status_code=201)
def amend(agreement_id: ObjectId, data: TermsIn, principal: CurrentPrincipal, db: DbSession
          ) -> VersionRead:
    """Amend the terms: a new version; the one in force stays so until this one takes effect."""
    return views.version_read(db, service.amend(db, actor=principal, agreement_id=agreement_id,
                                                data=data))


@router.get("/agreements/{agreement_id}/versions/{number}", response_model=VersionRead)
def get_version(agreement_id: ObjectId, number: ObjectId, principal: CurrentPrincipal, db: DbSession
                ) -> VersionRead:
    """Terms, canonical text, hash, the message to sign, parties, signatures, pending signers."""
    return views.version_read(db, service.get_version(db, actor=principal,
                                                      agreement_id=agreement_id, number=number))


@router.post("/agreements/{agreement_id}/versions/{number}/signatures",
             response_model=SignatureRead, status_code=201)
def sign(agreement_id: ObjectId, number: ObjectId, data: SignatureIn, principal: CurrentPrincipal,
         db: DbSession) -> SignatureRead:
    """Submit a signature made on the signer's machine (``havens agreements sign``)."""
    version = service.get_version(db, actor=principal, agreement_id=agreement_id, number=number)
    service.submit_signature(db, actor=principal, version=version, key_id=data.key_id,
                             signature=data.signature)
    read = views.version_read(db, version)
    return next(s for s in read.signatures if s.key_id == data.key_id)


@router.get("/agreements/{agreement_id}/versions/{a}/diff/{b}", response_model=DiffRead)
def diff(agreement_id: ObjectId, a: ObjectId, b: ObjectId, principal: CurrentPrincipal,
         db: DbSession) -> DiffRead:
    """What changed in the terms from version ``a`` to version ``b``."""
    return views.diff(db, actor=principal, agreement_id=agreement_id, a=a, b=b)


@router.post("/agreements/{agreement_id}/withdrawals", response_model=WithdrawalRead,
             status_code=201)
def withdraw(agreement_id: ObjectId, data: WithdrawIn, principal: CurrentPrincipal, db: DbSession
             ) -> WithdrawalRead:
    """The host government withdraws its consent; the zone closes when the notice ends."""
    service.withdraw(db, actor=principal, agreement_id=agreement_id, data=data)
    read = views.agreement_read(db, service.get_agreement(db, actor=principal,
                                                          agreement_id=agreement_id))
    return read.withdrawals[0]


@router.post("/agreements/{agreement_id}/transitions", response_model=ZoneStatusRead)
def transition(agreement_id: ObjectId, data: TransitionIn, principal: CurrentPrincipal,
               db: DbSession) -> ZoneStatusRead:
    """Move the zone by hand (start negotiating, operational, suspend, resume, close, reject)."""
    zone = service.transition_zone(db, actor=principal, agreement_id=agreement_id, to=data.to,
                                   reason=data.reason)
    return ZoneStatusRead(zone_code=zone.code, status=zone.status,
                          status_reason=zone.status_reason, closing_date=zone.closing_date)


@router.get("/agreements/{agreement_id}/export")
def export(agreement_id: ObjectId, principal: CurrentPrincipal, db: DbSession) -> dict[str, Any]:
    """The document ``havens agreements verify`` checks without any database."""
    return views.export_document(db, actor=principal, agreement_id=agreement_id)


@router.get("/organisations/{organisation_id}/keys", response_model=list[KeyRead])
def list_keys(organisation_id: ObjectId, principal: CurrentPrincipal, db: DbSession
              ) -> list[KeyRead]:
    return [keyring.key_read(k) for k in keyring.list_keys(
        db, actor=principal, organisation_id=organisation_id)]


@router.post("/organisations/{organisation_id}/keys", response_model=KeyRead, status_code=201)
def register_key(organisation_id: ObjectId, data: KeyIn, principal: CurrentPrincipal,
                 db: DbSession) -> KeyRead:
    """Register a public key (made with ``havens agreements keygen``); admins of the org."""
    return keyring.key_read(keyring.register_key(db, actor=principal,
                                                 organisation_id=organisation_id,
                                                 public_key=data.public_key))


@router.delete("/organisations/{organisation_id}/keys/{key_id}", response_model=KeyRead)
def revoke_key(organisation_id: ObjectId, key_id: str, principal: CurrentPrincipal,
               db: DbSession) -> KeyRead:
    """Revoke a key: no new signatures with it; earlier ones stay valid."""
    return keyring.key_read(keyring.revoke_key(db, actor=principal,
                                               organisation_id=organisation_id, key_id=key_id))
