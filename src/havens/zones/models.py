"""Safe zones, the sites where displaced people live inside them, and reported population."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from havens.database import Base, string_enum, utcnow


class ZoneStatus(enum.StrEnum):
    """Lifecycle of a zone (rules in havens.agreements.lifecycle):
    proposed -> negotiating -> consented -> operational <-> suspended -> closing -> closed,
    and rejected."""

    proposed = "proposed"
    negotiating = "negotiating"
    consented = "consented"
    operational = "operational"
    suspended = "suspended"
    closing = "closing"
    closed = "closed"
    rejected = "rejected"


#: Zones whose boundary may not overlap another's.
ACTIVE_ZONE_STATUSES = frozenset(ZoneStatus) - {ZoneStatus.closed, ZoneStatus.rejected}


class SiteType(enum.StrEnum):
    """CCCM site types."""

    informal_settlement = "IS"
    planned_camp = "PC"
    collective_centre = "CC"
    transit_reception_centre = "T/RC"


class SiteStatus(enum.StrEnum):
    planned = "planned"
    open = "open"
    closed = "closed"




class Zone(Base):
    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ZoneStatus] = mapped_column(string_enum(ZoneStatus, "zone_status"),
                                               default=ZoneStatus.proposed, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime | None]
    #: End of the withdrawal notice period while the zone is closing.
    closing_date: Mapped[dt.date | None] = mapped_column(Date)
    admin_pcodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON, doc="GeoJSON, lon/lat")
    area_m2: Mapped[float | None] = mapped_column(Float, doc="geodesic area of the boundary")
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    #: Sphere: some thresholds are looser in the first phase of an emergency.
    emergency_phase: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    sites: Mapped[list[Site]] = relationship(back_populates="zone")


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, doc="CP + 6 digits in NW Syria")
    name_en: Mapped[str] = mapped_column(String(300))
    name_ar: Mapped[str | None] = mapped_column(String(300))
    site_type: Mapped[SiteType] = mapped_column(string_enum(SiteType, "site_type"))
    status: Mapped[SiteStatus] = mapped_column(string_enum(SiteStatus, "site_status"),
                                               default=SiteStatus.open)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    #: The file gave no coordinates: the point is the centroid of the site's admin area, so the
    #: site is shown but never placed in a zone by it.
    location_estimated: Mapped[bool] = mapped_column(default=False)
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    admin1_pcode: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.pcode"), index=True)
    admin2_pcode: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.pcode"), index=True)
    admin3_pcode: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.pcode"), index=True)
    community_pcode: Mapped[str | None] = mapped_column(String(20), doc="admin4 / community")
    managing_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    managing_agency: Mapped[str | None] = mapped_column(String(200),
                                                        doc="as reported, when not an org here")
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    area_m2: Mapped[float | None] = mapped_column(Float, doc="from the boundary polygon")
    declared_area_m2: Mapped[float | None] = mapped_column(Float)
    declared_capacity: Mapped[int | None] = mapped_column(Integer)
    capacity_justification: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    zone: Mapped[Zone | None] = relationship(back_populates="sites")


class ReportedPopulation(Base):
    """Population of a site on a date as site monitoring reports it (not registration)."""

    __tablename__ = "reported_populations"
    __table_args__ = (UniqueConstraint("site_id", "reported_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    reported_on: Mapped[dt.date] = mapped_column(Date)
    girls: Mapped[int] = mapped_column(default=0)
    boys: Mapped[int] = mapped_column(default=0)
    women: Mapped[int] = mapped_column(default=0)
    men: Mapped[int] = mapped_column(default=0)
    families: Mapped[int | None]
    source: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def individuals(self) -> int:
        return self.girls + self.boys + self.women + self.men
