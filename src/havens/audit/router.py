from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from havens.audit import service
from havens.orgs.dependencies import CurrentPrincipal, DbSession
from havens.orgs.permissions import require

router = APIRouter(tags=["audit"])


class AuditRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: dt.datetime
    actor_user_id: int | None
    actor_org_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class VerifyRead(BaseModel):
    ok: bool
    records: int
    broken_seq: int | None
    reason: str | None


@router.get("/audit", response_model=list[AuditRecordRead])
def audit_tail(principal: CurrentPrincipal, db: DbSession,
               limit: int = Query(default=50, ge=1, le=1000)) -> list[AuditRecordRead]:
    return [AuditRecordRead.model_validate(r)
            for r in service.tail(db, actor=principal, limit=limit)]


@router.get("/audit/verify", response_model=VerifyRead)
def audit_verify(principal: CurrentPrincipal, db: DbSession) -> VerifyRead:
    require(principal, "audit.read")
    result = service.verify(db)
    return VerifyRead(ok=result.ok, records=result.records, broken_seq=result.broken_seq,
                      reason=result.reason)
