"""HTTP API of zones, sites, reported population and point location.

The ``.geojson`` routes are declared before the ``{id}`` routes so that they are not taken for
an id.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from havens.api_types import ObjectId
from havens.exceptions import ValidationFailed
from havens.orgs.dependencies import CurrentPrincipal, DbSession
from havens.orgs.permissions import require
from havens.orgs.ratelimit import IMPORTS
from havens.zones import placement, site_import, sites
from havens.zones import service as zone_service
from havens.zones.models import SiteStatus, SiteType, ZoneStatus
from havens.zones.schemas import (
    LocateResult,
    Occupancy,
    PopulationCreate,
    PopulationRead,
    SiteCreate,
    SiteRead,
    SiteUpdate,
    ZoneCreate,
    ZoneRead,
    ZoneUpdate,
)

router = APIRouter(tags=["zones and sites"])

GEOJSON_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "A GeoJSON FeatureCollection (longitude/latitude)",
          "content": {"application/geo+json": {"schema": {"type": "object"}}}}}

GEOJSON = "application/geo+json"


# --- zones -----------------------------------------------------------------------------------

@router.get("/zones", response_model=list[ZoneRead])
def list_zones(
    principal: CurrentPrincipal, db: DbSession,
    status: list[ZoneStatus] | None = Query(default=None),
    admin_pcode: str | None = Query(default=None, max_length=20),
    q: str | None = Query(default=None, max_length=100, description="code or name"),
) -> list[ZoneRead]:
    zones = zone_service.list_zones(db, actor=principal, statuses=status,
                                    admin_pcode=admin_pcode, search=q)
    return zone_service.to_reads(db, zones)


@router.post("/zones", response_model=ZoneRead, status_code=201)
def create_zone(data: ZoneCreate, principal: CurrentPrincipal, db: DbSession) -> ZoneRead:
    return zone_service.to_read(db, zone_service.create_zone(db, actor=principal, data=data))


@router.get("/zones.geojson", response_class=Response, responses=GEOJSON_RESPONSE)
def zones_geojson(
    principal: CurrentPrincipal, db: DbSession,
    status: list[ZoneStatus] | None = Query(default=None),
) -> Response:
    zones = zone_service.list_zones(db, actor=principal, statuses=status)
    return _geojson(zone_service.feature_collection(db, zones))


@router.get("/zones/{zone_id}", response_model=ZoneRead)
def get_zone(zone_id: ObjectId, principal: CurrentPrincipal, db: DbSession) -> ZoneRead:
    return zone_service.to_read(db, zone_service.get_zone(db, actor=principal, zone_id=zone_id))


@router.patch("/zones/{zone_id}", response_model=ZoneRead)
def update_zone(zone_id: ObjectId, data: ZoneUpdate, principal: CurrentPrincipal,
                db: DbSession) -> ZoneRead:
    """Edit a zone (names, P-codes, boundary, emergency phase); never its status."""
    return zone_service.to_read(
        db, zone_service.update_zone(db, actor=principal, zone_id=zone_id, data=data))


@router.delete("/zones/{zone_id}", status_code=204)
def delete_zone(zone_id: ObjectId, principal: CurrentPrincipal, db: DbSession) -> Response:
    zone_service.delete_zone(db, actor=principal, zone_id=zone_id)
    return Response(status_code=204)


@router.get("/zones/{zone_id}/occupancy", response_model=Occupancy)
def zone_occupancy(zone_id: ObjectId, principal: CurrentPrincipal, db: DbSession) -> Occupancy:
    """Reported population (site monitoring, not registration) against Sphere capacity."""
    return zone_service.occupancy(db, actor=principal, zone_id=zone_id)


# --- sites -----------------------------------------------------------------------------------

@router.get("/sites", response_model=list[SiteRead])
def list_sites(
    principal: CurrentPrincipal, db: DbSession,
    zone: str | None = Query(default=None, max_length=32, description="zone code"),
    admin_pcode: str | None = Query(default=None, max_length=20),
    site_type: SiteType | None = Query(default=None),
    status: SiteStatus | None = Query(default=None),
    outside_zone: bool | None = Query(default=None),
    q: str | None = Query(default=None, max_length=100, description="code or name"),
    limit: int = Query(default=500, ge=1, le=5000),
    offset: int = Query(default=0, ge=0),
) -> list[SiteRead]:
    return sites.list_site_reads(db, actor=principal, zone_code=zone, admin_pcode=admin_pcode,
                                 site_type=site_type, status=status, outside_zone=outside_zone,
                                 search=q, limit=limit, offset=offset)


@router.post("/sites", response_model=SiteRead, status_code=201)
def create_site(data: SiteCreate, principal: CurrentPrincipal, db: DbSession) -> SiteRead:
    return sites.to_read(db, sites.create_site(db, actor=principal, data=data))


@router.get("/sites.geojson", response_class=Response, responses=GEOJSON_RESPONSE)
def sites_geojson(
    principal: CurrentPrincipal, db: DbSession,
    zone: str | None = Query(default=None, max_length=32, description="zone code"),
    admin_pcode: str | None = Query(default=None, max_length=20),
) -> Response:
    found = sites.list_sites(db, actor=principal, zone_code=zone, admin_pcode=admin_pcode)
    return _geojson(sites.feature_collection(db, found))


@router.get("/sites/{site_id}", response_model=SiteRead)
def get_site(site_id: ObjectId, principal: CurrentPrincipal, db: DbSession) -> SiteRead:
    return sites.to_read(db, sites.get_site(db, actor=principal, site_id=site_id))


@router.patch("/sites/{site_id}", response_model=SiteRead)
def update_site(site_id: ObjectId, data: SiteUpdate, principal: CurrentPrincipal,
                db: DbSession) -> SiteRead:
    return sites.to_read(db, sites.update_site(db, actor=principal, site_id=site_id, data=data))


@router.delete("/sites/{site_id}", status_code=204)
def delete_site(site_id: ObjectId, principal: CurrentPrincipal, db: DbSession) -> Response:
    sites.delete_site(db, actor=principal, site_id=site_id)
    return Response(status_code=204)


@router.get("/sites/{site_id}/population", response_model=list[PopulationRead])
def site_population(site_id: ObjectId, principal: CurrentPrincipal,
                    db: DbSession) -> list[PopulationRead]:
    """Reported population by date (site monitoring figures, not registration)."""
    return [PopulationRead.model_validate(r)
            for r in sites.list_population(db, actor=principal, site_id=site_id)]


@router.post("/sites/{site_id}/population", response_model=PopulationRead, status_code=201)
def record_population(site_id: ObjectId, data: PopulationCreate, principal: CurrentPrincipal,
                      db: DbSession) -> PopulationRead:
    """Record the reported population of a date (a second report of the date corrects it)."""
    return PopulationRead.model_validate(
        sites.record_population(db, actor=principal, site_id=site_id, data=data))


@router.post("/imports/sites")
def import_sites(
    principal: CurrentPrincipal, db: DbSession, file: UploadFile = File(...),
    dry_run: bool = Form(default=False), skip_invalid: bool = Form(default=False),
    reported_on: dt.date | None = Form(default=None),
) -> dict[str, Any]:
    """Import a site list (XLSX or CSV); the same rules as ``havens sites import``."""
    require(principal, "sites.write")
    IMPORTS.check(principal, "import")
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValidationFailed("Upload an .xlsx or .csv file.", field="file")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(file.filename or f"upload{suffix}").name
        path.write_bytes(file.file.read())
        report = site_import.import_sites(db, actor=principal, path=path, dry_run=dry_run,
                                          skip_invalid=skip_invalid, reported_on=reported_on)
    return {
        "file": report.file, "rows": report.rows, "created": len(report.created),
        "updated": len(report.updated), "unchanged": report.unchanged,
        "skipped_rows": report.skipped_rows, "population_written": report.population_written,
        "errors": [p.as_dict() for p in report.errors],
        "warnings": [p.as_dict() for p in report.warnings],
        "columns": report.columns, "dry_run": report.dry_run,
    }


# --- location --------------------------------------------------------------------------------

@router.get("/locate", response_model=LocateResult)
def locate(principal: CurrentPrincipal, db: DbSession,
           lon: float = Query(ge=-180, le=180), lat: float = Query(ge=-90, le=90)
           ) -> LocateResult:
    """The active zone holding a point, and the site there or nearest within that zone."""
    require(principal, "zones.read")
    zone, site, distance = placement.locate_with_distance(db, lon=lon, lat=lat)
    return LocateResult(
        lon=lon, lat=lat, zone=zone_service.to_read(db, zone) if zone else None,
        site=sites.to_read(db, site) if site else None,
        distance_m=round(distance, 1) if distance is not None else None)


def _geojson(collection: dict[str, Any]) -> Response:
    from fastapi.responses import JSONResponse

    return JSONResponse(collection, media_type=GEOJSON)
