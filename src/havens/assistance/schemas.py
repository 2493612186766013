"""Input and output shapes of the assistance API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from havens.assistance.models import ActivityStatus, CommitmentState, Sector


class _In(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Reached(_In):
    """People reached; any split given must add up to the total when both are given."""

    total: int | None = Field(default=None, ge=0)
    girls: int | None = Field(default=None, ge=0)
    boys: int | None = Field(default=None, ge=0)
    women: int | None = Field(default=None, ge=0)
    men: int | None = Field(default=None, ge=0)
    older_women: int | None = Field(default=None, ge=0)
    older_men: int | None = Field(default=None, ge=0)


class ActivityCreate(_In):
    implementing_org: str = Field(min_length=1, max_length=40, description="acronym")
    funding_org: str | None = Field(default=None, max_length=200,
                                    description="acronym, or a donor's name")
    sector: Sector = Field(strict=False)
    activity_type: str = Field(min_length=1, max_length=100)
    zone: str | int
    site: str | None = Field(default=None, max_length=32, description="site code (CP...)")
    start_date: dt.date = Field(strict=False)
    end_date: dt.date | None = Field(default=None, strict=False)
    quantity: float | None = Field(default=None, ge=0)
    unit: str | None = Field(default=None, max_length=32)
    reached: Reached = Field(default_factory=Reached)
    status: ActivityStatus = Field(default=ActivityStatus.ongoing, strict=False)
    notes: str | None = Field(default=None, max_length=2000)


class ActivityUpdate(_In):
    status: ActivityStatus | None = Field(default=None, strict=False)
    end_date: dt.date | None = Field(default=None, strict=False)
    quantity: float | None = Field(default=None, ge=0)
    reached: Reached | None = None
    notes: str | None = Field(default=None, max_length=2000)


class ActivityRead(BaseModel):
    id: int
    implementing_org: str
    funding_org: str | None
    sector: Sector
    activity_type: str
    activity_label: str
    zone_id: int
    zone_code: str
    site_id: int | None
    start_date: dt.date
    end_date: dt.date | None
    quantity: float | None
    unit: str | None
    reached: dict[str, int | None]
    status: ActivityStatus
    notes: str | None


class ImportErrorRow(BaseModel):
    row: int
    column: str | None
    reason: str


class ImportReport(BaseModel):
    rows: int
    created: int
    errors: list[ImportErrorRow]
    columns: dict[str, str]
    ignored_columns: list[str]
    already_imported: bool = False


class MeasurementsIn(_In):
    zone: str | int
    measured_on: dt.date = Field(strict=False)
    values: dict[str, float] = Field(min_length=1)
    source: str | None = Field(default=None, max_length=200)


class MeasurementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    zone_id: int
    metric: str
    measured_on: dt.date
    value: float
    source: str | None
    organisation_id: int | None


class OverrideIn(_In):
    standard: str
    threshold: float | None = Field(description="None restores the handbook value")
    reason: str = Field(max_length=2000)
    zone: str | int | None = Field(default=None, description="None: every zone")
    phase: Literal["emergency", "stabilised"] | None = None
    valid_from: dt.date = Field(default_factory=dt.date.today, strict=False)


class OverrideRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    standard_code: str
    zone_id: int | None
    phase: str | None
    threshold: float | None
    valid_from: dt.date
    reason: str
    set_by_user_id: int | None
    set_by_org_id: int | None
    created_at: dt.datetime


class StandardRead(BaseModel):
    code: str
    name: str
    sector: str
    source: dict[str, str]
    citation: str
    direction: str
    threshold: float
    phase_thresholds: dict[str, float]
    unit: str
    notes: list[str]


class IndicatorRead(BaseModel):
    standard: str
    name: str
    sector: str
    citation: str
    value: float | None
    threshold: float
    threshold_source: str
    unit: str
    direction: str
    status: Literal["met", "not_met", "unknown"]
    reason: str
    gap: float | None
    gap_unit: str
    inputs: dict[str, Any]


class ZoneIndicatorsRead(BaseModel):
    zone_id: int
    zone_code: str
    zone_name: str
    on: dt.date
    population: int | None
    population_source: str | None
    school_age: int | None
    emergency_phase: bool
    indicators: list[IndicatorRead]


class GapRead(BaseModel):
    rank: int
    zone_id: int
    zone_code: str
    sector: str
    standard: str
    name: str
    value: float | None
    threshold: float
    unit: str
    gap: float
    gap_unit: str
    share_missing: float
    text: str


class AttestIn(_In):
    status: CommitmentState = Field(strict=False)
    evidence: str = Field(min_length=1, max_length=4000)
    evidence_url: str | None = Field(default=None, max_length=500,
                                     pattern=r"^https?://")
    effective_on: dt.date = Field(default_factory=dt.date.today, strict=False)


class CommitmentRead(BaseModel):
    agreement_id: int
    zone_id: int
    zone_code: str
    ref: str
    party: str
    organisation_id: int
    what: str
    indicator: str | None
    target: float | None
    unit: str | None
    due_date: dt.date | None
    status: CommitmentState
    basis: str
    value: float | None
    reason: str
    since: dt.date | None
    evidence: str | None = None
    evidence_url: str | None = None


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: CommitmentState
    effective_on: dt.date
    basis: str
    value: float | None
    target: float | None
    reason: str
    evidence: str | None
    evidence_url: str | None
    created_at: dt.datetime


class ComplianceRead(BaseModel):
    organisation_id: int
    party: str
    on: dt.date
    counts: dict[str, int]
    commitments: list[CommitmentRead]
