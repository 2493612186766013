"""API shapes of the review queue: candidate pairs, their detail side by side, merges, runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from havens.linkage.models import Decision


class DecisionRequest(BaseModel):
    """Body of confirm / reject (optional): why the reviewer decided so."""

    model_config = ConfigDict(strict=True)

    note: str | None = Field(default=None, max_length=500)


class CandidateRead(BaseModel):
    """A pair in the queue: ids, probability and per-field agreement levels — no personal data."""

    id: int
    run_id: int
    individual_l_id: int
    individual_r_id: int
    match_probability: float
    levels: dict[str, int]
    model_version: str
    decision: Decision
    decided_at: dt.datetime | None
    created_at: dt.datetime


class CandidatePage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[CandidateRead]


class FieldAgreement(BaseModel):
    """How one field compares: its level (-1 = missing on a side), label and match weight."""

    field: str
    level: int
    label: str
    #: log2 evidence for a match from this level (model fields only; parts of the lineage are
    #: shown for the reviewer but scored together as ``lineage``).
    weight: float | None = None


class PairRecord(BaseModel):
    """One side of a pair, as the reviewer compares it."""

    individual_id: int
    organisation: str
    household_id: int
    registration_number: str
    site_code: str
    relationship: str
    given_name_ar: str | None
    father_name_ar: str | None
    grandfather_name_ar: str | None
    family_name_ar: str | None
    given_name_en: str | None
    father_name_en: str | None
    grandfather_name_en: str | None
    family_name_en: str | None
    sex: str
    date_of_birth: dt.date | None = Field(description="empty when only the year is known")
    birth_year: int
    dob_estimated: bool
    origin_pcode: str | None
    has_phone: bool
    has_document: bool
    #: The individual this one is merged into (active merge), if any.
    merged_into_id: int | None = None


class CandidateDetail(BaseModel):
    pair: CandidateRead
    left: PairRecord
    right: PairRecord
    agreement: list[FieldAgreement]


class HouseholdMergeRead(BaseModel):
    id: int
    kept_household_id: int
    merged_household_id: int
    merged_at: dt.datetime
    unmerged_at: dt.datetime | None


class MergeRead(BaseModel):
    id: int
    pair_id: int
    kept_id: int
    merged_id: int
    merged_at: dt.datetime
    unmerged_at: dt.datetime | None
    household_merges: list[HouseholdMergeRead] = []


class RunRead(BaseModel):
    id: int
    organisation_id: int | None
    incremental: bool
    records: int
    new_records: int
    candidate_pairs: int
    proposed: int
    kept_apart: int
    threshold: float
    model_version: str
    model_trained: bool
    seconds: float
    started_at: dt.datetime
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, run: Any) -> RunRead:
        return cls.model_validate(run, from_attributes=True)
