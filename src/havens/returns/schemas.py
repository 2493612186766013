"""Input and output shapes of the returns API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from havens.returns.criteria import Criterion, Rating, ReturnStatus
from havens.returns.models import Intention, ReturnKind, TransportSupport
from havens.schemas import Input

Count = int | str
_DATE = Field(strict=False)
MAX_ID = 2_147_483_647  # ids are 32-bit integers on both databases


# --- area assessments ------------------------------------------------------------------------

class CriterionIn(Input):
    criterion: Criterion = Field(strict=False)
    rating: Rating = Field(strict=False)
    notes: str | None = Field(default=None, max_length=5000)


class AssessmentCreate(Input):
    """Criteria left out are rated ``unknown``."""

    pcode: str = Field(min_length=2, max_length=20, description="admin3 P-code of the area")
    assessed_on: dt.date = _DATE
    criteria: list[CriterionIn] = Field(max_length=8)
    notes: str | None = Field(default=None, max_length=10_000)
    organisation: str | None = Field(default=None, max_length=32,
                                     description="assessing organisation (operator only)")


class CriterionRead(BaseModel):
    criterion: Criterion
    label_en: str
    label_ar: str
    rating: Rating
    notes: str | None


class AssessmentRead(BaseModel):
    id: int
    pcode: str
    area_name_en: str
    area_name_ar: str | None
    assessed_on: dt.date
    organisation: str
    criteria: list[CriterionRead]
    status: ReturnStatus
    status_reason: str
    notes: str | None


class StatusChange(BaseModel):
    assessed_on: dt.date
    status: ReturnStatus
    organisation: str
    assessment_id: int
    changed: bool = Field(description="the status differs from the assessment before")


class AreaStatusRead(BaseModel):
    pcode: str
    area_name_en: str
    area_name_ar: str | None
    status: str = Field(description="not_conducive, partly_conducive, conducive or not_assessed")
    status_reason: str | None
    assessment_id: int | None
    assessed_on: dt.date | None
    history: list[StatusChange]


# --- intentions ------------------------------------------------------------------------------

class IntentionCreate(Input):
    household_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    registration_number: str | None = Field(default=None, max_length=48)
    surveyed_on: dt.date = _DATE
    intention: Intention = Field(strict=False)
    preconditions: list[str] = Field(default_factory=list, max_length=20)
    destination_pcode: str | None = Field(default=None, max_length=20,
                                          description="default: the household's origin")
    notes: str | None = Field(default=None, max_length=5000)
    external_ref: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _household_named(self) -> IntentionCreate:
        if self.household_id is None and not self.registration_number:
            raise ValueError("name the household: household_id or registration_number")
        return self


class IntentionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    household_id: int
    surveyed_on: dt.date
    intention: Intention
    preconditions: list[str]
    destination_pcode: str | None
    notes: str | None
    external_ref: str | None


class ImportProblem(BaseModel):
    row: int
    column: str | None
    reason: str


class IntentionImportReport(BaseModel):
    rows: int
    created: int
    skipped_existing: int


# --- return movements ------------------------------------------------------------------------

class ConsentIn(Input):
    """Informed consent to return: who informed the household, when, and of what."""

    informed_by: str = Field(min_length=2, max_length=200, description="name and role")
    informed_on: dt.date = _DATE
    informed_of: list[str] = Field(min_length=1, max_length=20)
    given_by: str = Field(default="head", max_length=100,
                          description="who consented: head, spouse, guardian…")
    notes: str | None = Field(default=None, max_length=2000)


class ReturnCreate(Input):
    household_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    registration_number: str | None = Field(default=None, max_length=48)
    kind: ReturnKind = Field(strict=False)
    facilitated_by: str | None = Field(default=None, max_length=32,
                                       description="acronym of the organising agency")
    destination_pcode: str | None = Field(default=None, max_length=20,
                                          description="default: the household's origin")
    returned_on: dt.date = _DATE
    voluntary: bool = Field(description="the household decided freely to return")
    consent: ConsentIn | None = None
    transport_support: TransportSupport = Field(default=TransportSupport.none, strict=False)
    transport_details: str | None = Field(default=None, max_length=2000)
    override_reason: str | None = Field(
        default=None, max_length=5000,
        description="coordinators: why a facilitated return to a not conducive area goes ahead")

    @model_validator(mode="after")
    def _household_named(self) -> ReturnCreate:
        if self.household_id is None and not self.registration_number:
            raise ValueError("name the household: household_id or registration_number")
        return self


class ReturnRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    household_id: int
    kind: ReturnKind
    facilitated_by: str | None = None
    from_site_id: int
    from_zone_id: int | None
    destination_pcode: str
    returned_on: dt.date
    individuals: int
    voluntary: bool
    consent_recorded: bool
    informed_by: str | None
    informed_on: dt.date | None
    informed_of: list[str]
    consent_given_by: str | None
    transport_support: TransportSupport
    transport_details: str | None
    area_status: str
    assessment_id: int | None
    overridden: bool
    override_reason: str | None
    movement_id: int | None


# --- reports ---------------------------------------------------------------------------------

class ZoneCount(BaseModel):
    zone_code: str | None
    households: Count
    individuals: Count


class MonthCount(BaseModel):
    month: str
    facilitated: Count
    spontaneous: Count
    individuals: Count


class OriginReport(BaseModel):
    pcode: str
    area_name_en: str
    area_name_ar: str | None
    suppressed: bool
    displaced: list[ZoneCount]
    displaced_total: ZoneCount
    intentions: dict[str, Count]
    preconditions: dict[str, Count]
    returns_by_month: list[MonthCount]
    status: AreaStatusRead


class AreaCount(BaseModel):
    pcode: str
    households: Count
    individuals: Count


class DestinationCount(BaseModel):
    destination_type: str
    households: Count
    individuals: Count


class ZoneDeparturesReport(BaseModel):
    zone_id: int
    zone_code: str
    start: dt.date | None
    end: dt.date | None
    suppressed: bool
    departures: list[DestinationCount]
    returns_by_area: list[AreaCount] = Field(
        description="return movements recorded from this zone, by destination area")
