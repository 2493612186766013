"""The learned scorer: minimum labels, choice by cross-validation, promotion only when better,
rollback, JSON without personal data, and scoring files with it."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest

from havens.exceptions import NotFound, ValidationFailed
from havens.linkage import engine_duckdb, learned, synth
from havens.linkage.labels import LEVELS, Example


def _examples(n: int, seed: int = 5, flip: float = 0.0) -> list[Example]:
    """Duplicates (names agree, dates mostly) and brothers (lineage and place agree, given name
    and date differ): the unsupervised model's hard case. ``flip``: share of wrong answers."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        same = i % 2 == 0
        v = {f: top for f, top in LEVELS.items()}
        if same:
            v["given"] = rng.choice([3, 3, 2])
            v["dob"] = rng.choice([5, 5, 4, 3, 1])
            v["phone"] = rng.choice([-1, -1, 1])
        else:
            v["given"] = rng.choice([0, 0, 1])
            v["dob"] = rng.choice([0, 1, 2])
            v["phone"] = rng.choice([-1, 0])
        v["document"] = -1
        v["tf_given"] = rng.choice([0.05, 0.001, 0.0002])
        v["tf_lineage"] = 0.001
        answer = same if rng.random() >= flip else not same
        # The unsupervised model gave everything in the queue a high probability.
        out.append(Example(v, answer, 0.9))
    return out


def _namesakes(n: int) -> list[Example]:
    out = []
    for _ in range(n):
        v = {f: top for f, top in LEVELS.items()}
        v.update(lineage=0, father=0, grandfather=0, family=0, origin=0, document=-1,
                 phone=-1, tf_given=0.05, tf_lineage=0.001)
        out.append(Example(v, False, 0.9))
    return out


def test_too_few_labels_means_unsupervised(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="at least 30"):
        learned.train(_examples(40), tmp_path)
    assert learned.promoted(tmp_path) is None


def test_train_promotes_only_when_better_and_rolls_back(tmp_path: Path) -> None:
    first = learned.train(_examples(200), tmp_path)
    assert first.promoted and first.current == "unsupervised"
    assert first.candidate_f1 > first.current_f1
    model = first.model
    assert model.version == 1 and model.labels == 200 and model.matches == 100
    assert model.kind in ("logistic", "boosting") and "cross-validated F1" in model.reason
    assert {"precision", "recall", "f1"} <= set(model.cv) and model.cv["f1"] > 0.95
    promoted = learned.promoted(tmp_path)
    assert promoted is not None and promoted.version == 1
    # The same labels again: the new model is no better — stored, not promoted.
    same = learned.train(_examples(200), tmp_path)
    assert same.model.version == 2 and not same.promoted
    assert same.current == "learned-v1" and same.candidate_f1 <= same.current_f1
    assert learned.promoted(tmp_path).version == 1  # type: ignore[union-attr]
    # Labels of a kind v1 never saw (namesakes: same given name and birthday, another
    # family) — v1 calls them matches, the new model learns better and is promoted.
    better = learned.train(_examples(200) + _namesakes(100), tmp_path)
    assert better.promoted and better.candidate_f1 > better.current_f1
    assert learned.promoted(tmp_path).version == 3  # type: ignore[union-attr]
    # Roll back to v1, promote v2 by hand.
    learned.promote(1, tmp_path)
    assert learned.promoted(tmp_path).version == 1  # type: ignore[union-attr]
    learned.promote(2, tmp_path)
    listed = learned.versions(tmp_path)
    assert [(m.version, m.promoted) for m in listed] == [(1, False), (2, True), (3, False)]
    with pytest.raises(NotFound):
        learned.promote(7, tmp_path)


def test_model_file_is_json_weights_on_comparison_features(tmp_path: Path) -> None:
    result = learned.train(_examples(120), tmp_path)
    data = json.loads((tmp_path / "v1.json").read_text())
    assert data["format"] == learned.FORMAT and data["features"] == learned.FEATURES
    assert set(data) >= {"params", "calibration", "cv", "labels", "created_at", "heldout"}
    again = learned.LearnedModel.from_json(data)
    ex = _examples(20, seed=9)
    levels, tf = learned.matrices([e.features for e in ex])
    assert np.allclose(again.predict(levels, tf), result.model.predict(levels, tf))
    p = again.predict(levels, tf)
    truth = np.array([e.is_match for e in ex])
    assert (p[truth] > 0.5).all() and (p[~truth] < 0.5).all()


def test_boosted_trees_in_json_predict_as_sklearn() -> None:
    ex = _examples(200, flip=0.1)
    x = learned.encode(*learned.matrices([e.features for e in ex]))
    y = np.array([e.is_match for e in ex])
    params, clf = learned._fit("boosting", x, y)
    model = learned.LearnedModel(kind="boosting", params=json.loads(json.dumps(params)),
                                 calibration={"x": [0.0, 1.0], "y": [0.0, 1.0]})
    assert np.allclose(model.raw(x), clf.predict_proba(x)[:, 1])


def test_dedupe_scores_with_a_learned_model(tmp_path: Path) -> None:
    src = tmp_path / "list.csv"
    records = len(synth.generate(400, seed=3, path=src))
    result = learned.train(_examples(200), tmp_path / "models")
    out = tmp_path / "clusters.csv"
    summary = engine_duckdb.dedupe(src, out=out, pairs_out=tmp_path / "pairs.csv",
                                   learned=result.model)
    assert summary.learned == "learned-v1"
    with out.open() as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == records
    with (tmp_path / "pairs.csv").open() as fh:
        probs = [float(r["match_probability"]) for r in csv.DictReader(fh)]
    assert probs and min(probs) >= 0.9
