"""HTTP API of assistance: 3W activities, measurements, standards, indicators, gaps,
commitments and chart data. Per-zone views hang under ``/zones/{zone_id}/...`` sub-paths."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, File, Query, UploadFile

from havens.api_types import ObjectId
from havens.assistance import (
    activities,
    activity_import,
    charts,
    commitments,
    gaps,
    indicators,
    service,
)
from havens.assistance.models import ActivityStatus, Sector
from havens.assistance.schemas import (
    ActivityCreate,
    ActivityRead,
    ActivityUpdate,
    AttestIn,
    CommitmentRead,
    ComplianceRead,
    GapRead,
    HistoryRead,
    ImportReport,
    IndicatorRead,
    MeasurementRead,
    MeasurementsIn,
    OverrideIn,
    OverrideRead,
    StandardRead,
    ZoneIndicatorsRead,
)
from havens.assistance.standards import IndicatorResult, ZoneFacts, activity_types, standards
from havens.exceptions import ValidationFailed
from havens.orgs.dependencies import CurrentPrincipal, DbSession
from havens.orgs.permissions import require
from havens.orgs.ratelimit import IMPORTS
from havens.orgs.uploads import check_upload

router = APIRouter(tags=["assistance"])
MAX_UPLOAD = 20 * 1024 * 1024


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def zone_read(facts: ZoneFacts, results: list[IndicatorResult], on: dt.date
              ) -> ZoneIndicatorsRead:
    return ZoneIndicatorsRead(
        zone_id=facts.zone_id, zone_code=facts.zone_code, zone_name=facts.zone_name, on=on,
        population=facts.population, population_source=facts.population_source,
        school_age=facts.school_age, emergency_phase=facts.emergency_phase,
        indicators=[IndicatorRead.model_validate(r, from_attributes=True) for r in results])


# --- standards -------------------------------------------------------------------------------

@router.get("/assistance/standards", response_model=list[StandardRead])
def list_standards(principal: CurrentPrincipal) -> list[StandardRead]:
    require(principal, "assistance.read")
    return [StandardRead(code=s.code, name=s.name, sector=s.sector, source=s.source,
                         citation=s.citation, direction=s.direction, threshold=s.threshold,
                         phase_thresholds=s.phase_thresholds, unit=s.unit, notes=list(s.notes))
            for s in standards().values()]


@router.get("/assistance/activity-types")
def list_activity_types(principal: CurrentPrincipal) -> dict[str, dict[str, str]]:
    require(principal, "assistance.read")
    return activity_types()


@router.get("/assistance/overrides", response_model=list[OverrideRead])
def list_overrides(principal: CurrentPrincipal, db: DbSession) -> list[OverrideRead]:
    return [OverrideRead.model_validate(o)
            for o in service.list_overrides(db, actor=principal)]


@router.post("/assistance/overrides", response_model=OverrideRead, status_code=201)
def create_override(data: OverrideIn, principal: CurrentPrincipal, db: DbSession
                    ) -> OverrideRead:
    return OverrideRead.model_validate(service.set_override(db, actor=principal, data=data))


# --- activities ------------------------------------------------------------------------------

@router.get("/assistance/activities", response_model=list[ActivityRead])
def list_activities(
    principal: CurrentPrincipal, db: DbSession,
    zone: str | None = Query(default=None, max_length=32, description="zone id or code"),
    sector: Sector | None = None, organisation: str | None = Query(default=None, max_length=40),
    status: ActivityStatus | None = None, on: dt.date | None = None,
    limit: int = Query(default=500, ge=1, le=5000), offset: int = Query(default=0, ge=0),
) -> list[ActivityRead]:
    found = activities.list_activities(db, actor=principal, zone=zone, sector=sector,
                                       organisation=organisation, status=status, on=on,
                                       limit=limit, offset=offset)
    codes = activities.zone_codes(db)
    return [activities.read(a, codes) for a in found]


@router.post("/assistance/activities", response_model=ActivityRead, status_code=201)
def create_activity(data: ActivityCreate, principal: CurrentPrincipal, db: DbSession
                    ) -> ActivityRead:
    activity = activities.create(db, actor=principal, data=data)
    return activities.read(activity, activities.zone_codes(db))


@router.post("/assistance/activities/import", response_model=ImportReport)
def import_activities(principal: CurrentPrincipal, db: DbSession,
                      file: UploadFile = File(...)) -> ImportReport:
    """A 3W sheet (CSV/XLSX, plain or HXL); 422 with the row errors, nothing saved, if any."""
    IMPORTS.check(principal, "import")
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ValidationFailed("The file is larger than 20 MB.", field="file")
    check_upload(file.filename or "upload.csv", data, max_bytes=MAX_UPLOAD)
    return activity_import.import_activities(db, actor=principal, data=data,
                                             filename=file.filename or "upload.csv")


@router.get("/assistance/activities/{activity_id}", response_model=ActivityRead)
def get_activity(activity_id: ObjectId, principal: CurrentPrincipal, db: DbSession) -> ActivityRead:
    return activities.read(activities.get(db, actor=principal, activity_id=activity_id),
                           activities.zone_codes(db))


@router.patch("/assistance/activities/{activity_id}", response_model=ActivityRead)
def update_activity(activity_id: ObjectId, data: ActivityUpdate, principal: CurrentPrincipal,
                    db: DbSession) -> ActivityRead:
    activity = activities.update(db, actor=principal, activity_id=activity_id, data=data)
    return activities.read(activity, activities.zone_codes(db))


# --- measurements and indicators -------------------------------------------------------------

@router.post("/assistance/measurements", response_model=list[MeasurementRead], status_code=201)
def record_measurements(data: MeasurementsIn, principal: CurrentPrincipal, db: DbSession
                        ) -> list[MeasurementRead]:
    rows = service.record_measurements(db, actor=principal, data=data)
    return [MeasurementRead.model_validate(r) for r in rows]


@router.get("/zones/{zone_id}/measurements", response_model=list[MeasurementRead])
def list_measurements(zone_id: ObjectId, principal: CurrentPrincipal, db: DbSession,
                      metric: str | None = Query(default=None, max_length=48),
                      start: dt.date | None = None, end: dt.date | None = None
                      ) -> list[MeasurementRead]:
    rows = service.list_measurements(db, actor=principal, zone=zone_id, metric=metric,
                                     start=start, end=end)
    return [MeasurementRead.model_validate(r) for r in rows]


@router.get("/zones/{zone_id}/indicators", response_model=ZoneIndicatorsRead)
def zone_indicators(zone_id: ObjectId, principal: CurrentPrincipal, db: DbSession,
                    on: dt.date | None = None) -> ZoneIndicatorsRead:
    day = on or _today()
    facts, results = indicators.zone_indicators(db, actor=principal, zone_id=zone_id, on=day)
    return zone_read(facts, results, day)


@router.get("/zones/{zone_id}/indicators/{standard}/series")
def indicator_series(zone_id: ObjectId, standard: str, principal: CurrentPrincipal, db: DbSession,
                     start: dt.date, end: dt.date | None = None) -> dict[str, Any]:
    return charts.indicator_series(db, actor=principal, zone_id=zone_id, standard=standard,
                                   start=start, end=end or _today())


@router.get("/assistance/indicators", response_model=list[ZoneIndicatorsRead])
def all_indicators(principal: CurrentPrincipal, db: DbSession, on: dt.date | None = None
                   ) -> list[ZoneIndicatorsRead]:
    day = on or _today()
    return [zone_read(f, r, day) for f, r in indicators.all_indicators(db, actor=principal,
                                                                      on=day)]


@router.get("/assistance/gaps", response_model=list[GapRead])
def list_gaps(principal: CurrentPrincipal, db: DbSession, on: dt.date | None = None,
              sector: Sector | None = None, zone_id: int | None = None) -> list[GapRead]:
    return gaps.gaps(db, actor=principal, on=on or _today(),
                     sector=sector.value if sector else None, zone_id=zone_id)


@router.get("/assistance/coverage")
def coverage(principal: CurrentPrincipal, db: DbSession, on: dt.date | None = None,
             zone_id: int | None = None) -> list[dict[str, Any]]:
    return gaps.coverage(db, actor=principal, on=on or _today(), zone_id=zone_id)


@router.get("/assistance/charts/gaps")
def gap_bars(principal: CurrentPrincipal, db: DbSession, on: dt.date | None = None,
             sector: Sector | None = None) -> list[dict[str, Any]]:
    return charts.gap_bars(db, actor=principal, on=on or _today(),
                           sector=sector.value if sector else None)


# --- commitments -----------------------------------------------------------------------------

@router.get("/assistance/commitments", response_model=list[CommitmentRead])
def list_commitments(principal: CurrentPrincipal, db: DbSession, on: dt.date | None = None,
                     zone_id: int | None = None, organisation_id: int | None = None
                     ) -> list[CommitmentRead]:
    return commitments.statuses(db, actor=principal, on=on or _today(), zone_id=zone_id,
                                organisation_id=organisation_id)


@router.post("/assistance/commitments/refresh", response_model=list[CommitmentRead])
def refresh_commitments(principal: CurrentPrincipal, db: DbSession, on: dt.date | None = None,
                        zone_id: int | None = None) -> list[CommitmentRead]:
    """Record the commitments whose status changed (returns only those)."""
    return commitments.refresh(db, actor=principal, on=on or _today(), zone_id=zone_id)


@router.post("/assistance/commitments/{agreement_id}/{ref}/attestations",
             response_model=HistoryRead, status_code=201)
def attest(agreement_id: ObjectId, ref: str, data: AttestIn, principal: CurrentPrincipal,
           db: DbSession) -> HistoryRead:
    row = commitments.attest(db, actor=principal, agreement_id=agreement_id, ref=ref, data=data)
    return HistoryRead.model_validate(row)


@router.get("/assistance/commitments/{agreement_id}/{ref}/history",
            response_model=list[HistoryRead])
def commitment_history(agreement_id: ObjectId, ref: str, principal: CurrentPrincipal,
                       db: DbSession) -> list[HistoryRead]:
    return [HistoryRead.model_validate(r) for r in commitments.history(
        db, actor=principal, agreement_id=agreement_id, ref=ref)]


@router.get("/assistance/compliance", response_model=list[ComplianceRead])
def compliance(principal: CurrentPrincipal, db: DbSession, on: dt.date | None = None,
               organisation_id: int | None = None) -> list[ComplianceRead]:
    return commitments.compliance(db, actor=principal, on=on or _today(),
                                  organisation_id=organisation_id)
