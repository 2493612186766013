"""Tables of the safety domain: security incidents reported in and near the zones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from havens.database import Base, string_enum, utcnow
from havens.orgs.models import Organisation
from havens.safety.incident_types import IncidentType
from havens.zones.models import Zone


class SecurityIncident(Base):
    __tablename__ = "security_incidents"
    __table_args__ = (
        CheckConstraint("severity BETWEEN 1 AND 4", name="severity_range"),
        # The reporting organisation's own reference: importing a list twice adds nothing.
        UniqueConstraint("organisation_id", "external_ref",
                         name="uq_security_incidents_organisation_id_external_ref"),
        Index("ix_security_incidents_zone_occurred", "zone_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    pcode: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.pcode"))
    #: False when the point reported lies outside the zone's boundary (an incident near it).
    inside_zone: Mapped[bool] = mapped_column(default=True)
    occurred_at: Mapped[dt.datetime]
    incident_type: Mapped[IncidentType] = mapped_column(string_enum(IncidentType, "incident_type"),
                                                        index=True)
    severity: Mapped[int] = mapped_column(Integer)
    #: {"killed": {"female_child": n, ...}, "injured": {...}}: counts only.
    casualties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    killed: Mapped[int] = mapped_column(Integer, default=0)
    injured: Mapped[int] = mapped_column(Integer, default=0)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    reported_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    narrative: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(default=False, index=True)
    external_ref: Mapped[str | None] = mapped_column(String(100))
    #: Breach of the agreement in force (armed presence where it says "no armed presence").
    breach: Mapped[bool] = mapped_column(default=False)
    breach_version_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_versions.id"))
    breach_commitment_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreement_commitments.id"))
    breach_flag: Mapped[str | None] = mapped_column(String(64), doc="e.g. no_armed_presence")
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    zone: Mapped[Zone] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
