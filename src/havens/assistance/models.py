"""Tables of the assistance domain: 3W activities, measurements, threshold overrides and the
history of commitment statuses.

The standards themselves are data (``standards.json``), not rows: a cluster adapts a threshold
with a :class:`StandardOverride`, which keeps who, when and why.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Date,
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


class Sector(enum.StrEnum):
    wash = "wash"
    shelter = "shelter"
    food_security = "food_security"
    health = "health"
    education = "education"
    protection = "protection"
    site_management = "site_management"


class ActivityStatus(enum.StrEnum):
    planned = "planned"
    ongoing = "ongoing"
    completed = "completed"
    cancelled = "cancelled"


class CommitmentState(enum.StrEnum):
    pending = "pending"
    kept = "kept"
    partly_kept = "partly_kept"
    broken = "broken"
    waived = "waived"




class Activity(Base):
    """One 3W line: who (implementing, funding) does what (sector, type) where and when."""

    __tablename__ = "assistance_activities"
    __table_args__ = (Index("ix_assistance_activities_zone_sector", "zone_id", "sector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    implementing_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    funding_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    #: A donor that is not an organisation of this platform (ECHO, BHA...), as written.
    donor: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[Sector] = mapped_column(string_enum(Sector, "assistance_sector"))
    activity_type: Mapped[str] = mapped_column(String(64), doc="code from activity_types.json")
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))
    #: People reached; the split is optional (HXL's children / adults / elderly by sex).
    reached_total: Mapped[int] = mapped_column(Integer, default=0)
    reached_girls: Mapped[int | None] = mapped_column(Integer)
    reached_boys: Mapped[int | None] = mapped_column(Integer)
    reached_women: Mapped[int | None] = mapped_column(Integer)
    reached_men: Mapped[int | None] = mapped_column(Integer)
    reached_older_women: Mapped[int | None] = mapped_column(Integer)
    reached_older_men: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[ActivityStatus] = mapped_column(string_enum(ActivityStatus, "activity_status"),
                                                   default=ActivityStatus.ongoing)
    notes: Mapped[str | None] = mapped_column(Text)
    #: Which import created it (the file's SHA-256), when imported.
    import_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    implementing_org: Mapped[Organisation] = relationship(
        foreign_keys=[implementing_org_id], lazy="joined")
    funding_org: Mapped[Organisation | None] = relationship(
        foreign_keys=[funding_org_id], lazy="joined")


class Measurement(Base):
    """A facility count or measured quantity of a zone on a date (metric codes: standards.json).

    One value per zone, metric and date: measuring again on the same day replaces it.
    """

    __tablename__ = "assistance_measurements"
    __table_args__ = (
        UniqueConstraint("zone_id", "metric", "measured_on",
                         name="uq_assistance_measurements_zone_metric_day"),
        # "Latest on or before a date" per zone and metric is a range scan of this index.
        Index("ix_assistance_measurements_lookup", "zone_id", "metric", "measured_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    metric: Mapped[str] = mapped_column(String(48))
    measured_on: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(200), doc="survey, monitoring round...")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StandardOverride(Base):
    """A cluster's adaptation of a standard's threshold, for one zone or (zone NULL) for all.

    Rows are never edited: the newest applicable row wins; ``threshold`` NULL returns to the
    handbook value. ``phase`` NULL applies in every phase.
    """

    __tablename__ = "assistance_standard_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_code: Mapped[str] = mapped_column(String(48), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"))
    phase: Mapped[str | None] = mapped_column(String(16), doc="emergency / stabilised / NULL")
    threshold: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CommitmentStatus(Base):
    """One status of one commitment (agreement + stable ``ref``) from a date: the history.

    Computed rows come from the measured indicator; attested rows carry evidence.
    """

    __tablename__ = "assistance_commitment_statuses"
    __table_args__ = (
        Index("ix_assistance_commitment_statuses_ref", "agreement_id", "commitment_ref",
              "effective_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    commitment_ref: Mapped[str] = mapped_column(String(40))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[CommitmentState] = mapped_column(
        string_enum(CommitmentState, "commitment_state"))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    #: "computed" from an indicator, or "attested" by a person with evidence.
    basis: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
