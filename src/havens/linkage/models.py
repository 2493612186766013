"""Registry linkage: runs over registered individuals, the review queue of candidate pairs, merges.

* a :class:`LinkageRun` scores the individuals a caller may see (the operator: everyone) with a
  Fellegi–Sunter model that the run trains or reuses (``model``, ``model_version`` = its hash);
  an incremental run compares only the individuals registered since the previous run of the same
  scope (``individual_id > since_individual_id``) against the whole registry;
* each pair at or above the run's threshold becomes a :class:`CandidatePair` with its
  probability and the *why*: the comparison level of each field (``levels``) and the comparison
  vector for learned scorers (``features``) — never names;
* a reviewer confirms or rejects; a pair is stored once (lower individual id first), so a
  rejected pair is never proposed again;
* confirming writes an :class:`IndividualMerge` (the individual kept, the one merged into it, and
  what the merge changed, to restore on unmerge); when every member of one household has been
  merged into members of another, a :class:`HouseholdMerge` records that the households are one.
  A merge is active while ``unmerged_at`` is empty.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from havens.database import Base, string_enum, utcnow


class Decision(enum.StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"
    #: One of the individuals was merged away through another pair.
    superseded = "superseded"


class LinkageRun(Base):
    """One scoring run over the registry (full or incremental)."""

    __tablename__ = "linkage_runs"
    __table_args__ = (Index("ix_linkage_runs_scope", "organisation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose registry view was matched; empty for the operator's run across all organisations.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    incremental: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Individuals with a larger id were the new ones (incremental run), else 0.
    since_individual_id: Mapped[int] = mapped_column(Integer, default=0)
    #: The largest individual id seen: the next incremental run starts after it.
    last_individual_id: Mapped[int] = mapped_column(Integer, default=0)
    model_version: Mapped[str] = mapped_column(String(64))
    #: The Fellegi–Sunter model used (m/u per level; no personal data), reused incrementally.
    model: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    model_trained: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold: Mapped[float] = mapped_column(Float)
    records: Mapped[int] = mapped_column(Integer, default=0)
    new_records: Mapped[int] = mapped_column(Integer, default=0)
    #: Pairs compared and scored (after blocking).
    candidate_pairs: Mapped[int] = mapped_column(Integer, default=0)
    #: Pairs added to the review queue.
    proposed: Mapped[int] = mapped_column(Integer, default=0)
    #: Pairs at or above the threshold that clustering kept apart (a chain of relatives, or
    #: people a reviewer told apart): not proposed.
    kept_apart: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class CandidatePair(Base):
    """A possible duplicate in the review queue: two individuals, how likely, and why."""

    __tablename__ = "linkage_candidate_pairs"
    __table_args__ = (
        # The lower id first: one row per pair, so a rejected pair is never proposed again.
        UniqueConstraint("individual_l_id", "individual_r_id", name="uq_linkage_pair"),
        Index("ix_linkage_pairs_queue", "decision", "match_probability"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_runs.id"), index=True)
    individual_l_id: Mapped[int] = mapped_column(ForeignKey("individuals.id"), index=True)
    individual_r_id: Mapped[int] = mapped_column(ForeignKey("individuals.id"), index=True)
    match_probability: Mapped[float] = mapped_column(Float)
    #: Comparison level per field, e.g. {"given": 3, "lineage": 4, "dob": 3, ...}; -1 = missing.
    levels: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    #: Comparison vector for learned scorers (levels and term frequencies; no personal data).
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    model_version: Mapped[str] = mapped_column(String(64))
    decision: Mapped[Decision] = mapped_column(string_enum(Decision, "linkage_decision"),
                                               default=Decision.pending)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IndividualMerge(Base):
    """A confirmed duplicate merged into the individual kept; reversible (unmerge)."""

    __tablename__ = "linkage_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("linkage_candidate_pairs.id"), index=True)
    kept_id: Mapped[int] = mapped_column(ForeignKey("individuals.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("individuals.id"), index=True)
    #: What the merge changed, to restore: the merged individual's ``present`` flag and the ids
    #: of the other pending pairs it superseded.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    unmerged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unmerged_at: Mapped[dt.datetime | None]


class HouseholdMerge(Base):
    """Every member of ``merged_household`` was merged into members of ``kept_household``."""

    __tablename__ = "linkage_household_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    kept_household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    merged_household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    #: The individual merges that completed the household (the last one triggered this row).
    merge_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    unmerged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unmerged_at: Mapped[dt.datetime | None]


class LinkageLabel(Base):
    """A reviewer's decision as a training example: the pair's comparison vector and the answer.

    Written by every confirm and reject (``review.py``: API, web and CLI alike) and by
    ``havens linkage labels import``. The vector holds comparison levels and name frequencies
    only — never names or ids of people — so labels can be exported and pooled across
    organisations. A later decision on the same pair (after an unmerge or a reopen) supersedes
    the earlier label; learned scorers train on the labels not superseded.
    """

    __tablename__ = "linkage_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The decided pair; empty for imported labels.
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_candidate_pairs.id"),
                                                index=True)
    #: True: the same person (confirmed); False: different people (rejected).
    is_match: Mapped[bool] = mapped_column(Boolean)
    #: Comparison level per field and part (as ``CandidatePair.levels``) plus ``tf_given`` and
    #: ``tf_lineage``.
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The probability the model gave when the reviewer decided (to compare models against).
    probability: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(64), default="")
    #: review | import
    source: Mapped[str] = mapped_column(String(16), default="review")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
