"""The Fellegi–Sunter model: deterministic EM, saving and loading, probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from havens.exceptions import ValidationFailed
from havens.linkage.features import COMPARISONS
from havens.linkage.model import Model, train


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
