from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from havens.orgs.models import OrgKind, Role


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    name: str = Field(min_length=2, max_length=200)
    name_ar: str | None = Field(default=None, max_length=200)
    acronym: str = Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9&._-]*$")
    kind: OrgKind = Field(strict=False)  # strict models take enums only as values from JSON
    country: str = Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    name_ar: str | None
    acronym: str
    kind: OrgKind
    country: str


class UserCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    email: EmailStr
    display_name: str = Field(min_length=1, max_length=200)
    organisation: str = Field(description="acronym of the user's organisation")
    role: Role = Field(strict=False)
    password: str = Field(min_length=12, max_length=256)


class UserUpdate(BaseModel):
    model_config = ConfigDict(strict=True)

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = Field(default=None, strict=False)
    is_active: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    organisation_id: int
    role: Role
    is_active: bool
    last_login_at: dt.datetime | None


class TokenCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="the token itself; shown once, never again")


class LoginRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class Me(BaseModel):
    user: UserRead
    organisation: OrganisationRead
