"""The registry review-queue tables build next to the people tables (SQLite)."""

from __future__ import annotations

import sqlalchemy as sa

import havens.models  # noqa: F401 - every domain's tables
from havens.database import Base
from havens.linkage.models import CandidatePair, Decision, IndividualMerge, LinkageRun


def test_tables_create_and_pair_is_unique() -> None:
    engine = sa.create_engine("sqlite://")
    tables = [Base.metadata.tables[t] for t in Base.metadata.tables
              if t in {"linkage_runs", "linkage_candidate_pairs", "linkage_merges"}]
    assert {t.name for t in tables} == {"linkage_runs", "linkage_candidate_pairs",
                                        "linkage_merges"}
    Base.metadata.create_all(engine)
    uniques = {c.name for c in CandidatePair.__table__.constraints  # type: ignore[attr-defined]
               if isinstance(c, sa.UniqueConstraint)}
    assert "uq_linkage_pair" in uniques
    assert Decision("rejected") is Decision.rejected
    assert LinkageRun.__tablename__ and IndividualMerge.__tablename__
