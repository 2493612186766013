"""Input and output shapes of the people API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from havens.people.models import (
    ConsentPurpose,
    DestinationType,
    DocumentType,
    HouseholdStatus,
    Relationship,
    Sex,
)

_DATE = Field(strict=False)


class ConsentIn(BaseModel):
    model_config = ConfigDict(strict=True)

    registration: bool
    sharing: bool = False
    purposes: list[Annotated[ConsentPurpose, Field(strict=False)]] = Field(default_factory=list)
    given_by: str = Field(default="head", max_length=100,
                          description="Who consented: head, spouse, guardian...")


class IndividualCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    relationship: Relationship = Field(strict=False)
    given_name_ar: str | None = Field(default=None, max_length=100)
    father_name_ar: str | None = Field(default=None, max_length=100)
    grandfather_name_ar: str | None = Field(default=None, max_length=100)
    family_name_ar: str | None = Field(default=None, max_length=100)
    given_name_en: str | None = Field(default=None, max_length=100)
    father_name_en: str | None = Field(default=None, max_length=100)
    grandfather_name_en: str | None = Field(default=None, max_length=100)
    family_name_en: str | None = Field(default=None, max_length=100)
    sex: Sex = Field(strict=False)
    date_of_birth: dt.date | None = Field(default=None, strict=False)
    birth_year: int | None = Field(default=None, ge=1900, le=2100,
                                   description="When only the year is known (estimated).")
    dob_estimated: bool = False
    specific_needs: list[str] = Field(default_factory=list, max_length=20)
    phone: str | None = Field(default=None, max_length=40)
    document_type: DocumentType | None = Field(default=None, strict=False)
    document_number: str | None = Field(default=None, max_length=60)


class HouseholdCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    site_code: str = Field(max_length=32)
    household_ref: str | None = Field(
        default=None, max_length=100,
        description="Your own key for the household; registering it twice is refused.")
    origin_pcode: str | None = Field(default=None, max_length=20, description="admin3 P-code")
    origin_locality: str | None = Field(default=None, max_length=200)
    displacement_date: dt.date | None = Field(default=None, strict=False)
    arrival_date: dt.date = _DATE
    shelter_lon: float | None = Field(default=None, ge=-180, le=180)
    shelter_lat: float | None = Field(default=None, ge=-90, le=90)
    consent: ConsentIn
    members: list[IndividualCreate] = Field(min_length=1, max_length=60)


class HouseholdUpdate(BaseModel):
    """The fields sent change, with the rules of registration; null clears an optional field,
    and ``consent`` (required) refuses it. Other fields are refused by name: the site and the
    status change through a move or a departure."""

    model_config = ConfigDict(strict=True, extra="forbid")

    origin_pcode: str | None = Field(default=None, max_length=20)
    origin_locality: str | None = Field(default=None, max_length=200)
    displacement_date: dt.date | None = Field(default=None, strict=False)
    shelter_lon: float | None = Field(default=None, ge=-180, le=180)
    shelter_lat: float | None = Field(default=None, ge=-90, le=90)
    consent: ConsentIn | None = None


class IndividualUpdate(BaseModel):
    """The fields sent change, with the rules of registration; null clears an optional field,
    and the required ones (relationship, sex, date_of_birth, dob_estimated) refuse it. A date of
    birth sent without ``dob_estimated`` is exact, as in a registration."""

    model_config = ConfigDict(strict=True, extra="forbid")

    relationship: Relationship | None = Field(default=None, strict=False)
    given_name_ar: str | None = Field(default=None, max_length=100)
    father_name_ar: str | None = Field(default=None, max_length=100)
    grandfather_name_ar: str | None = Field(default=None, max_length=100)
    family_name_ar: str | None = Field(default=None, max_length=100)
    given_name_en: str | None = Field(default=None, max_length=100)
    father_name_en: str | None = Field(default=None, max_length=100)
    grandfather_name_en: str | None = Field(default=None, max_length=100)
    family_name_en: str | None = Field(default=None, max_length=100)
    sex: Sex | None = Field(default=None, strict=False)
    date_of_birth: dt.date | None = Field(default=None, strict=False)
    dob_estimated: bool | None = None
    specific_needs: list[str] | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=40)
    document_type: DocumentType | None = Field(default=None, strict=False)
    document_number: str | None = Field(default=None, max_length=60)


class MoveRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    to_site_code: str = Field(max_length=32)
    moved_on: dt.date = _DATE
    details: str | None = Field(default=None, max_length=1000)


class DepartRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    destination_type: DestinationType = Field(strict=False)
    moved_on: dt.date = _DATE
    to_site_code: str | None = Field(default=None, max_length=32,
                                     description="For other_site / other_zone, if known.")
    destination_pcode: str | None = Field(default=None, max_length=20)
    destination_country: str | None = Field(default=None, min_length=3, max_length=3,
                                            description="ISO alpha-3, for abroad")
    details: str | None = Field(default=None, max_length=1000)


class MergedInto(BaseModel):
    """The record a merged-away individual or household now counts as (the merge is
    reversible, so the merged record is kept and read as it was)."""

    household_id: int
    individual_id: int | None = None
    organisation: str
    #: Shown when the record kept is the reader's own organisation's.
    registration_number: str | None = None


class IndividualRead(BaseModel):
    id: int
    relationship: Relationship
    given_name_ar: str | None
    father_name_ar: str | None
    grandfather_name_ar: str | None
    family_name_ar: str | None
    given_name_en: str | None
    father_name_en: str | None
    grandfather_name_en: str | None
    family_name_en: str | None
    sex: Sex
    date_of_birth: dt.date | None
    birth_year: int
    dob_estimated: bool
    specific_needs: list[str]
    phone: str | None
    document_type: DocumentType | None
    document_number: str | None
    #: Set when this individual was found to be the same person as another one.
    merged_into: MergedInto | None = None


class HouseholdRead(BaseModel):
    id: int
    registration_number: str
    household_ref: str | None
    site_code: str
    organisation: str
    origin_pcode: str | None
    origin_locality: str | None
    displacement_date: dt.date | None
    arrival_date: dt.date
    shelter_lon: float | None
    shelter_lat: float | None
    status: HouseholdStatus
    consent_registration: bool
    consent_sharing: bool
    consent_purposes: list[str]
    consent_given_by: str | None
    consent_at: dt.datetime | None
    members: list[IndividualRead]
    #: Set when every member was merged into members of another household.
    merged_into: MergedInto | None = None


class SearchPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[HouseholdRead]


class ImportProblem(BaseModel):
    row: int
    column: str
    reason: str


class ImportReport(BaseModel):
    filename: str
    fingerprint: str
    rows: int
    valid_rows: int
    problems: list[ImportProblem]
    skipped_rows: list[int]
    written: bool
    already_imported: bool = False
    households_created: int = 0
    individuals_created: int = 0
    rows_already_present: int = 0
    ignored_columns: list[str] = Field(default_factory=list)
    mapping: dict[str, str] = Field(default_factory=dict)
