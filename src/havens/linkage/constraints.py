"""Reviewers' rejections as cannot-link constraints for the registry run's clustering.

A rejected pair is never proposed again (it stays in ``linkage_candidate_pairs``), but that alone
does not stop the matcher from chaining the two people through a third record: C matching both
A and B would be proposed as A–C and B–C, and confirming both merges A and B after all. So the
run clusters the pairs above the threshold with every rejected pair as a cannot-link constraint
(``registry.match``, ``cluster.py``), and C joins at most one of them.

A rejection outlives merges: once B is merged into D (confirmed as the same person), A and D are
different people too, so each side of a rejected pair is carried to the individual it is now
merged into.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.linkage.models import CandidatePair, Decision, IndividualMerge


def _merged_into(db: Session) -> dict[int, int]:
    """The individual each merged-away individual now lives in (chains followed)."""
    into = {int(a): int(b) for a, b in db.execute(
        select(IndividualMerge.merged_id, IndividualMerge.kept_id)
        .where(IndividualMerge.unmerged_at.is_(None)))}
    resolved: dict[int, int] = {}
    for start in into:
        seen = {start}
        at = into[start]
        while at in into and at not in seen:  # a merged-into individual merged away later
            seen.add(at)
            at = into[at]
        resolved[start] = at
    return resolved


def rejected_pairs(db: Session) -> list[tuple[int, int]]:
    """Pairs of individual ids (lower first) that reviewers said are different people, in terms
    of the individuals now in the registry; a pair whose two sides were merged into one
    individual since (contradictory decisions) is left out."""
    into = _merged_into(db)
    out: set[tuple[int, int]] = set()
    for left, right in db.execute(
            select(CandidatePair.individual_l_id, CandidatePair.individual_r_id)
            .where(CandidatePair.decision == Decision.rejected)):
        a, b = into.get(int(left), int(left)), into.get(int(right), int(right))
        if a != b:
            out.add((min(a, b), max(a, b)))
    return sorted(out)
