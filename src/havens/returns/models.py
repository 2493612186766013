"""Tables of the returns domain: area assessments of origin areas, return intentions of
households, and return movements."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from havens.database import Base, string_enum, utcnow
from havens.returns.criteria import ReturnStatus


class Intention(enum.StrEnum):
    within_3_months = "within_3_months"
    within_6_months = "within_6_months"
    within_12_months = "within_12_months"
    not_intending = "not_intending"
    undecided = "undecided"


class ReturnKind(enum.StrEnum):
    #: Organised by an agency (transport, return package): refused to not-conducive areas.
    facilitated = "facilitated"
    #: The household's own decision and means: always recordable.
    spontaneous = "spontaneous"


class TransportSupport(enum.StrEnum):
    none = "none"
    vehicle = "vehicle"
    cash = "cash"
    other = "other"


class AreaAssessment(Base):
    """The eight IASC criteria in one origin area on a date, and the status the rule gave."""

    __tablename__ = "area_assessments"
    __table_args__ = (Index("ix_area_assessments_pcode_date", "pcode", "assessed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode"))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    assessed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: criterion -> {"rating": ..., "notes": ...}
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ReturnStatus] = mapped_column(string_enum(ReturnStatus, "return_status"))
    status_reason: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReturnIntention(Base):
    """One survey answer of a household about returning home."""

    __tablename__ = "return_intentions"
    __table_args__ = (
        # A Kobo submission's uuid: importing the export again adds nothing.
        UniqueConstraint("organisation_id", "external_ref",
                         name="uq_return_intentions_organisation_id_external_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    surveyed_on: Mapped[dt.date] = mapped_column(Date)
    intention: Mapped[Intention] = mapped_column(string_enum(Intention, "return_intention"))
    preconditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    destination_pcode: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.pcode"))
    notes: Mapped[str | None] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(String(100))
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReturnMovement(Base):
    """A household's voluntary return from its zone to its origin area."""

    __tablename__ = "return_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"),
                                                 doc="recording (registering) organisation")
    kind: Mapped[ReturnKind] = mapped_column(string_enum(ReturnKind, "return_kind"))
    facilitating_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    from_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    from_zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    destination_pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode"), index=True)
    returned_on: Mapped[dt.date] = mapped_column(Date)
    individuals: Mapped[int] = mapped_column(Integer, default=0)
    voluntary: Mapped[bool] = mapped_column(default=True)
    #: Informed consent: who informed the household, when, of what, and who consented.
    consent_recorded: Mapped[bool] = mapped_column(default=False)
    informed_by: Mapped[str | None] = mapped_column(String(200))
    informed_on: Mapped[dt.date | None] = mapped_column(Date)
    informed_of: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_given_by: Mapped[str | None] = mapped_column(String(100))
    consent_notes: Mapped[str | None] = mapped_column(Text)
    transport_support: Mapped[TransportSupport] = mapped_column(
        string_enum(TransportSupport, "transport_support"), default=TransportSupport.none)
    transport_details: Mapped[str | None] = mapped_column(Text)
    #: The destination's return status when the return was recorded (or "not_assessed").
    area_status: Mapped[str] = mapped_column(String(32))
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("area_assessments.id"))
    overridden: Mapped[bool] = mapped_column(default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"))
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
