"""Data-sharing agreements: the registering organisation grants a recipient organisation
read access to some personal fields of the households it registered, for stated purposes."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from havens.database import Base, utcnow
from havens.orgs.models import Organisation


class SharedField(enum.StrEnum):
    """Personal fields a data-sharing agreement may grant. Always shown to the recipient of a
    covered household: registration number, site, status, arrival date, origin admin3 P-code,
    consent, and each member's relationship, sex and birth year. Everything else is masked
    unless granted here; the household's reference and shelter position are never shared."""

    names = "names"                      # Arabic and Latin names of every member
    dates_of_birth = "dates_of_birth"    # full dates (the year is always shown)
    phone = "phone"
    documents = "documents"              # identity document type and number
    specific_needs = "specific_needs"    # UNHCR specific-needs codes (health, disability...)
    origin_locality = "origin_locality"  # village or neighbourhood of origin




class DataSharingAgreement(Base):
    __tablename__ = "data_sharing_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: ``None``: the provider's households in every zone.
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"))
    purposes: Mapped[list[str]] = mapped_column(JSON, doc="ConsentPurpose values")
    fields: Mapped[list[str]] = mapped_column(JSON, doc="SharedField values")
    starts_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    proposed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    provider_signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    provider_signed_at: Mapped[dt.datetime | None]
    recipient_signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recipient_signed_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revocation_reason: Mapped[str | None] = mapped_column(String(500))

    provider: Mapped[Organisation] = relationship(foreign_keys=[provider_org_id], lazy="joined")
    recipient: Mapped[Organisation] = relationship(foreign_keys=[recipient_org_id],
                                                   lazy="joined")

    @property
    def signed(self) -> bool:
        return self.provider_signed_at is not None and self.recipient_signed_at is not None

    def in_force(self, today: dt.date) -> bool:
        """Signed by both sides, not revoked, and ``today`` within its dates."""
        return (self.signed and self.revoked_at is None
                and self.starts_on <= today <= self.expires_on)

    def status(self, today: dt.date) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if not self.signed:
            return "awaiting_signatures"
        if today < self.starts_on:
            return "signed_not_started"
        return "in_force" if today <= self.expires_on else "expired"
