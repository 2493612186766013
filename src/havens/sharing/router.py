"""HTTP API of data-sharing agreements and of reading households under one."""

from __future__ import annotations

from fastapi import APIRouter, Query

from havens.api_types import ObjectId
from havens.orgs.dependencies import AppSettings, CurrentPrincipal, DbSession
from havens.people.crypto import FieldCipher
from havens.people.models import ConsentPurpose
from havens.sharing import service
from havens.sharing.schemas import DsaCreate, DsaRead, DsaRevoke, SharedHousehold, SharedPage

router = APIRouter(prefix="/sharing-agreements", tags=["sharing"])


@router.get("", response_model=list[DsaRead])
def list_agreements(db: DbSession, actor: CurrentPrincipal) -> list[DsaRead]:
    """Agreements of which the caller's organisation is provider or recipient."""
    return [service.to_read(db, d) for d in service.list_agreements(db, actor=actor)]


@router.post("", response_model=DsaRead, status_code=201)
def propose(data: DsaCreate, db: DbSession, actor: CurrentPrincipal) -> DsaRead:
    """Offer the caller's organisation's household data to a recipient organisation."""
    return service.to_read(db, service.propose(db, actor=actor, data=data))


@router.get("/{agreement_id}", response_model=DsaRead)
def get(agreement_id: ObjectId, db: DbSession, actor: CurrentPrincipal) -> DsaRead:
    return service.to_read(db, service.get(db, actor=actor, agreement_id=agreement_id))


@router.post("/{agreement_id}/sign", response_model=DsaRead)
def sign(agreement_id: ObjectId, db: DbSession, actor: CurrentPrincipal) -> DsaRead:
    """Sign for the caller's side."""
    return service.to_read(db, service.sign(db, actor=actor, agreement_id=agreement_id))


@router.post("/{agreement_id}/revoke", response_model=DsaRead)
def revoke(agreement_id: ObjectId, data: DsaRevoke, db: DbSession,
           actor: CurrentPrincipal) -> DsaRead:
    return service.to_read(db, service.revoke(db, actor=actor, agreement_id=agreement_id,
                                              reason=data.reason))


@router.get("/{agreement_id}/households", response_model=SharedPage)
def households(agreement_id: ObjectId, db: DbSession, actor: CurrentPrincipal,
               settings: AppSettings, purpose: ConsentPurpose,
               page: int = Query(default=1, ge=1, le=100_000),
               page_size: int = Query(default=50, ge=1, le=100)) -> SharedPage:
    """Households the agreement covers for the stated purpose (audited), masked as granted."""
    return service.shared_households(db, actor=actor, agreement_id=agreement_id,
                                     purpose=purpose.value, page=page, page_size=page_size,
                                     cipher=FieldCipher.from_settings(settings))


@router.get("/{agreement_id}/households/{household_id}", response_model=SharedHousehold)
def household(agreement_id: ObjectId, household_id: ObjectId, db: DbSession,
              actor: CurrentPrincipal, settings: AppSettings,
              purpose: ConsentPurpose) -> SharedHousehold:
    return service.shared_household(db, actor=actor, agreement_id=agreement_id,
                                    household_id=household_id, purpose=purpose.value,
                                    cipher=FieldCipher.from_settings(settings))
