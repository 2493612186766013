"""Input and output shapes of the safety API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from havens.safety.incident_types import CASUALTY_KEYS, IncidentType
from havens.safety.status import SafetyStatus
from havens.schemas import Input

Count = int | str


class CasualtyCounts(BaseModel):
    """People killed or injured, by sex and age group (children 0–17, adults 18–59, older
    people 60+); ``unknown`` when sex or age was not reported."""

    model_config = ConfigDict(strict=True, extra="forbid")

    female_child: int = Field(default=0, ge=0, le=100_000)
    female_adult: int = Field(default=0, ge=0, le=100_000)
    female_older: int = Field(default=0, ge=0, le=100_000)
    male_child: int = Field(default=0, ge=0, le=100_000)
    male_adult: int = Field(default=0, ge=0, le=100_000)
    male_older: int = Field(default=0, ge=0, le=100_000)
    unknown: int = Field(default=0, ge=0, le=100_000)

    @property
    def total(self) -> int:
        return sum(getattr(self, key) for key in CASUALTY_KEYS)


class Casualties(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    killed: CasualtyCounts = Field(default_factory=CasualtyCounts)
    injured: CasualtyCounts = Field(default_factory=CasualtyCounts)


class IncidentCreate(Input):
    """Where: a zone (code), a point (placed in its zone) or a P-code near a zone — a point
    or P-code with a zone code ties the incident to that zone."""

    zone: str | None = Field(default=None, max_length=32, description="zone code")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    pcode: str | None = Field(default=None, max_length=20, description="admin P-code")
    occurred_at: dt.datetime = Field(strict=False, description="ISO 8601; UTC when no offset")
    incident_type: IncidentType = Field(strict=False)
    severity: int = Field(ge=1, le=4, description="1 minor, 2 moderate, 3 serious, 4 critical")
    casualties: Casualties = Field(default_factory=Casualties)
    narrative: str = Field(default="", max_length=20_000)
    sensitive: bool | None = Field(
        default=None, description="default: true for gbv and child_protection (always)")
    organisation: str | None = Field(default=None, max_length=32,
                                     description="reporting organisation (operator only)")
    external_ref: str | None = Field(default=None, max_length=100,
                                     description="the organisation's own reference")

    @model_validator(mode="after")
    def _point_complete(self) -> IncidentCreate:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        if not (self.zone or "").strip() and self.lon is None and not (self.pcode or "").strip():
            raise ValueError("say where: a zone code, a point (lon, lat) or a P-code")
        return self


class IncidentRead(BaseModel):
    """An incident as the caller may see it. ``restricted``: a sensitive incident shown
    without its narrative, place and casualties (the caller is not a protection officer of the
    reporting organisation)."""

    id: int
    zone_id: int
    zone_code: str
    occurred_at: dt.datetime
    incident_type: IncidentType
    severity: int
    severity_label: str
    organisation: str
    sensitive: bool
    restricted: bool
    inside_zone: bool
    site_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    pcode: str | None = None
    casualties: Casualties | None = None
    killed: int | None = None
    injured: int | None = None
    narrative: str | None = None
    external_ref: str | None = None
    breach: bool = False
    breach_agreement_version: int | None = None
    breach_commitment_ref: str | None = None
    breach_commitment: str | None = None
    breach_flag: str | None = None
    reported_at: dt.datetime


class RestrictedCount(BaseModel):
    """Sensitive incidents the caller may not see, counted: 1–4 shown as "<5", and "x" for a
    count withheld so that no "<5" can be worked out from the totals."""

    zone_code: str
    incident_type: IncidentType
    count: Count


class RestrictedTotals(BaseModel):
    """The totals of the restricted counts (per zone, per type, in all), under the same
    disclosure control."""

    by_zone: dict[str, Count] = Field(default_factory=dict)
    by_type: dict[IncidentType, Count] = Field(default_factory=dict)
    total: Count = 0


class IncidentList(BaseModel):
    items: list[IncidentRead]
    restricted: list[RestrictedCount]
    restricted_totals: RestrictedTotals = Field(default_factory=RestrictedTotals)


class ZoneSafetyRead(BaseModel):
    zone_id: int
    zone_code: str
    status: SafetyStatus
    as_of: dt.datetime
    reasons: list[str]
    armed_presence_14d: int
    critical_14d: int
    serious_30d: int
    breaches_30d: int
    rule: str


class ImportProblem(BaseModel):
    row: int
    column: str | None
    reason: str


class IncidentImportReport(BaseModel):
    rows: int
    created: int
    skipped_existing: int
    breaches: int
    incident_ids: list[int]
