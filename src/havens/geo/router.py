from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from havens.geo import service
from havens.geo.schemas import AdminAreaRead
from havens.orgs.dependencies import CurrentPrincipal, DbSession
from havens.orgs.permissions import require

router = APIRouter(tags=["reference geography"])


@router.get("/admin-areas", response_model=list[AdminAreaRead])
def list_admin_areas(
    principal: CurrentPrincipal, db: DbSession,
    level: int | None = Query(default=None, ge=0, le=5),
    parent: str | None = Query(default=None, max_length=20),
) -> list[AdminAreaRead]:
    return [AdminAreaRead.model_validate(a)
            for a in service.list_areas(db, actor=principal, level=level, parent=parent)]


@router.get("/admin-areas.geojson")
def admin_areas_geojson(
    principal: CurrentPrincipal, db: DbSession, level: int = Query(default=1, ge=0, le=5),
) -> dict[str, Any]:
    return service.feature_collection(service.list_areas(db, actor=principal, level=level))


@router.get("/admin-areas/{pcode}", response_model=AdminAreaRead)
def get_admin_area(pcode: str, principal: CurrentPrincipal, db: DbSession) -> AdminAreaRead:
    require(principal, "geo.read")
    return AdminAreaRead.model_validate(service.get_area(db, pcode=pcode))
