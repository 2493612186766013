"""The Fellegi–Sunter model: deterministic EM, saving and loading, probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from havens.exceptions import ValidationFailed
from havens.linkage.features import COMPARISONS
from havens.linkage.model import M_FLOOR, Model, train, u_from_sample


def _synthetic() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(3)
    rows = []
    for match in [True] * 400 + [False] * 600:
        row = []
        for c in COMPARISONS:
            top = len(c.levels) - 1
            row.append(top if (match and rng.random() < 0.9) or rng.random() < 0.05
                       else int(rng.integers(0, top)))
        rows.append(row)
    arr = np.array(rows)
    patterns, counts = np.unique(arr, axis=0, return_counts=True)
    u = [np.full(len(c.levels), 1.0 / len(c.levels)) for c in COMPARISONS]
    return patterns, counts, u


def test_em_is_deterministic_and_separates() -> None:
    patterns, counts, u = _synthetic()
    a = train(patterns, counts, u=u, n_records=2000)
    b = train(patterns, counts, u=u, n_records=2000)
    assert a.to_json()["fields"] == b.to_json()["fields"]
    assert a.pairs_per_record == b.pairs_per_record
    given = a.fields[0]
    assert given.m[-1] > 0.8 and given.weights()[-1] > given.weights()[0]
    prior = 0.05
    all_top = {c.name: len(c.levels) - 1 for c in COMPARISONS}
    all_bottom = {c.name: 0 for c in COMPARISONS}
    assert a.probability(all_top, prior) > 0.99
    assert a.probability(all_bottom, prior) < 0.01


def test_save_and_load(tmp_path: Path) -> None:
    patterns, counts, u = _synthetic()
    model = train(patterns, counts, u=u, n_records=2000)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = Model.load(path)
    assert loaded.to_json() == model.to_json()
    path.write_text('{"format": "something else"}')
    with pytest.raises(ValidationFailed):
        Model.load(path)


FIELDS = [c.name for c in COMPARISONS]
TOP = {c.name: len(c.levels) - 1 for c in COMPARISONS}


def _pairs(rng: np.random.Generator, n: int, agree: dict[str, float]) -> np.ndarray:
    """``n`` comparison vectors: each field at its top level with probability ``agree[field]``
    (default 0.02), else at level 0."""
    cols = [np.where(rng.random(n) < agree.get(f, 0.02), TOP[f], 0) for f in FIELDS]
    return np.column_stack(cols)


def test_em_is_not_fooled_by_non_matches_that_blocking_chose() -> None:
    # Candidates: 3,000 true duplicates, and 2,000 neighbours born on the same day in the same
    # village (a "place + birthday" block) whose names differ. Among random pairs a shared village
    # is rare, so with u fixed at the random pairs' values EM would count the neighbours as
    # matches whose names differ; u estimated among the candidates tells them apart.
    rng = np.random.default_rng(7)
    matches = _pairs(rng, 3000, {"given": 0.97, "lineage": 0.95, "sex": 1.0, "dob": 0.7,
                                 "origin": 0.9, "phone": 0.5, "document": 0.5})
    neighbours = _pairs(rng, 2000, {"sex": 0.5, "dob": 1.0, "origin": 1.0})
    patterns, counts = np.unique(np.vstack([matches, neighbours]), axis=0, return_counts=True)
    sample = _pairs(rng, 50_000, {"sex": 0.5, "dob": 0.001, "origin": 0.01})
    model = train(patterns, counts, u=u_from_sample(sample), n_records=20_000)
    given = model.fields[FIELDS.index("given")]
    lineage = model.fields[FIELDS.index("lineage")]
    assert given.m[0] < 0.06 and lineage.m[0] < 0.08  # true: 0.03 and 0.05
    # 3,000 matching pairs among 20,000 records.
    assert model.pairs_per_record == pytest.approx(0.15, rel=0.15)


def test_the_random_sample_s_own_matches_are_taken_out_of_u() -> None:
    # Among 200,000 random pairs of 10,000 records, about 20 are the same person — nearly every
    # pair with the same document number. Counted as chance agreements they would make "same
    # document" weak evidence.
    rng = np.random.default_rng(3)
    matches = _pairs(rng, 2000, {"given": 0.9, "lineage": 0.9, "sex": 1.0, "dob": 0.9,
                                 "origin": 0.9, "document": 0.95})
    patterns, counts = np.unique(matches, axis=0, return_counts=True)
    sample = np.vstack([_pairs(rng, 200_000, {"sex": 0.5, "given": 0.01, "lineage": 0.01,
                                              "document": 0.0}),
                        matches[:20]])
    plain = u_from_sample(sample)[FIELDS.index("document")][-1]
    model = train(patterns, counts, u=u_from_sample(sample), n_records=10_000, u_sample=sample,
                  n_pairs=10_000 * 9_999 // 2)
    assert model.fields[FIELDS.index("document")].u[-1] < plain / 10
    assert model.meta["u_sample"]["matches"] == pytest.approx(20, abs=3)


def test_no_level_is_impossible_for_a_match() -> None:
    patterns, counts, u = _synthetic()
    model = train(patterns, counts, u=u, n_records=2000)
    assert min(min(f.m) for f in model.fields) >= 0.9 * M_FLOOR
