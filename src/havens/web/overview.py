"""What the first page after login shows, gathered from the domains' services."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session

from havens.geo import service as geo_service
from havens.orgs import service as org_service
from havens.orgs.permissions import Principal


def context(db: Session, *, actor: Principal) -> dict[str, Any]:
    import json

    from havens.web import panels
    from havens.zones import service as zone_service

    zones = zone_service.list_zones(db, actor=actor)
    return {
        "organisations": org_service.list_organisations(db, actor=actor),
        "admin_area_count": geo_service.count_areas(db),
        "zones": zones,
        "zones_json": json.dumps(zone_service.feature_collection(db, zones),
                                 separators=(",", ":"), ensure_ascii=False),
        "totals": panels.overview(db, actor=actor, zones=zones),
    }


def page_modules() -> list[ModuleType]:
    """Domain page modules, each with a ``router``; added to as the domains land."""
    from havens.web import (
        admin_pages,
        agreements_pages,
        linkage_pages,
        people_pages,
        zones_pages,
    )

    return [admin_pages, zones_pages, agreements_pages, people_pages, linkage_pages]
