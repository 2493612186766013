"""Input and output shapes of zones, sites and reported population."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from havens.zones.models import SiteStatus, SiteType, ZoneStatus

_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"


class ZoneCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    code: str | None = Field(default=None, pattern=_CODE,
                             description="e.g. SZ-SY07-001; generated from the first P-code "
                                         "when left out")
    name_en: str = Field(min_length=2, max_length=200)
    name_ar: str | None = Field(default=None, max_length=200)
    admin_pcodes: list[str] = Field(min_length=1, max_length=200)
    boundary: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon, longitude/latitude")
    emergency_phase: bool = False


class ZoneUpdate(BaseModel):
    """Changes to a zone. Its status moves only with its agreement (never through here)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    code: str | None = Field(default=None, pattern=_CODE)
    name_en: str | None = Field(default=None, min_length=2, max_length=200)
    name_ar: str | None = Field(default=None, max_length=200)
    admin_pcodes: list[str] | None = Field(default=None, min_length=1, max_length=200)
    boundary: dict[str, Any] | None = None
    emergency_phase: bool | None = None

    #: Present only to refuse it with a clear message naming the field.
    status: Any = Field(default=None, exclude=True, json_schema_extra={"readOnly": True})

    @field_validator("status", mode="before")
    @classmethod
    def _no_status(cls, value: Any) -> Any:
        raise ValueError("a zone's status changes only through its agreement (negotiate, "
                         "sign, withdraw), not by editing the zone")


class ZoneRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name_en: str
    name_ar: str | None
    status: ZoneStatus
    status_reason: str | None
    status_changed_at: dt.datetime | None
    closing_date: dt.date | None
    admin_pcodes: list[str]
    boundary: dict[str, Any] | None
    area_m2: float | None
    bbox: list[float] | None = None
    emergency_phase: bool
    site_count: int = 0
    capacity: int | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class SiteCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    code: str | None = Field(default=None, pattern=_CODE,
                             description="CP + 6 digits in NW Syria; generated when left out")
    name_en: str = Field(min_length=1, max_length=300)
    name_ar: str | None = Field(default=None, max_length=300)
    site_type: SiteType = Field(strict=False)
    status: SiteStatus = Field(default=SiteStatus.open, strict=False)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    boundary: dict[str, Any] | None = None
    admin1_pcode: str | None = Field(default=None, max_length=20)
    admin2_pcode: str | None = Field(default=None, max_length=20)
    admin3_pcode: str | None = Field(default=None, max_length=20)
    community_pcode: str | None = Field(default=None, max_length=20)
    managing_agency: str | None = Field(
        default=None, max_length=200,
        description="acronym or name; linked to the organisation when it is one in Havens")
    declared_area_m2: float | None = Field(default=None, gt=0)
    declared_capacity: int | None = Field(default=None, ge=0)
    capacity_justification: str | None = Field(default=None, max_length=2000)


class SiteUpdate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    code: str | None = Field(default=None, pattern=_CODE)
    name_en: str | None = Field(default=None, min_length=1, max_length=300)
    name_ar: str | None = Field(default=None, max_length=300)
    site_type: SiteType | None = Field(default=None, strict=False)
    status: SiteStatus | None = Field(default=None, strict=False)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    boundary: dict[str, Any] | None = None
    admin1_pcode: str | None = Field(default=None, max_length=20)
    admin2_pcode: str | None = Field(default=None, max_length=20)
    admin3_pcode: str | None = Field(default=None, max_length=20)
    community_pcode: str | None = Field(default=None, max_length=20)
    managing_agency: str | None = Field(default=None, max_length=200)
    declared_area_m2: float | None = Field(default=None, gt=0)
    declared_capacity: int | None = Field(default=None, ge=0)
    capacity_justification: str | None = Field(default=None, max_length=2000)


class SiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name_en: str
    name_ar: str | None
    site_type: SiteType
    status: SiteStatus
    lon: float
    lat: float
    location_estimated: bool
    boundary: dict[str, Any] | None
    admin1_pcode: str | None
    admin2_pcode: str | None
    admin3_pcode: str | None
    community_pcode: str | None
    managing_org_id: int | None
    managing_org: str | None = Field(default=None, description="acronym")
    managing_agency: str | None
    zone_id: int | None
    zone_code: str | None = None
    outside_zone: bool = Field(description="no zone holds the site's point")
    area_m2: float | None
    declared_area_m2: float | None
    declared_capacity: int | None
    capacity_justification: str | None
    capacity: int | None = Field(default=None, description="Sphere 45 m²/person or declared")
    created_at: dt.datetime
    updated_at: dt.datetime


class PopulationCreate(BaseModel):
    """Population of a site on a date, as site monitoring reported it."""

    model_config = ConfigDict(strict=True)

    reported_on: dt.date = Field(strict=False)
    girls: int = Field(default=0, ge=0)
    boys: int = Field(default=0, ge=0)
    women: int = Field(default=0, ge=0)
    men: int = Field(default=0, ge=0)
    families: int | None = Field(default=None, ge=0)
    source: str | None = Field(default=None, max_length=200)


class PopulationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    reported_on: dt.date
    girls: int
    boys: int
    women: int
    men: int
    individuals: int
    families: int | None
    source: str | None
    basis: str = "reported"


class Occupancy(BaseModel):
    """Reported population of a zone against its capacity."""

    zone_id: int
    zone_code: str
    basis: str = Field(default="reported", description="site monitoring figures, not registration")
    reported_individuals: int
    reported_families: int | None
    sites: int
    sites_reporting: int
    latest_report: dt.date | None
    capacity: int | None
    sites_with_capacity: int
    share: float | None = Field(description="reported individuals / capacity")


class LocateResult(BaseModel):
    lon: float
    lat: float
    zone: ZoneRead | None
    site: SiteRead | None
    distance_m: float | None = Field(default=None, description="from the site's point")
