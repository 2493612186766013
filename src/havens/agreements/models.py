"""Tables of the agreements domain: agreements, their versions, parties, signatures,
commitments and withdrawals of consent."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from havens.database import Base, string_enum, utcnow
from havens.orgs.models import Organisation
from havens.zones.models import Zone


class PartyRole(enum.StrEnum):
    host_government = "host_government"
    administrator = "administrator"
    guarantor = "guarantor"
    supporting_agency = "supporting_agency"
    observer = "observer"


class VersionStatus(enum.StrEnum):
    """Where a version is in signing. Whether it is *in force* on a day also depends on its
    dates and on withdrawal: see :mod:`havens.agreements.verify`."""

    open = "open"  # open for signature
    signed = "signed"  # every required signer signed
    superseded = "superseded"  # a later version was made (before or after this one was signed)




class Agreement(Base):
    """The agreement of one zone; its terms live in its versions."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), unique=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    zone: Mapped[Zone] = relationship(lazy="joined")
    versions: Mapped[list[AgreementVersion]] = relationship(
        back_populates="agreement", order_by="AgreementVersion.number")
    withdrawals: Mapped[list[ConsentWithdrawal]] = relationship(
        back_populates="agreement", order_by="ConsentWithdrawal.withdrawn_on")


class AgreementVersion(Base):
    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    number: Mapped[int]
    status: Mapped[VersionStatus] = mapped_column(
        string_enum(VersionStatus, "agreement_version_status"), default=VersionStatus.open)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    canonical_terms: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(Text, doc="what this amendment changes, in words")
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    administrator_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    host_government_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    fully_signed_at: Mapped[dt.datetime | None]

    agreement: Mapped[Agreement] = relationship(back_populates="versions")
    parties: Mapped[list[VersionParty]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="VersionParty.id")
    signatures: Mapped[list[Signature]] = relationship(
        back_populates="version", order_by="Signature.signed_at")
    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Commitment.ref")


class VersionParty(Base):
    __tablename__ = "agreement_parties"
    __table_args__ = (UniqueConstraint("version_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[PartyRole] = mapped_column(string_enum(PartyRole, "agreement_party_role"))
    required_signer: Mapped[bool] = mapped_column(default=False)

    version: Mapped[AgreementVersion] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Signature(Base):
    """One party's Ed25519 signature of a version's signing message."""

    __tablename__ = "agreement_signatures"
    __table_args__ = (UniqueConstraint("version_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    key_id: Mapped[str] = mapped_column(ForeignKey("organisation_keys.key_id"))
    signature: Mapped[str] = mapped_column(String(100), doc="base64 Ed25519 signature")
    signed_hash: Mapped[str] = mapped_column(String(64))
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Made with a server-held (demo/low-security) key, not on the signer's machine.
    server_held: Mapped[bool] = mapped_column(default=False)
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    version: Mapped[AgreementVersion] = relationship(back_populates="signatures")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Commitment(Base):
    """What one party commits to in one version. ``ref`` is stable across versions (the
    assistance domain tracks a commitment by it); ``id`` is this version's row."""

    __tablename__ = "agreement_commitments"
    __table_args__ = (UniqueConstraint("version_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    ref: Mapped[str] = mapped_column(String(40), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    what: Mapped[str] = mapped_column(Text)
    indicator: Mapped[str | None] = mapped_column(String(64), doc="e.g. water_lpd")
    target: Mapped[str | None] = mapped_column(String(32), doc="decimal string, e.g. 3.5")
    unit: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[dt.date | None] = mapped_column(Date)

    version: Mapped[AgreementVersion] = relationship(back_populates="commitments")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class ConsentWithdrawal(Base):
    """The host government withdrew its consent; the zone closes when the notice ends."""

    __tablename__ = "agreement_withdrawals"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_versions.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    withdrawn_on: Mapped[dt.date] = mapped_column(Date)
    notice_end: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="withdrawals")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
