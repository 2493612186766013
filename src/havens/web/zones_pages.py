"""Zone pages: the list with its map, and one zone with everything known about it."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from havens.orgs.dependencies import DbSession
from havens.web import panels
from havens.web.i18n import translations
from havens.web.pages import PagePrincipal
from havens.web.templating import render, request_language
from havens.zones import service as zone_service
from havens.zones import sites as site_service

router = APIRouter()
SITES_SHOWN = 25


def _json_attr(value: Any) -> str:
    # For a data-* attribute: Jinja escapes it, map.js parses it. No inline script needed.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@router.get("/zones")
def zones_list(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    zones = zone_service.list_zones(db, actor=principal)
    reads = zone_service.to_reads(db, zones)
    return render(request, "zones/list.html", {
        "zones": reads, "by_status": panels.zones_by_status(zones),
        "zones_json": _json_attr(zone_service.feature_collection(db, zones)),
    })


@router.get("/zones/{code}")
def zone_page(code: str, request: Request, principal: PagePrincipal, db: DbSession,
              all_sites: bool = False) -> Response:
    zone = zone_service.get_zone_by_code(db, actor=principal, code=code)
    gettext = translations(request_language(request)).gettext
    sites = site_service.list_sites(db, actor=principal, zone_id=zone.id)
    context: dict[str, Any] = {
        "zone": zone_service.to_read(db, zone),
        "reported": zone_service.occupancy(db, actor=principal, zone_id=zone.id),
        # A long table is slow on field links: the first sites, and a link to all of them.
        "sites": site_service.to_reads(db, sites if all_sites else sites[:SITES_SHOWN]),
        "site_total": len(sites),
        "zone_json": _json_attr(zone_service.feature_collection(db, [zone])),
        "sites_json": _json_attr(site_service.feature_collection(db, sites)),
        "registered": panels.registered_population(db, actor=principal, zone=zone,
                                                   gettext=gettext),
        "flows": panels.flows_chart(db, actor=principal, zone=zone, gettext=gettext),
        "personal": panels.may_see_personal_data(principal),
    }
    context.update(panels.agreement(db, actor=principal, zone=zone))
    context.update(panels.services(db, actor=principal, zone=zone))
    context.update(panels.safety(db, actor=principal, zone=zone))
    context["meter"] = context["registered"]["meter"] if context["registered"] else Markup("")
    return render(request, "zones/detail.html", context)
