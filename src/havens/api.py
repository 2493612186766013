"""The API routers of every domain, mounted under /api/v1 by the app factory."""

from __future__ import annotations

from fastapi import APIRouter


def api_routers() -> list[APIRouter]:
    from havens.audit.router import router as audit_router
    from havens.geo.router import router as geo_router
    from havens.orgs.router import router as orgs_router

    return [orgs_router, audit_router, geo_router]
