"""Tables of the people domain: households, their members, movements and imports.

Personal data lives in ``individuals``; the phone and identity document number are stored only
encrypted (``*_enc``) with a keyed hash beside them (``*_hash``) for exact-match search — see
``havens.people.crypto``. ``individuals.site_id`` and ``individuals.present`` repeat the
household's site and status so that occupancy is one indexed GROUP BY over one table.

``merged_into_id``: a registration found to be the same person as another (``havens.linkage``)
keeps its row for history and points at the one kept; it no longer counts (see
``havens.people.merges``).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    orm,
)
from sqlalchemy.orm import Mapped, mapped_column

from havens.database import Base, string_enum, utcnow


class HouseholdStatus(enum.StrEnum):
    present = "present"
    departed = "departed"
    returned = "returned"
    relocated = "relocated"


class Sex(enum.StrEnum):
    male = "M"
    female = "F"


class Relationship(enum.StrEnum):
    """Relationship to the head of household."""

    head = "head"
    spouse = "spouse"
    child = "child"
    parent = "parent"
    sibling = "sibling"
    grandchild = "grandchild"
    grandparent = "grandparent"
    other_relative = "other_relative"
    non_relative = "non_relative"


class DocumentType(enum.StrEnum):
    national_id = "national_id"
    family_booklet = "family_booklet"
    passport = "passport"
    birth_certificate = "birth_certificate"
    other = "other"


class MovementKind(enum.StrEnum):
    arrival = "arrival"
    departure = "departure"
    relocation = "relocation"


class DestinationType(enum.StrEnum):
    """Where a departing household went. ``abroad`` is what the zones exist to prevent."""

    other_site = "other_site"
    other_zone = "other_zone"
    return_to_origin = "return_to_origin"
    abroad = "abroad"
    unknown = "unknown"


class ConsentPurpose(enum.StrEnum):
    registration = "registration"
    assistance = "assistance"
    protection = "protection"
    referral = "referral"
    durable_solutions = "durable_solutions"
    statistics = "statistics"




class RegistrationSequence(Base):
    """The last registration number given at a site (the row is locked while one is taken)."""

    __tablename__ = "registration_sequences"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (
        # The registering organisation's own key (a file's household_ref, a form's uuid): two
        # registrations of the same household by one organisation cannot both land.
        UniqueConstraint("organisation_id", "household_ref",
                         name="uq_households_organisation_id_household_ref"),
        # Households present per site, merged ones left out, and the registering
        # organisation's share (disclosure control), from the index alone.
        Index("ix_households_site_status", "site_id", "status", "merged_into_id",
              "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_number: Mapped[str] = mapped_column(String(48), unique=True,
                                                     doc="<site code>-<6 digits>")
    household_ref: Mapped[str | None] = mapped_column(String(100))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    origin_pcode: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.pcode"))
    origin_locality: Mapped[str | None] = mapped_column(String(200))
    displacement_date: Mapped[dt.date | None] = mapped_column(Date)
    arrival_date: Mapped[dt.date] = mapped_column(Date)
    shelter_lon: Mapped[float | None] = mapped_column(Float)
    shelter_lat: Mapped[float | None] = mapped_column(Float)
    status: Mapped[HouseholdStatus] = mapped_column(
        string_enum(HouseholdStatus, "household_status"), default=HouseholdStatus.present)
    consent_registration: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sharing: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_given_by: Mapped[str | None] = mapped_column(
        String(100), doc="who consented: a relationship (head, spouse...) or a guardian's role")
    consent_at: Mapped[dt.datetime | None]
    import_id: Mapped[int | None] = mapped_column(ForeignKey("people_imports.id"), index=True)
    #: Every member was merged into members of this household: one household, not two.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    members: Mapped[list[Individual]] = orm.relationship(
        back_populates="household", order_by="Individual.id")


class Individual(Base):
    __tablename__ = "individuals"
    __table_args__ = (
        UniqueConstraint("organisation_id", "row_key",
                         name="uq_individuals_organisation_id_row_key"),
        # Occupancy: an index-only scan per site gives sex and age group of those present
        # (merged_into_id: merged rows are few, filtered in the index, not the table), and
        # the registering organisation's share of each count (disclosure control).
        Index("ix_individuals_occupancy", "site_id", "present", "sex", "date_of_birth",
              "merged_into_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    relationship: Mapped[Relationship] = mapped_column(string_enum(Relationship, "relationship"))
    given_name_ar: Mapped[str | None] = mapped_column(String(100))
    father_name_ar: Mapped[str | None] = mapped_column(String(100))
    grandfather_name_ar: Mapped[str | None] = mapped_column(String(100))
    family_name_ar: Mapped[str | None] = mapped_column(String(100))
    given_name_en: Mapped[str | None] = mapped_column(String(100))
    father_name_en: Mapped[str | None] = mapped_column(String(100))
    grandfather_name_en: Mapped[str | None] = mapped_column(String(100))
    family_name_en: Mapped[str | None] = mapped_column(String(100))
    #: Folded names without spaces (see havens.people.names), searched with LIKE.
    name_key_ar: Mapped[str] = mapped_column(String(400), default="")
    name_key_en: Mapped[str] = mapped_column(String(400), default="")
    sex: Mapped[Sex] = mapped_column(string_enum(Sex, "sex"))
    #: When only the year is known, 1 July of that year (mid-year) with ``dob_estimated``.
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    dob_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    specific_needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone_enc: Mapped[str | None] = mapped_column(String(200))
    phone_hash: Mapped[str | None] = mapped_column(String(80), index=True)
    document_type: Mapped[DocumentType | None] = mapped_column(string_enum(DocumentType,
                                                                     "document_type"))
    document_number_enc: Mapped[str | None] = mapped_column(String(200))
    document_number_hash: Mapped[str | None] = mapped_column(String(80), index=True)
    #: SHA-256 of the household_ref and the row's content: re-importing a row is a no-op.
    row_key: Mapped[str | None] = mapped_column(String(64))
    #: The same person as this individual (a confirmed duplicate): this one no longer counts.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("individuals.id"),
                                                       index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # orm.relationship: ``relationship`` is a column of this table.
    household: Mapped[Household] = orm.relationship(back_populates="members")


class Movement(Base):
    """An arrival, departure or relocation of a household: the flows are counted from these."""

    __tablename__ = "movements"
    __table_args__ = (
        Index("ix_movements_site_date", "site_id", "moved_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[MovementKind] = mapped_column(string_enum(MovementKind, "movement_kind"))
    moved_on: Mapped[dt.date] = mapped_column(Date)
    #: The site the movement counts for: arrived at, departed from, relocated from.
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    to_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    destination_type: Mapped[DestinationType | None] = mapped_column(
        string_enum(DestinationType, "destination_type"))
    destination_pcode: Mapped[str | None] = mapped_column(String(20))
    destination_country: Mapped[str | None] = mapped_column(String(3), doc="ISO alpha-3")
    details: Mapped[str | None] = mapped_column(Text)
    #: Members (and their split) at the time, so flows need no join to individuals.
    individuals: Mapped[int] = mapped_column(Integer, default=0)
    recorded_by_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PeopleImport(Base):
    """One imported file: its fingerprint makes a second import of the same file a no-op."""

    __tablename__ = "people_imports"
    __table_args__ = (
        UniqueConstraint("organisation_id", "fingerprint",
                         name="uq_people_imports_organisation_id_fingerprint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    fingerprint: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the file's bytes")
    filename: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    households_created: Mapped[int] = mapped_column(Integer)
    individuals_created: Mapped[int] = mapped_column(Integer)
    skipped_rows: Mapped[list[int]] = mapped_column(JSON, default=list)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
