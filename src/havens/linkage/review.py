"""Reviewers' decisions on candidate pairs: confirm (merge), reject, unmerge.

Confirming keeps one individual and marks the other merged into it (an :class:`IndividualMerge`;
the merged one stops counting as present, so occupancy no longer counts the person twice).
Which one survives: a reviewer changes only their own organisation's records, so the record of
their organisation is merged into the other organisation's; of two records of their own, the one
registered first survives. Other pending pairs of the merged individual are superseded (they
come back on unmerge). When every member of the merged individual's household has been merged
into members of one other household, the households are merged too (:class:`HouseholdMerge`).

Unmerging restores the individual (present again if its household is present), the superseded
pairs, the pair (pending again, for a new decision) and undoes the household merge it completed.
Rejected pairs stay in the table, so later runs never propose them again. A rejection can be
reopened (the pair is pending again) by the terminal reviewer's "back".

Every decision is also a training label (``labels.py``); undoing it withdraws the label.
"""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import get_history

from havens.audit import service as audit
from havens.database import utcnow
from havens.exceptions import Conflict, NotFound, PermissionDenied
from havens.linkage import labels
from havens.linkage.access import Scope, scope_for
from havens.linkage.models import CandidatePair, Decision, HouseholdMerge, IndividualMerge
from havens.linkage.schemas import CandidateRead, HouseholdMergeRead, MergeRead
from havens.orgs.permissions import Principal
from havens.people import merges as people_merges
from havens.people.models import Household, HouseholdStatus, Individual

# --- the people domain's view of merges ------------------------------------------------------


def _changed(target: IndividualMerge | HouseholdMerge, new: bool) -> bool:
    return new or get_history(target, "unmerged_at").has_changes()


@event.listens_for(Session, "before_flush")
def _mirror_merges(session: Session, _context: UOWTransaction, _instances: object) -> None:
    """Set or clear the people domain's merge pointers as merges are written or undone.

    A flush hook rather than calls in the functions below, so that no way of deciding (API, web
    page, terminal reviewer, a future one) can leave the people views out of step with the
    merges. It lives in the module that writes merges: whoever writes one has imported it.
    """
    written = [(m, True) for m in session.new] + [(m, False) for m in session.dirty]
    for target, new in written:
        if isinstance(target, IndividualMerge) and _changed(target, new):
            if target.unmerged_at is None:
                people_merges.mark_merged(session, individual_id=target.merged_id,
                                          into_id=target.kept_id)
            else:
                people_merges.clear_merged(session, individual_id=target.merged_id)
        elif isinstance(target, HouseholdMerge) and _changed(target, new):
            if target.unmerged_at is None:
                people_merges.mark_household_merged(
                    session, household_id=target.merged_household_id,
                    into_id=target.kept_household_id)
            else:
                people_merges.clear_household_merged(
                    session, household_id=target.merged_household_id)


def _pair(db: Session, scope: Scope, pair_id: int) -> CandidatePair:
    from havens.linkage.service import visible_pair

    return visible_pair(db, scope, pair_id)


def _pending(pair: CandidatePair) -> None:
    if pair.decision != Decision.pending:
        raise Conflict(f"This pair was already decided ({pair.decision.value}).",
                       field="pair_id")


def _active_merges(db: Session, ids: list[int]) -> dict[int, IndividualMerge]:
    """Active merges of the individuals ``ids`` that were merged away, by merged id."""
    found = db.scalars(select(IndividualMerge).where(IndividualMerge.merged_id.in_(ids),
                                                     IndividualMerge.unmerged_at.is_(None)))
    return {m.merged_id: m for m in found}


def _survivor(actor: Principal, a: Individual, b: Individual) -> tuple[Individual, Individual]:
    """(kept, merged): the caller merges away only a record of its own organisation."""
    first, second = (a, b) if a.id < b.id else (b, a)
    if actor.organisation_id is None:
        return first, second
    own = [i for i in (first, second) if i.organisation_id == actor.organisation_id]
    if not own:
        raise PermissionDenied("Neither record is your organisation's: only the registering "
                               "organisations can merge them.", field="pair_id")
    if len(own) == 2:
        return first, second
    merged = own[0]
    return (second if merged is first else first), merged


def _merge_read(db: Session, merge: IndividualMerge) -> MergeRead:
    # A merge can only have completed the merge of the merged individual's household.
    households = db.scalars(select(HouseholdMerge).where(
        HouseholdMerge.merged_household_id == merge.snapshot.get("household_id"))
        .order_by(HouseholdMerge.id))
    mine = [HouseholdMergeRead.model_validate(h, from_attributes=True) for h in households
            if merge.id in (h.merge_ids or [])]
    return MergeRead(id=merge.id, pair_id=merge.pair_id, kept_id=merge.kept_id,
                     merged_id=merge.merged_id, merged_at=merge.merged_at,
                     unmerged_at=merge.unmerged_at, household_merges=mine)


def _household_merge(db: Session, actor: Principal, kept: Individual, merged: Individual
                     ) -> HouseholdMerge | None:
    """Merge the merged individual's household into the kept one's once all its members are."""
    if kept.household_id == merged.household_id:
        return None
    already = db.scalar(select(HouseholdMerge.id).where(
        HouseholdMerge.merged_household_id == merged.household_id,
        HouseholdMerge.unmerged_at.is_(None)))
    if already is not None:
        return None
    members = list(db.scalars(select(Individual.id).where(
        Individual.household_id == merged.household_id)))
    merges = _active_merges(db, members)
    if len(merges) != len(members):
        return None
    kept_households = set(db.scalars(select(Individual.household_id).where(
        Individual.id.in_([m.kept_id for m in merges.values()]))))
    if kept_households != {kept.household_id}:
        return None
    household_merge = HouseholdMerge(
        kept_household_id=kept.household_id, merged_household_id=merged.household_id,
        merge_ids=sorted(m.id for m in merges.values()), merged_by_id=actor.user_id)
    db.add(household_merge)
    db.flush()
    return household_merge


def confirm(db: Session, *, actor: Principal, pair_id: int, note: str | None = None
            ) -> MergeRead:
    """The two individuals are one person: merge them (and their households when complete)."""
    scope = scope_for(db, actor=actor)
    pair = _pair(db, scope, pair_id)
    _pending(pair)
    left = db.get(Individual, pair.individual_l_id)
    right = db.get(Individual, pair.individual_r_id)
    assert left is not None and right is not None
    if _active_merges(db, [left.id, right.id]):
        raise Conflict("One of these individuals is already merged into another; unmerge it "
                       "first.", field="pair_id")
    kept, merged = _survivor(actor, left, right)
    others = list(db.scalars(select(CandidatePair).where(
        CandidatePair.decision == Decision.pending, CandidatePair.id != pair.id,
        (CandidatePair.individual_l_id == merged.id)
        | (CandidatePair.individual_r_id == merged.id))))
    for other in others:
        other.decision = Decision.superseded
    merge = IndividualMerge(pair_id=pair.id, kept_id=kept.id, merged_id=merged.id,
                            merged_by_id=actor.user_id,
                            snapshot={"present": merged.present,
                                      "household_id": merged.household_id,
                                      "superseded": [o.id for o in others]})
    merged.present = False
    pair.decision, pair.decided_by_id, pair.decided_at = (Decision.confirmed, actor.user_id,
                                                          utcnow())
    pair.note = note
    db.add(merge)
    db.flush()
    labels.record(db, actor=actor, pair=pair, is_match=True)
    household_merge = _household_merge(db, actor, kept, merged)
    audit.record(db, actor=actor, action="linkage.confirm", object_type="linkage_pair",
                 object_id=pair.id, detail={
                     "merge": merge.id, "kept": kept.id, "merged": merged.id,
                     "superseded_pairs": [o.id for o in others],
                     "household_merge": household_merge.id if household_merge else None,
                     "households": [kept.household_id, merged.household_id]})
    return _merge_read(db, merge)


def reject(db: Session, *, actor: Principal, pair_id: int, note: str | None = None
           ) -> CandidateRead:
    """The two individuals are different people: never propose this pair again."""
    scope = scope_for(db, actor=actor)
    pair = _pair(db, scope, pair_id)
    _pending(pair)
    pair.decision, pair.decided_by_id, pair.decided_at = (Decision.rejected, actor.user_id,
                                                          utcnow())
    pair.note = note
    db.flush()
    labels.record(db, actor=actor, pair=pair, is_match=False)
    audit.record(db, actor=actor, action="linkage.reject", object_type="linkage_pair",
                 object_id=pair.id, detail={"individuals": [pair.individual_l_id,
                                                            pair.individual_r_id]})
    return CandidateRead.model_validate(pair, from_attributes=True)


def unmerge(db: Session, *, actor: Principal, merge_id: int) -> MergeRead:
    """Undo a merge: the individual, its superseded pairs and its household come back."""
    scope = scope_for(db, actor=actor)
    merge = db.get(IndividualMerge, merge_id)
    kept = db.get(Individual, merge.kept_id) if merge else None
    merged = db.get(Individual, merge.merged_id) if merge else None
    if merge is None or kept is None or merged is None or not (
            scope.sees(kept) and scope.sees(merged)):
        raise NotFound("No such merge.", field="merge_id")
    if merge.unmerged_at is not None:
        raise Conflict("This merge was already undone.", field="merge_id")
    if actor.organisation_id is not None and merged.organisation_id != actor.organisation_id:
        raise PermissionDenied("Only the organisation whose record was merged away can undo "
                               "the merge.", field="merge_id")
    now = utcnow()
    household = db.get(Household, merged.household_id)
    # The household may have moved on since: present again only if it is present.
    merged.present = household is not None and household.status == HouseholdStatus.present
    merge.unmerged_at, merge.unmerged_by_id = now, actor.user_id
    restored = list(db.scalars(select(CandidatePair).where(
        CandidatePair.id.in_(merge.snapshot.get("superseded", [])),
        CandidatePair.decision == Decision.superseded)))
    for other in restored:
        other.decision = Decision.pending
    pair = db.get(CandidatePair, merge.pair_id)
    if pair is not None:
        pair.decision, pair.decided_by_id, pair.decided_at = Decision.pending, None, None
        labels.withdraw(db, pair_id=pair.id)
    undone = [h for h in db.scalars(select(HouseholdMerge).where(
        HouseholdMerge.merged_household_id == merged.household_id,
        HouseholdMerge.unmerged_at.is_(None))) if merge.id in (h.merge_ids or [])]
    for h in undone:
        h.unmerged_at, h.unmerged_by_id = now, actor.user_id
    db.flush()
    audit.record(db, actor=actor, action="linkage.unmerge", object_type="linkage_merge",
                 object_id=merge.id, detail={
                     "pair": merge.pair_id, "kept": kept.id, "merged": merged.id,
                     "restored_pairs": [o.id for o in restored],
                     "household_merges_undone": [h.id for h in undone]})
    return _merge_read(db, merge)


def reopen(db: Session, *, actor: Principal, pair_id: int) -> CandidateRead:
    """Take back a rejection: the pair is pending again and its label withdrawn."""
    scope = scope_for(db, actor=actor)
    pair = _pair(db, scope, pair_id)
    if pair.decision != Decision.rejected:
        raise Conflict(f"Only a rejected pair can be reopened (this one is "
                       f"{pair.decision.value}); undo a confirmation by unmerging.",
                       field="pair_id")
    pair.decision, pair.decided_by_id, pair.decided_at = Decision.pending, None, None
    labels.withdraw(db, pair_id=pair.id)
    db.flush()
    audit.record(db, actor=actor, action="linkage.reopen", object_type="linkage_pair",
                 object_id=pair.id, detail={"individuals": [pair.individual_l_id,
                                                            pair.individual_r_id]})
    return CandidateRead.model_validate(pair, from_attributes=True)
