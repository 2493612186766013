"""HTTP API of the people domain: registration, search, movements, imports, occupancy."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from havens.api_types import ObjectId
from havens.orgs.dependencies import AppSettings, CurrentPrincipal, DbSession
from havens.people import flows as people_flows
from havens.people import importing, occupancy, service
from havens.people.crypto import FieldCipher
from havens.people.schemas import (
    DepartRequest,
    HouseholdCreate,
    HouseholdRead,
    HouseholdUpdate,
    ImportReport,
    IndividualRead,
    IndividualUpdate,
    MoveRequest,
    SearchPage,
)

router = APIRouter(tags=["people"])



def _cipher(settings: AppSettings) -> FieldCipher:
    return FieldCipher.from_settings(settings)


@router.post("/households", response_model=HouseholdRead, status_code=201)
def register(data: HouseholdCreate, db: DbSession, actor: CurrentPrincipal,
             settings: AppSettings) -> HouseholdRead:
    """Register a household with its members."""
    return service.register_household(db, actor=actor, data=data, cipher=_cipher(settings))


@router.get("/households", response_model=SearchPage)
def search(db: DbSession, actor: CurrentPrincipal, settings: AppSettings,
           q: str | None = Query(default=None, max_length=200,
                                 description="registration number or name (Arabic or Latin)"),
           phone: str | None = Query(default=None, max_length=40),
           document_number: str | None = Query(default=None, max_length=60),
           site_code: str | None = Query(default=None, max_length=32),
           page: int = Query(default=1, ge=1, le=100_000),
           page_size: int = Query(default=20, ge=1, le=100)) -> SearchPage:
    return service.search(db, actor=actor, query=q, phone=phone,
                          document_number=document_number, site_code=site_code, page=page,
                          page_size=page_size, cipher=_cipher(settings))


@router.get("/households/{household_id}", response_model=HouseholdRead)
def get(household_id: ObjectId, db: DbSession, actor: CurrentPrincipal,
        settings: AppSettings) -> HouseholdRead:
    return service.get_household(db, actor=actor, household_id=household_id,
                                 cipher=_cipher(settings))


@router.patch("/households/{household_id}", response_model=HouseholdRead)
def update(household_id: ObjectId, data: HouseholdUpdate, db: DbSession, actor: CurrentPrincipal,
           settings: AppSettings) -> HouseholdRead:
    return service.update_household(db, actor=actor, household_id=household_id, data=data,
                                    cipher=_cipher(settings))


@router.patch("/individuals/{individual_id}", response_model=IndividualRead)
def update_individual(individual_id: ObjectId, data: IndividualUpdate, db: DbSession,
                      actor: CurrentPrincipal, settings: AppSettings) -> IndividualRead:
    return service.update_individual(db, actor=actor, individual_id=individual_id, data=data,
                                     cipher=_cipher(settings))


@router.post("/households/{household_id}/move", response_model=HouseholdRead)
def move(household_id: ObjectId, data: MoveRequest, db: DbSession, actor: CurrentPrincipal,
         settings: AppSettings) -> HouseholdRead:
    """Relocate the household to another site."""
    return service.move_household(db, actor=actor, household_id=household_id, data=data,
                                  cipher=_cipher(settings))


@router.post("/households/{household_id}/depart", response_model=HouseholdRead)
def depart(household_id: ObjectId, data: DepartRequest, db: DbSession, actor: CurrentPrincipal,
           settings: AppSettings) -> HouseholdRead:
    """Record the household's departure and its destination."""
    return service.depart_household(db, actor=actor, household_id=household_id, data=data,
                                    cipher=_cipher(settings))


@router.post("/imports", response_model=ImportReport)
def import_file(
    db: DbSession, actor: CurrentPrincipal, settings: AppSettings,
    file: Annotated[UploadFile, File(description="CSV or XLSX (Kobo/ODK exports welcome)")],
    site_code: Annotated[str | None, Form(max_length=32)] = None,
    skip_invalid: Annotated[bool, Form()] = False,
    mapping: Annotated[str | None, Form(max_length=importing.MAX_MAPPING_BYTES,
                                        description="JSON: file header -> column")] = None,
    consent_recorded: Annotated[bool, Form(
        description="The registration form recorded every household's consent (for files "
                    "without a consent column, or blank consent cells)")] = False,
) -> ImportReport:
    """Import a registration file; the report lists every bad row (nothing is written unless
    all rows are valid, or with skip_invalid only the valid ones)."""
    filename = file.filename or "upload"
    max_bytes = settings.max_upload_mb * 1024 * 1024
    data = file.file.read(max_bytes + 1)
    importing.check_upload_for_import(actor, filename, data, max_bytes=max_bytes,
                                      mapping=mapping)
    return importing.import_file(db, actor=actor, data=data, filename=filename,
                                 site_code=site_code, mapping=mapping, skip_invalid=skip_invalid,
                                 cipher=_cipher(settings), consent_recorded=consent_recorded)


@router.get("/people/zones/{zone_id}/occupancy", response_model=occupancy.ZoneOccupancy)
def zone_occupancy(zone_id: ObjectId, db: DbSession, actor: CurrentPrincipal,
                   on: dt.date | None = None) -> occupancy.ZoneOccupancy:
    """Registered population present in a zone, by site, sex and age group."""
    return occupancy.zone_occupancy(db, actor=actor, zone_id=zone_id, on=on)


@router.get("/people/sites/{site_id}/occupancy", response_model=occupancy.SiteOccupancy)
def site_occupancy(site_id: ObjectId, db: DbSession, actor: CurrentPrincipal,
                   on: dt.date | None = None) -> occupancy.SiteOccupancy:
    return occupancy.site_occupancy(db, actor=actor, site_id=site_id, on=on)


@router.get("/people/flows", response_model=people_flows.Flows)
def flows(db: DbSession, actor: CurrentPrincipal, start: dt.date, end: dt.date,
          zone_id: int | None = None, site_id: int | None = None) -> people_flows.Flows:
    """Arrivals, departures by destination and relocations per day."""
    return people_flows.count_flows(db, actor=actor, start=start, end=end, zone_id=zone_id,
                                    site_id=site_id)
