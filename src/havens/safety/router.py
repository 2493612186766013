"""HTTP API of security incidents and zone safety (rules in ``havens.safety.service``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, UploadFile

from havens.exceptions import ValidationFailed
from havens.orgs.dependencies import CurrentPrincipal, DbSession
from havens.orgs.ratelimit import IMPORTS
from havens.orgs.uploads import check_upload
from havens.safety import importing, service
from havens.safety.incident_types import IncidentType
from havens.safety.schemas import (
    IncidentCreate,
    IncidentImportReport,
    IncidentList,
    IncidentRead,
    ZoneSafetyRead,
)
from havens.zones import service as zone_service

router = APIRouter(tags=["safety"])

#: Ids are 32-bit integers on both databases.
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]

_UPLOAD_TYPES = (".csv", ".xlsx", ".xlsm")


@router.get("/incidents", response_model=IncidentList)
def list_incidents(
    principal: CurrentPrincipal, db: DbSession,
    zone: str | None = Query(default=None, max_length=32, description="zone code"),
    since: dt.datetime | None = None, until: dt.datetime | None = None,
    type: list[IncidentType] | None = Query(default=None),
    min_severity: int | None = Query(default=None, ge=1, le=4),
    breaches: bool = Query(default=False, description="only breaches of an agreement"),
    limit: int = Query(default=500, ge=1, le=5000),
) -> IncidentList:
    """Incidents you may see, newest first; sensitive ones you may not see only as counts."""
    zone_id = zone_service.get_zone_by_code(db, actor=principal, code=zone).id if zone else None
    return service.list_incidents(db, actor=principal, zone_id=zone_id, since=since,
                                  until=until, types=type, min_severity=min_severity,
                                  breaches_only=breaches, limit=limit)


@router.post("/incidents", response_model=IncidentRead, status_code=201)
def report_incident(data: IncidentCreate, principal: CurrentPrincipal, db: DbSession
                    ) -> IncidentRead:
    incident = service.create_incident(db, actor=principal, data=data)
    return service.to_read(db, incident, actor=principal)


@router.get("/incidents/types")
def incident_types(principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """The documented list of incident types."""
    return service.type_list()


@router.post("/incidents/import", response_model=IncidentImportReport)
def import_incidents(
    principal: CurrentPrincipal, db: DbSession,
    file: Annotated[UploadFile, File(description="CSV or XLSX, one incident per row")],
    organisation: Annotated[str | None, Form(max_length=32)] = None,
) -> IncidentImportReport:
    """All rows or none: problems come back as ``error.details`` (row, column, reason)."""
    IMPORTS.check(principal, "import")
    filename = file.filename or "upload"
    if not filename.lower().endswith(_UPLOAD_TYPES):
        raise ValidationFailed("Upload a .csv or .xlsx file.", field="file")
    data = file.file.read()
    check_upload(filename, data)
    return importing.import_incidents(db, actor=principal, data=data,
                                      filename=filename, organisation=organisation)


@router.get("/incidents/{incident_id}", response_model=IncidentRead)
def get_incident(incident_id: Id, principal: CurrentPrincipal, db: DbSession) -> IncidentRead:
    incident = service.get_incident(db, actor=principal, incident_id=incident_id)
    return service.to_read(db, incident, actor=principal)


@router.get("/safety/zones", response_model=list[ZoneSafetyRead])
def zones_safety(principal: CurrentPrincipal, db: DbSession) -> list[ZoneSafetyRead]:
    """The safety status of every zone."""
    return list(service.zones_safety(db, actor=principal).values())


@router.get("/zones/{zone_id}/safety", response_model=ZoneSafetyRead)
def zone_safety(zone_id: Id, principal: CurrentPrincipal, db: DbSession) -> ZoneSafetyRead:
    return service.zone_safety(db, actor=principal, zone_id=zone_id)
