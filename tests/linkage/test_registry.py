"""The registry run and the review decisions, at the service level."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit.models import AuditRecord
from havens.exceptions import Conflict, NotFound, PermissionDenied
from havens.linkage import registry as engine
from havens.linkage import service
from havens.linkage.access import scope_for
from havens.linkage.features import COMPARISONS
from havens.linkage.models import CandidatePair, Decision, HouseholdMerge, IndividualMerge
from havens.orgs.permissions import Principal
from havens.people.models import Household, Individual
from tests.linkage.conftest import Registry, share, stored_rows, write

NAMES = ("given_name", "family_name", "father_name", "_ar", "_en")


def _queue(db: Session) -> dict[tuple[int, int], CandidatePair]:
    return {(p.individual_l_id, p.individual_r_id): p for p in db.scalars(select(CandidatePair))}


def _org(db: Session, individual_id: int) -> int:
    individual = db.get(Individual, individual_id)
    assert individual is not None
    return individual.organisation_id


def _audits(db: Session, action: str) -> list[AuditRecord]:
    return list(db.scalars(select(AuditRecord).where(AuditRecord.action == action)
                           .order_by(AuditRecord.id)))


def _no_names(db: Session, records: list[AuditRecord]) -> None:
    names = {n for i in db.scalars(select(Individual)) for n in
             (i.given_name_ar, i.family_name_ar, i.given_name_en, i.family_name_en) if n}
    for record in records:
        text = str(record.detail)
        assert not any(n in text for n in names if len(n) > 3), text


def test_run_finds_the_planted_duplicates(db: Session, registry: Registry,
                                          system: Principal) -> None:
    run = service.run(db, actor=system)
    queue = _queue(db)
    assert registry.planted <= set(queue)
    assert run.records == db.query(Individual).count()
    assert run.proposed == len(queue) and not run.incremental
    # The duplicates lead the queue: same Arabic names, date of birth, origin.
    top = sorted(queue.values(), key=lambda p: -p.match_probability)[:len(registry.planted)]
    assert sum((p.individual_l_id, p.individual_r_id) in registry.planted for p in top) >= \
        len(registry.planted) - 1
    pair = queue[min(registry.planted)]
    assert pair.match_probability >= 0.95
    assert set(pair.levels) >= {"given", "lineage", "sex", "dob", "origin", "phone", "document",
                                "father", "grandfather", "family"}
    top = {c.name: len(c.levels) - 1 for c in COMPARISONS}
    assert pair.levels["given"] == top["given"] and pair.levels["lineage"] == top["lineage"]
    # Phone numbers agree through their keyed hashes, without decrypting them.
    phones = [p for k, p in queue.items() if k in registry.planted and p.levels["phone"] >= 0]
    assert phones and all(p.levels["phone"] == 1 for p in phones)
    audits = _audits(db, "linkage.run")
    assert audits[-1].object_id == str(run.id) and audits[-1].detail["proposed"] == run.proposed
    _no_names(db, audits)


def test_year_only_birth_dates_go_in_as_the_year(db: Session, registry: Registry,
                                                 system: Principal) -> None:
    records = service._records(db, scope_for(db, actor=system), since=0)
    by_id = {r.individual_id: r for r in records}
    estimated = list(db.scalars(select(Individual).where(Individual.dob_estimated.is_(True))))
    assert estimated
    for individual in estimated:
        assert by_id[individual.id].date_of_birth == str(individual.date_of_birth.year)
    exact = db.scalar(select(Individual).where(Individual.dob_estimated.is_(False)).limit(1))
    assert exact is not None
    assert by_id[exact.id].date_of_birth == exact.date_of_birth.isoformat()
    # Arabic names are preferred: both copies of a planted person give the same name chain.
    left, right = min(registry.planted)
    assert (by_id[left].given, by_id[left].family) == (by_id[right].given, by_id[right].family)


def test_confirm_merges_audits_and_supersedes(db: Session, registry: Registry,
                                              system: Principal) -> None:
    service.run(db, actor=system, threshold=0.5)
    queue = _queue(db)
    key = min(registry.planted)
    merge = service.confirm(db, actor=system, pair_id=queue[key].id, note="same family book")
    assert (merge.kept_id, merge.merged_id) == key  # the first registration survives
    merged = db.get(Individual, merge.merged_id)
    assert merged is not None and merged.present is False
    assert queue[key].decision == Decision.confirmed and queue[key].note == "same family book"
    others = [p for k, p in queue.items() if merge.merged_id in k and k != key]
    assert all(p.decision == Decision.superseded for p in others)
    record = _audits(db, "linkage.confirm")[-1]
    assert record.object_id == str(queue[key].id)
    assert record.detail["kept"] == merge.kept_id and record.detail["merged"] == merge.merged_id
    _no_names(db, [record])
    with pytest.raises(Conflict):
        service.confirm(db, actor=system, pair_id=queue[key].id)
    # A merged-away individual is not matched again.
    again = service.run(db, actor=system)
    assert again.records == db.query(Individual).count() - 1


def test_reviewer_merges_away_only_their_own_record(db: Session, registry: Registry) -> None:
    share(db, registry.unhcr, registry.sarc)
    sarc = registry.p(registry.sarc_reviewer)
    service.run(db, actor=sarc)
    queue = _queue(db)
    key = min(registry.planted)
    merge = service.confirm(db, actor=sarc, pair_id=queue[key].id)
    merged = db.get(Individual, merge.merged_id)
    assert merged is not None and merged.organisation_id == registry.sarc.id
    assert merge.kept_id == key[0]  # UNHCR's record, registered first, survives
    # A pair of two UNHCR records, seen by SARC through sharing, is not SARC's to merge.
    unhcr_only = next((p for k, p in queue.items() if p.decision == Decision.pending
                       and {_org(db, i) for i in k} == {registry.unhcr.id}), None)
    if unhcr_only is not None:
        with pytest.raises(PermissionDenied):
            service.confirm(db, actor=sarc, pair_id=unhcr_only.id)


def test_whole_households_merge_and_unmerge(db: Session, registry: Registry,
                                           system: Principal) -> None:
    service.run(db, actor=system)
    queue = _queue(db)
    original, copy = next(iter(registry.copies.items()))
    household = db.get(Household, original)
    assert household is not None
    members = {m.id for m in household.members}
    pairs = sorted(k for k in registry.planted if k[0] in members)
    assert len(pairs) == len(members) >= 1
    merges = []
    for n, key in enumerate(pairs):
        assert db.scalar(select(HouseholdMerge)) is None, "merged before the last member"
        merges.append(service.confirm(db, actor=system, pair_id=queue[key].id))
        if n < len(pairs) - 1:
            assert not merges[-1].household_merges
    last = merges[-1].household_merges
    assert len(last) == 1
    assert (last[0].kept_household_id, last[0].merged_household_id) == (original, copy)
    # The people domain shows one household: the copy points at the original.
    merged_household = db.get(Household, copy)
    assert merged_household is not None and merged_household.merged_into_id == original
    assert all(db.get(Individual, m.merged_id).merged_into_id == m.kept_id  # type: ignore
               for m in merges)
    # Unmerging one member undoes the household merge and restores that member.
    undone = service.unmerge(db, actor=system, merge_id=merges[0].id)
    assert undone.unmerged_at is not None
    restored = db.get(Individual, merges[0].merged_id)
    assert restored is not None and restored.present is True
    assert queue[pairs[0]].decision == Decision.pending
    hm = db.get(HouseholdMerge, last[0].id)
    assert hm is not None and hm.unmerged_at is not None
    assert restored.merged_into_id is None and merged_household.merged_into_id is None
    record = _audits(db, "linkage.unmerge")[-1]
    assert record.detail["household_merges_undone"] == [last[0].id]
    with pytest.raises(Conflict):
        service.unmerge(db, actor=system, merge_id=merges[0].id)
    # The pair can be decided again.
    service.confirm(db, actor=system, pair_id=queue[pairs[0]].id)
    assert db.query(IndividualMerge).filter(IndividualMerge.unmerged_at.is_(None)).count() == \
        len(pairs)


def test_incremental_run_compares_individuals_unmerged_since(
        db: Session, registry: Registry, system: Principal) -> None:
    service.run(db, actor=system)
    key = min(registry.planted)
    merge = service.confirm(db, actor=system, pair_id=_queue(db)[key].id)
    merged = service.run(db, actor=system)  # the merged-away individual is left out
    assert merged.records == db.query(Individual).count() - 1
    service.unmerge(db, actor=system, merge_id=merge.id)
    # Nobody registered since, yet the individual back in the registry is compared again.
    again = service.run(db, actor=system, incremental=True)
    assert again.incremental and again.new_records == 1
    assert again.records == db.query(Individual).count()
    assert again.candidate_pairs > 0


def test_unmerge_restores_superseded_pairs(db: Session, registry: Registry,
                                           system: Principal) -> None:
    service.run(db, actor=system, threshold=0.3)
    queue = _queue(db)
    key = next((k for k in sorted(registry.planted)
                if any(k[1] in o and o != k for o in queue)), min(registry.planted))
    merge = service.confirm(db, actor=system, pair_id=queue[key].id)
    superseded = [p for p in queue.values() if p.decision == Decision.superseded]
    service.unmerge(db, actor=system, merge_id=merge.id)
    assert all(p.decision == Decision.pending for p in superseded)


def test_rejected_pairs_are_not_proposed_again(db: Session, registry: Registry,
                                               system: Principal) -> None:
    service.run(db, actor=system)
    queue = _queue(db)
    key = min(registry.planted)
    read = service.reject(db, actor=system, pair_id=queue[key].id, note="twins")
    assert read.decision == Decision.rejected
    assert _audits(db, "linkage.reject")[-1].object_id == str(queue[key].id)
    with pytest.raises(Conflict):
        service.reject(db, actor=system, pair_id=queue[key].id)
    again = service.run(db, actor=system, retrain=True)
    assert again.proposed == 0
    assert _queue(db)[key].decision == Decision.rejected
    assert len(_queue(db)) == len(queue)


def test_incremental_run_scores_only_new_pairs(db: Session, registry: Registry,
                                               system: Principal) -> None:
    first = service.run(db, actor=system)
    before = set(_queue(db))
    assert registry.generator is not None
    # Four households arrive later: two new families, and two registered again by UNHCR-L
    # of households SARC-L registered first.
    stream = registry.generator.households(site_codes=list(registry.sites))
    new = [next(stream) for _ in range(2)]
    write(db, registry.unhcr, registry.sites, new)
    sarc_households = list(db.scalars(select(Household).where(
        Household.organisation_id == registry.sarc.id,
        Household.household_ref.not_like("%-SARC")).order_by(Household.id).limit(2)))
    again_ids = _register_again(db, registry, sarc_households)
    newest = db.scalar(select(Individual.id).order_by(Individual.id.desc()).limit(1))
    run = service.run(db, actor=system, incremental=True)
    assert run.incremental and run.since_individual_id == first.last_individual_id
    assert run.last_individual_id == newest
    assert run.new_records == db.query(Individual).filter(
        Individual.id > first.last_individual_id).count()
    assert 0 < run.candidate_pairs < first.candidate_pairs
    added = set(_queue(db)) - before
    assert added and all(max(k) > first.last_individual_id for k in added)
    for household_id in again_ids:
        household = db.get(Household, household_id)
        assert household is not None
        assert all(any(m.id in k for k in added) for m in household.members)
    assert run.model_version == first.model_version  # reused, not retrained


def _register_again(db: Session, registry: Registry, households: list[Household]) -> list[int]:
    """Register ``households`` again for UNHCR-L from their stored rows (as a second agency)."""
    site = next(iter(registry.sites))
    return write(db, registry.unhcr, registry.sites,
                 [stored_rows(h, ref=f"AGAIN-{h.id}", site_code=site) for h in households])


def test_incremental_pairs_are_the_full_runs_pairs_of_new_records(
        db: Session, registry: Registry, system: Principal) -> None:
    records = service._records(db, scope_for(db, actor=system), since=0)
    cut = records[len(records) * 3 // 4].individual_id
    model = engine.default_model()
    full = engine.match(records, threshold=0.0, model=model)
    marked = [engine.Record(**{**{s: getattr(r, s) for s in r.__slots__}, "new": True})
              if r.individual_id >= cut else r for r in records]
    part = engine.match(marked, threshold=0.0, model=model, incremental=True)
    expected = {(p.individual_l_id, p.individual_r_id): p.probability for p in full.pairs
                if p.individual_r_id >= cut}
    assert {(p.individual_l_id, p.individual_r_id): p.probability for p in part.pairs} == expected
    assert part.candidate_pairs == len(expected) < full.candidate_pairs


def test_scope_hides_other_organisations_pairs(db: Session, registry: Registry) -> None:
    unhcr = registry.p(registry.reviewer)
    service.run(db, actor=unhcr, threshold=0.05)
    queue = _queue(db)
    assert queue and not (set(queue) & registry.planted)  # SARC's copies are not UNHCR's
    assert {_org(db, i) for k in queue for i in k} == {registry.unhcr.id}
    # With SARC-L sharing its households for assistance, the copies come into view.
    share(db, registry.sarc, registry.unhcr)
    service.run(db, actor=unhcr)
    queue = _queue(db)
    assert registry.planted <= set(queue)
    page = service.list_candidates(db, actor=unhcr, page_size=200)
    assert {(i.individual_l_id, i.individual_r_id) for i in page.items} >= registry.planted
    # SARC-L's reviewer sees no pair with a UNHCR-L record (nothing is shared that way).
    sarc = registry.p(registry.sarc_reviewer)
    pair = queue[min(registry.planted)]
    with pytest.raises(NotFound):
        service.candidate_detail(db, actor=sarc, pair_id=pair.id)
    sarc_only = [k for k, p in queue.items() if p.decision == Decision.pending
                 and {_org(db, i) for i in k} == {registry.sarc.id}]
    assert service.list_candidates(db, actor=sarc).total == len(sarc_only)


def test_sharing_without_names_keeps_records_out(db: Session, registry: Registry) -> None:
    share(db, registry.sarc, registry.unhcr, fields=("dates_of_birth",))
    unhcr = registry.p(registry.reviewer)
    service.run(db, actor=unhcr)
    assert not (set(_queue(db)) & registry.planted)


def test_candidate_detail_side_by_side(db: Session, registry: Registry,
                                      system: Principal) -> None:
    share(db, registry.sarc, registry.unhcr)
    service.run(db, actor=system)
    pair = _queue(db)[min(registry.planted)]
    unhcr = registry.p(registry.reviewer)
    detail = service.candidate_detail(db, actor=unhcr, pair_id=pair.id)
    assert detail.left.individual_id == pair.individual_l_id
    assert detail.left.organisation == "UNHCR-L" and detail.right.organisation == "SARC-L"
    assert detail.left.given_name_ar == detail.right.given_name_ar
    assert detail.left.birth_year == detail.right.birth_year
    fields = {a.field: a for a in detail.agreement}
    assert fields["given"].label == "same name" and fields["given"].weight is not None
    assert fields["given"].weight > 0
    assert fields["lineage"].label == "same line"
    assert fields["family"].level == 3 and fields["family"].weight is None
    read = _audits(db, "linkage.read")[-1]
    assert read.object_id == str(pair.id)
    assert read.detail["individuals"] == [pair.individual_l_id, pair.individual_r_id]
    _no_names(db, [read])
    with pytest.raises(PermissionDenied):  # the operator reads no personal data
        service.candidate_detail(db, actor=system, pair_id=pair.id)
    with pytest.raises(PermissionDenied):
        service.list_candidates(db, actor=registry.p(registry.viewer))
