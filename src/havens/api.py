"""The API routers of every domain, mounted under /api/v1 by the app factory."""

from __future__ import annotations

from fastapi import APIRouter


def api_routers() -> list[APIRouter]:
    from havens.agreements.router import router as agreements_router
    from havens.assistance.router import router as assistance_router
    from havens.audit.router import router as audit_router
    from havens.geo.router import router as geo_router
    from havens.interop.router import router as interop_router
    from havens.linkage.router import router as linkage_router
    from havens.orgs.router import router as orgs_router
    from havens.people.router import router as people_router
    from havens.returns.router import router as returns_router
    from havens.safety.router import router as safety_router
    from havens.sharing.router import router as sharing_router
    from havens.zones.router import router as zones_router

    return [orgs_router, audit_router, geo_router, zones_router, agreements_router,
            people_router, assistance_router, safety_router, returns_router, interop_router,
            sharing_router, linkage_router]
