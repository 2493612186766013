"""Input and output shapes of the data-sharing agreements API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from havens.people.models import ConsentPurpose
from havens.people.schemas import HouseholdRead
from havens.sharing.models import SharedField


class DsaCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    recipient: str = Field(max_length=32, description="Recipient organisation (acronym)")
    zone_code: str | None = Field(default=None, max_length=32,
                                  description="One zone, or none for all zones")
    purposes: list[Annotated[ConsentPurpose, Field(strict=False)]] = Field(min_length=1,
                                                                           max_length=6)
    fields: list[Annotated[SharedField, Field(strict=False)]] = Field(max_length=6)
    starts_on: dt.date = Field(strict=False)
    expires_on: dt.date = Field(strict=False)
    note: str | None = Field(default=None, max_length=2000)


class DsaRevoke(BaseModel):
    model_config = ConfigDict(strict=True)

    reason: str = Field(min_length=3, max_length=500)


class Signer(BaseModel):
    user_id: int | None
    at: dt.datetime | None


class DsaRead(BaseModel):
    id: int
    provider: str
    recipient: str
    zone_code: str | None
    purposes: list[str]
    fields: list[str]
    starts_on: dt.date
    expires_on: dt.date
    note: str | None
    status: str
    provider_signature: Signer
    recipient_signature: Signer
    revoked_at: dt.datetime | None
    revocation_reason: str | None


class SharedHousehold(BaseModel):
    """A household as the recipient of an agreement sees it: fields not granted are ``null``
    and named in ``masked``."""

    agreement_id: int
    purpose: str
    masked: list[str]
    household: HouseholdRead


class SharedPage(BaseModel):
    agreement_id: int
    purpose: str
    total: int
    page: int
    page_size: int
    items: list[SharedHousehold]
