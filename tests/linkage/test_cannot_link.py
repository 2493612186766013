"""Pairs known to be different people never end in one cluster: ``cluster(cannot_link=...)``,
``havens linkage dedupe --cannot-link`` and reviewers' rejections in the registry run."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from havens.audit.models import AuditRecord
from havens.cli.linkage import app
from havens.linkage import constraints, learned, review, service
from havens.linkage import registry as engine
from havens.linkage.access import scope_for
from havens.linkage.cluster import _bits, cluster
from havens.linkage.models import CandidatePair
from havens.orgs.permissions import Principal
from havens.people.models import Household
from tests.linkage.conftest import Registry, stored_rows, write

runner = CliRunner()


def _never(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
    raise AssertionError(f"scored {pairs}: nothing should need scoring")


# --- cluster() ------------------------------------------------------------------------------

def test_a_pair_that_may_not_link_is_split() -> None:
    left, right, p = np.array([0, 2]), np.array([1, 3]), np.array([0.999, 0.999])
    assert cluster(4, left, right, p, 0.9, _never).tolist() == [0, 0, 2, 2]
    labels = cluster(4, left, right, p, 0.9, _never, cannot_link=[(1, 0)])
    assert labels.tolist() == [0, 1, 2, 2]  # split without scoring; the other pair untouched


def test_a_component_of_three_that_all_clears_is_split() -> None:
    # Every pair clears the threshold: without the constraint the component stays whole.
    left, right = np.array([0, 1, 0]), np.array([1, 2, 2])
    p = np.array([0.99, 0.99, 0.99])

    def score(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
        return dict.fromkeys(pairs, 0.99)

    assert len(set(cluster(3, left, right, p, 0.9, score).tolist())) == 1
    labels = cluster(3, left, right, p, 0.9, score, cannot_link=[(2, 0)])
    assert labels[0] != labels[2]
    assert labels[1] in (labels[0], labels[2])  # the third record joins one of them at most


def test_a_component_above_max_component_honours_it() -> None:
    # Five copies of one person, every pair an edge; above max_component the component is
    # clustered on its edges only, without scoring.
    pairs = [(a, b) for a in range(5) for b in range(a + 1, 5)]
    left, right = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    p = np.full(len(pairs), 0.999)
    whole = cluster(5, left, right, p, 0.9, _never, max_component=3)
    assert len(set(whole.tolist())) == 1
    labels = cluster(5, left, right, p, 0.9, _never, max_component=3, cannot_link=[(4, 0)])
    assert labels[0] != labels[4]


def test_cannot_link_across_components_changes_nothing() -> None:
    left, right, p = np.array([0, 2]), np.array([1, 3]), np.array([0.99, 0.99])
    labels = cluster(4, left, right, p, 0.9, _never, cannot_link=np.array([[0, 2], [1, 3]]))
    assert labels.tolist() == [0, 0, 2, 2]
    with pytest.raises(ValueError, match="outside"):
        cluster(4, left, right, p, 0.9, _never, cannot_link=[(0, 4)])


# --- the file command -----------------------------------------------------------------------

LIST = [
    ["record_id", "given_name", "father_name", "grandfather_name", "family_name", "sex",
     "date_of_birth", "origin_pcode", "phone"],
    ["a1", "Mohammed", "Abd al-Rahman", "Khalid", "Al-Khatib", "M", "1984-03-12", "SY020100",
     "0933123456"],
    ["a2", "Muhammad", "Abdulrahman", "Khaled", "Alkhatib", "M", "1984-03-12", "SY020100",
     "0933123456"],
    ["b1", "Fatima", "Hasan", "Ali", "Al-Masri", "F", "1990-07-01", "SY070001", ""],
    ["b2", "Omar", "Yusuf", "Ibrahim", "Haddad", "M", "1975-11-30", "SY030200", ""],
]


def _csv(path: Path, data: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(data)
    return path


def _clusters(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as fh:
        return {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}


@pytest.fixture
def listed(tmp_path: Path) -> tuple[Path, list[str]]:
    """The list and the common arguments (the bundled model: no training on four records)."""
    model = shutil.copy(engine.DEFAULT_MODEL, tmp_path / "model.json")
    src = _csv(tmp_path / "list.csv", LIST)
    return src, ["dedupe", str(src), "--model", str(model)]


def test_dedupe_keeps_a_rejected_pair_apart(listed: tuple[Path, list[str]],
                                            tmp_path: Path) -> None:
    _src, args = listed
    out, pairs = tmp_path / "clusters.csv", tmp_path / "pairs.csv"
    first = runner.invoke(app, [*args, "--out", str(out), "--pairs", str(pairs)])
    assert first.exit_code == 0, first.output
    assert _clusters(out)["a1"] == _clusters(out)["a2"]  # clearly the same man
    # The reviewer says they are not: the pairs file, decided, is fed back as it is.
    with pairs.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert [r[:2] for r in rows[1:]] == [["a1", "a2"]]
    reviewed = _csv(tmp_path / "rejected.csv", [[*rows[0], "decision"], [*rows[1], "rejected"]])
    again = runner.invoke(app, [*args, "--out", str(out), "--cannot-link", str(reviewed)])
    assert again.exit_code == 0, again.output
    clusters = _clusters(out)
    assert clusters["a1"] != clusters["a2"] and len(clusters) == 4
    assert "kept apart" in again.output


@pytest.mark.parametrize(("rows", "message"), [
    ([["record_id_l", "record_id_r"], ["a1", "a2"], ["b1", "nobody"]],
     "rejected.csv line 3: record_id_r 'nobody' is not a record of list.csv"),
    ([["record_id_l", "record_id_r"], ["x9", "a2"]],
     "rejected.csv line 2: record_id_l 'x9' is not a record of list.csv"),
    ([["left", "right"], ["a1", "a2"]], "rejected.csv: no 'record_id_l' column"),
    ([["record_id_l", "record_id_r"], ["a1", ""]], "rejected.csv line 2: empty record_id_r"),
    ([["record_id_l", "record_id_r"], ["a1", "a1"]],
     "rejected.csv line 2: record id 'a1' is paired with itself"),
])
def test_bad_cannot_link_files_are_named(listed: tuple[Path, list[str]], tmp_path: Path,
                                         rows: list[list[str]], message: str) -> None:
    _src, args = listed
    bad = _csv(tmp_path / "rejected.csv", rows)
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o.csv"), "--cannot-link",
                                 str(bad)])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "o.csv").exists()  # stopped before any work


@pytest.mark.skipif(os.environ.get("HAVENS_TEST_DATABASE_URL", "").startswith("postgres"),
                    reason="files only: runs once, in the SQLite pass (as test_spark.py)")
def test_spark_dedupe_keeps_a_rejected_pair_apart(listed: tuple[Path, list[str]],
                                                  tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    _src, args = listed
    rejected = _csv(tmp_path / "rejected.csv", [["record_id_l", "record_id_r"], ["a2", "a1"]])
    out = tmp_path / "clusters.csv"
    result = runner.invoke(app, [*args, "--out", str(out), "--engine", "spark",
                                 "--cannot-link", str(rejected)])
    assert result.exit_code == 0, result.output
    clusters = _clusters(out)
    assert clusters["a1"] != clusters["a2"] and len(clusters) == 4


# --- the registry run -----------------------------------------------------------------------

def _register_copy(db: Session, reg: Registry, household: Household) -> list[int]:
    """The household registered a third time, by UNHCR-L, from its stored names: its members
    match both earlier registrations. Returns the new members' ids in the same order."""
    rows = stored_rows(household, ref=f"THIRD-{household.id}", site_code=next(iter(reg.sites)))
    (new_id,) = write(db, reg.unhcr, reg.sites, [rows])
    copy = db.get(Household, new_id)
    assert copy is not None
    return [m.id for m in copy.members]


def _queue(db: Session) -> dict[tuple[int, int], CandidatePair]:
    return {(p.individual_l_id, p.individual_r_id): p for p in db.scalars(select(CandidatePair))}


def _key(a: int, b: int) -> tuple[int, int]:
    return min(a, b), max(a, b)


@pytest.mark.parametrize("incremental", [False, True])
def test_a_record_matching_two_rejected_people_joins_one_at_most(
        db: Session, registry: Registry, system: Principal, incremental: bool) -> None:
    service.run(db, actor=system)
    original_id, copy_id = next(iter(registry.copies.items()))
    original, copy = db.get(Household, original_id), db.get(Household, copy_id)
    assert original is not None and copy is not None
    a, b = original.members[0].id, copy.members[0].id
    queue = _queue(db)
    service.reject(db, actor=system, pair_id=queue[_key(a, b)].id, note="twins")
    before = set(queue)
    third = _register_copy(db, registry, original)
    c = third[0]
    # Without the rejection the third registration would be proposed with both: it matches
    # each of them (same Arabic names, date of birth, origin) well above the threshold.
    records = service._records(db, scope_for(db, actor=system), since=0)
    free = engine.match(records, threshold=service.DEFAULT_THRESHOLD,
                          model=engine.default_model())
    scored = {(p.individual_l_id, p.individual_r_id) for p in free.pairs}
    assert {_key(a, c), _key(b, c)} <= scored
    run = service.run(db, actor=system, incremental=incremental)
    assert run.incremental is incremental
    added = set(_queue(db)) - before
    proposed = {_key(a, c), _key(b, c)} & added
    assert len(proposed) == 1, "C chains the two people a reviewer kept apart"
    # The rest of the third registration is proposed as usual (with both earlier copies).
    for original_member, copy_member, new in zip(original.members[1:], copy.members[1:],
                                                 third[1:], strict=True):
        assert {_key(original_member.id, new), _key(copy_member.id, new)} <= added
    audit = db.scalar(select(AuditRecord).where(AuditRecord.action == "linkage.run")
                      .order_by(AuditRecord.id.desc()).limit(1))
    assert audit is not None and audit.detail["kept_apart"] == run.kept_apart >= 1
    assert run.proposed == len(added)


def test_rejections_outlive_merges(db: Session, registry: Registry,
                                   system: Principal) -> None:
    service.run(db, actor=system)
    original_id, copy_id = next(iter(registry.copies.items()))
    original, copy = db.get(Household, original_id), db.get(Household, copy_id)
    assert original is not None and copy is not None
    a, b = original.members[0].id, copy.members[0].id
    (c, *_rest) = _register_copy(db, registry, original)
    service.run(db, actor=system)
    queue = _queue(db)
    # B is not C, and B is A: so A is not C either.
    service.reject(db, actor=system, pair_id=queue[_key(b, c)].id)
    merge = service.confirm(db, actor=system, pair_id=queue[_key(a, b)].id)
    assert (merge.kept_id, merge.merged_id) == (a, b)
    assert constraints.rejected_pairs(db) == [_key(a, c)]
    # Unmerged, B is itself again; a reopened pair binds nobody.
    service.unmerge(db, actor=system, merge_id=merge.id)
    assert constraints.rejected_pairs(db) == [_key(b, c)]
    review.reopen(db, actor=system, pair_id=queue[_key(b, c)].id)
    assert constraints.rejected_pairs(db) == []


def test_a_chain_of_relatives_is_not_proposed_whole(db: Session, registry: Registry,
                                                    system: Principal) -> None:
    # Pairs A–B and B–C above the threshold whose A–C is so far apart that the mean match
    # weight of the weaker link and A–C is under the threshold's: the generated registry has
    # such a chain of namesakes in one family (0.995, 0.956 and 0.179).
    records = service._records(db, scope_for(db, actor=system), since=0)
    scores = {(p.individual_l_id, p.individual_r_id): p.probability for p in engine.match(
        records, threshold=0.0, model=engine.default_model()).pairs}
    target = _bits(service.DEFAULT_THRESHOLD)
    above = sorted(k for k, p in scores.items() if p >= service.DEFAULT_THRESHOLD)
    chains = [(x, y) for i, x in enumerate(above) for y in above[i + 1:]
              if len(set(x) & set(y)) == 1
              and (_bits(min(scores[x], scores[y]))
                   + _bits(scores.get(_key(*(set(x) ^ set(y))), 0.0))) / 2 < target]
    assert chains
    run = service.run(db, actor=system)
    queue = set(_queue(db))
    assert not any(x in queue and y in queue for x, y in chains)
    assert run.proposed == len(queue) < len(above)


def test_a_learned_scorer_clusters_the_same_way(db: Session, registry: Registry,
                                               system: Principal) -> None:
    # A learned model (here: a steeper function of the unsupervised weight) scores the pairs
    # inside a component that clustering asks about, as it scored the candidates.
    coef = [0.0] * len(learned.FEATURES)
    coef[learned.FEATURES.index("fs_weight")] = 10.0
    scorer = learned.LearnedModel.from_json({
        "format": learned.FORMAT, "version": 1, "kind": "logistic",
        "features": learned.FEATURES, "params": {"coef": coef, "intercept": 0.0},
        "calibration": {"x": [0.0, 1.0], "y": [0.0, 1.0]}, "labels": 60})
    original_id, copy_id = next(iter(registry.copies.items()))
    original, copy = db.get(Household, original_id), db.get(Household, copy_id)
    assert original is not None and copy is not None
    a, b = original.members[0].id, copy.members[0].id
    c = _register_copy(db, registry, original)[0]
    records = service._records(db, scope_for(db, actor=system), since=0)
    model = engine.default_model()
    free = engine.match(records, threshold=0.8, model=model, learned=scorer)
    both = {_key(a, b), _key(a, c), _key(b, c)}
    assert both <= {(p.individual_l_id, p.individual_r_id) for p in free.pairs}
    kept = engine.match(records, threshold=0.8, model=model, learned=scorer,
                        cannot_link=[(b, a)])
    found = {(p.individual_l_id, p.individual_r_id) for p in kept.pairs} & both
    assert len(found) == 1 and _key(a, b) not in found
    assert kept.kept_apart == free.kept_apart + 1
