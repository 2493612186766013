"""HTTP API of area assessments, return intentions, return movements and their reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile

from havens.exceptions import HavensError, ValidationFailed
from havens.orgs.dependencies import AppSettings, CurrentPrincipal, DbSession
from havens.orgs.ratelimit import IMPORTS
from havens.people.crypto import FieldCipher
from havens.returns import intentions, movements, reports, service
from havens.returns.criteria import CRITERIA, Rating, ReturnStatus
from havens.returns.schemas import (
    AreaStatusRead,
    AssessmentCreate,
    AssessmentRead,
    IntentionCreate,
    IntentionImportReport,
    IntentionRead,
    OriginReport,
    ReturnCreate,
    ReturnRead,
    ZoneDeparturesReport,
)

router = APIRouter(tags=["returns"])

#: Ids are 32-bit integers on both databases.
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]

_UPLOAD_TYPES = (".csv", ".xlsx", ".xlsm")


@router.get("/returns/reference")
def reference(principal: CurrentPrincipal) -> dict[str, Any]:
    """The documented lists: IASC criteria, ratings, statuses, preconditions, consent topics."""
    return {
        "criteria": [{"code": c.value, "label_en": i.label_en, "label_ar": i.label_ar}
                     for c, i in CRITERIA.items()],
        "ratings": [r.value for r in Rating],
        "statuses": [s.value for s in ReturnStatus],
        "preconditions": intentions.PRECONDITIONS,
        "informed_of": movements.INFORMED_OF,
        "required_for_facilitated": list(movements.REQUIRED_FOR_FACILITATED),
    }


# --- area assessments ------------------------------------------------------------------------

@router.post("/returns/assessments", response_model=AssessmentRead, status_code=201)
def assess(data: AssessmentCreate, principal: CurrentPrincipal, db: DbSession
           ) -> AssessmentRead:
    return service.create_assessment(db, actor=principal, data=data)


@router.get("/returns/assessments", response_model=list[AssessmentRead])
def list_assessments(principal: CurrentPrincipal, db: DbSession,
                     pcode: str | None = Query(default=None, max_length=20)
                     ) -> list[AssessmentRead]:
    return service.list_assessments(db, actor=principal, pcode=pcode)


@router.get("/returns/assessments/{assessment_id}", response_model=AssessmentRead)
def get_assessment(assessment_id: Id, principal: CurrentPrincipal, db: DbSession
                   ) -> AssessmentRead:
    return service.get_assessment(db, actor=principal, assessment_id=assessment_id)


@router.get("/returns/areas/{pcode}", response_model=AreaStatusRead)
def area_status(pcode: str, principal: CurrentPrincipal, db: DbSession) -> AreaStatusRead:
    """The area's return status and its history."""
    return service.area_status_read(db, actor=principal, pcode=pcode)


@router.get("/returns/areas/{pcode}/report", response_model=OriginReport)
def origin_report(pcode: str, principal: CurrentPrincipal, db: DbSession) -> OriginReport:
    return reports.origin_report(db, actor=principal, pcode=pcode)


# --- intentions ------------------------------------------------------------------------------

@router.post("/returns/intentions", response_model=IntentionRead, status_code=201)
def record_intention(data: IntentionCreate, principal: CurrentPrincipal, db: DbSession
                     ) -> IntentionRead:
    answer = intentions.record_intention(db, actor=principal, data=data)
    return IntentionRead.model_validate(answer)


@router.post("/returns/intentions/import", response_model=IntentionImportReport)
def import_intentions(
    principal: CurrentPrincipal, db: DbSession,
    file: Annotated[UploadFile, File(description="CSV or XLSX, e.g. a KoboToolbox export")],
    organisation: Annotated[str | None, Form(max_length=32)] = None,
) -> IntentionImportReport:
    """All rows or none: problems come back as ``error.details`` (row, column, reason)."""
    IMPORTS.check(principal, "import")
    filename = file.filename or "upload"
    if not filename.lower().endswith(_UPLOAD_TYPES):
        raise ValidationFailed("Upload a .csv or .xlsx file.", field="file")
    return intentions.import_intentions(db, actor=principal, data=file.file.read(),
                                        filename=filename, organisation=organisation)


@router.get("/returns/households/{household_id}/intentions", response_model=list[IntentionRead])
def household_intentions(household_id: Id, principal: CurrentPrincipal, db: DbSession
                         ) -> list[IntentionRead]:
    return [IntentionRead.model_validate(a) for a in
            intentions.list_intentions(db, actor=principal, household_id=household_id)]


# --- return movements ------------------------------------------------------------------------

@router.post("/returns", response_model=ReturnRead, status_code=201)
def record_return(data: ReturnCreate, request: Request, principal: CurrentPrincipal,
                  db: DbSession, settings: AppSettings) -> ReturnRead:
    """Record a voluntary return. A refused facilitated return answers 409 (403 for an
    override by a role that may not) and its refusal stays in the audit log."""
    try:
        movement = movements.record_return(db, actor=principal, data=data,
                                           cipher=FieldCipher.from_settings(settings))
    except HavensError as exc:
        if getattr(exc, "keep_writes", False):
            request.state.commit_on_error = True
        raise
    return movements.return_read(db, movement)


@router.get("/returns", response_model=list[ReturnRead])
def list_returns(principal: CurrentPrincipal, db: DbSession,
                 household_id: int | None = Query(default=None, ge=1, le=2_147_483_647)
                 ) -> list[ReturnRead]:
    """Returns of your organisation's households."""
    return [movements.return_read(db, m) for m in
            movements.list_returns(db, actor=principal, household_id=household_id)]


@router.get("/zones/{zone_id}/departures", response_model=ZoneDeparturesReport)
def zone_departures(zone_id: Id, principal: CurrentPrincipal, db: DbSession,
                    start: dt.date | None = None, end: dt.date | None = None
                    ) -> ZoneDeparturesReport:
    return reports.zone_departures(db, actor=principal, zone_id=zone_id, start=start, end=end)
