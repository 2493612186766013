"""Input and output shapes of the agreements API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from havens.agreements.models import PartyRole, VersionStatus
from havens.zones.models import ZoneStatus

_FLAG = r"^[a-z][a-z0-9_]{0,63}$"


class PartyIn(BaseModel):
    model_config = ConfigDict(strict=True)

    organisation: str = Field(min_length=2, max_length=32, description="acronym")
    role: PartyRole = Field(strict=False)
    required_signer: bool = Field(
        default=False, description="host government and administrator always are")


class CommitmentIn(BaseModel):
    model_config = ConfigDict(strict=True)

    ref: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
                            description="stable across versions; generated when missing")
    party: str = Field(min_length=2, max_length=32, description="acronym of a party")
    what: str = Field(min_length=3, max_length=2000)
    indicator: str | None = Field(default=None, pattern=_FLAG, description="e.g. water_lpd")
    target: str | int | float | None = Field(default=None, description="a number")
    unit: str | None = Field(default=None, max_length=32)
    due_date: dt.date | None = Field(default=None, strict=False)


class TermsIn(BaseModel):
    """The terms of one version. The administrator and supporting organisations are the parties
    with those roles."""

    model_config = ConfigDict(strict=True)

    parties: list[PartyIn] = Field(min_length=2, max_length=50)
    security_arrangement: str = Field(default="", max_length=10_000)
    security_flags: list[str] = Field(default_factory=list, max_length=50,
                                      description="e.g. no_armed_presence")
    services: list[str] = Field(default_factory=list, max_length=100,
                                description="services committed, e.g. water, shelter")
    start_date: dt.date = Field(strict=False)
    end_date: dt.date = Field(strict=False)
    notice_period_days: int = Field(ge=0, le=3650)
    commitments: list[CommitmentIn] = Field(default_factory=list, max_length=500)
    extra_required_signers: list[str] = Field(default_factory=list, max_length=50,
                                              description="acronyms of parties")
    note: str | None = Field(default=None, max_length=2000, description="what changed, in words")

    @model_validator(mode="after")
    def _dates_in_order(self) -> TermsIn:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class AgreementPropose(TermsIn):
    zone: str = Field(min_length=1, max_length=32, description="zone code, e.g. SZ-SY07-001")


class SignatureIn(BaseModel):
    model_config = ConfigDict(strict=True)

    key_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    signature: str = Field(min_length=80, max_length=100, description="base64 Ed25519")


class WithdrawIn(BaseModel):
    model_config = ConfigDict(strict=True)

    reason: str = Field(min_length=5, max_length=5000)
    withdrawn_on: dt.date | None = Field(default=None, strict=False)


class TransitionIn(BaseModel):
    model_config = ConfigDict(strict=True)

    to: ZoneStatus = Field(strict=False)
    reason: str = Field(min_length=3, max_length=2000)


class KeyIn(BaseModel):
    model_config = ConfigDict(strict=True)

    public_key: str = Field(min_length=40, max_length=400,
                            description="Ed25519 public key: base64 raw bytes or PEM")


# --- output ----------------------------------------------------------------------------------

class OrgRef(BaseModel):
    id: int
    acronym: str


class PartyRead(BaseModel):
    organisation: OrgRef
    role: PartyRole
    required_signer: bool
    signed: bool


class SignatureRead(BaseModel):
    organisation: OrgRef
    key_id: str
    signature: str
    signed_hash: str
    signer_user_id: int | None
    server_held: bool
    signed_at: dt.datetime


class CommitmentRead(BaseModel):
    id: int
    ref: str
    party: OrgRef
    what: str
    indicator: str | None
    target: str | None
    unit: str | None
    due_date: dt.date | None


class VersionRead(BaseModel):
    id: int
    number: int
    status: VersionStatus
    in_force: bool
    hash: str
    signing_message: str
    canonical_terms: str
    terms: dict[str, Any]
    note: str | None
    start_date: dt.date
    end_date: dt.date
    created_at: dt.datetime
    fully_signed_at: dt.datetime | None
    parties: list[PartyRead]
    signatures: list[SignatureRead]
    pending_signers: list[OrgRef]
    commitments: list[CommitmentRead]


class VersionSummary(BaseModel):
    number: int
    status: VersionStatus
    in_force: bool
    hash: str
    start_date: dt.date
    end_date: dt.date
    fully_signed_at: dt.datetime | None


class WithdrawalRead(BaseModel):
    organisation: OrgRef
    withdrawn_on: dt.date
    notice_end: dt.date
    reason: str
    version_number: int | None


class AgreementRead(BaseModel):
    id: int
    zone_id: int
    zone_code: str
    zone_status: ZoneStatus
    zone_status_reason: str | None
    closing_date: dt.date | None
    version_in_force: int | None
    administrator: OrgRef | None
    versions: list[VersionSummary]
    withdrawals: list[WithdrawalRead]


class ChangeRead(BaseModel):
    path: str
    change: str
    old: Any = None
    new: Any = None


class DiffRead(BaseModel):
    agreement_id: int
    from_version: int
    to_version: int
    changes: list[ChangeRead]


class ZoneStatusRead(BaseModel):
    zone_code: str
    status: ZoneStatus
    status_reason: str | None
    closing_date: dt.date | None


class KeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    key_id: str
    public_key: str
    server_held: bool
    created_at: dt.datetime
    revoked_at: dt.datetime | None
