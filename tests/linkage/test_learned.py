"""The learned scorer: minimum labels, choice by cross-validation, promotion only when better,
rollback, JSON without personal data, regularised towards Fellegi–Sunter, calibration that
keeps the ranking, and scoring files with it."""

from __future__ import annotations

import csv
import itertools
import json
import logging
import math
import random
from pathlib import Path

import numpy as np
import pytest

from havens.exceptions import NotFound, ValidationFailed
from havens.linkage import engine_duckdb, learned, learned_train, synth
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
    with pytest.raises(ValidationFailed, match="at least 38"):
        learned.train(_examples(40), tmp_path)
    assert learned.promoted(tmp_path) is None


def _counts(matches: int, others: int) -> list[Example]:
    ex = _examples(2 * max(matches, others))
    return ([e for e in ex if e.is_match][:matches]
            + [e for e in ex if not e.is_match][:others])


def test_minimum_leaves_enough_labels_for_the_held_out_check(tmp_path: Path) -> None:
    # A fifth is held out, so 30 of each (the fitting minimum) must remain in four fifths.
    assert learned.MIN_PER_CLASS == math.ceil(learned_train.MIN_FIT_PER_CLASS / 0.8) == 38
    # Enough for 30 of each overall, not after the held-out fifth: refused up front, clearly.
    with pytest.raises(ValidationFailed) as refused:
        learned.train(_counts(32, 38), tmp_path)
    message = str(refused.value)
    assert "32 matches and 38 non-matches" in message
    assert "at least 38 matches and 38 non-matches are needed" in message
    assert not list(tmp_path.iterdir())
    # The documented minimum of each trains.
    result = learned.train(_counts(38, 38), tmp_path)
    assert result.model.labels == 76 and result.model.matches == 38
    assert result.model.heldout["labels"] == 16


def test_torn_promoted_pointer_falls_back_to_unsupervised(tmp_path: Path) -> None:
    learned.train(_examples(120), tmp_path)
    (tmp_path / "promoted.json").write_text('{"vers', encoding="utf-8")
    assert learned.promoted(tmp_path) is None
    assert [(m.version, m.promoted) for m in learned.versions(tmp_path)] == [(1, False)]
    # Promoting again repairs it; no temporary file is left behind.
    learned.promote(1, tmp_path)
    assert learned.promoted(tmp_path).version == 1  # type: ignore[union-attr]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["promoted.json", "v1.json"]
    # A promoted model file that is torn is not used either.
    (tmp_path / "v1.json").write_text('{"format": ', encoding="utf-8")
    assert learned.promoted(tmp_path) is None


def test_models_of_a_retired_kind_are_skipped_when_listing(tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    learned.train(_examples(120), tmp_path)
    data = json.loads((tmp_path / "v1.json").read_text())
    (tmp_path / "v2.json").write_text(json.dumps({**data, "version": 2, "kind": "boosting"}))
    learned.promote(1, tmp_path)
    (tmp_path / "promoted.json").write_text(json.dumps({"version": 2}))
    with caplog.at_level(logging.WARNING, logger="havens.linkage.learned_store"):
        listed = learned.versions(tmp_path)
        assert learned.promoted(tmp_path) is None
    assert [m.version for m in listed] == [1]
    assert "v2.json" in caplog.text
    # A new version is numbered after the skipped file, not over it.
    assert learned.train(_examples(120), tmp_path).model.version == 3


def test_train_promotes_only_when_better_and_rolls_back(tmp_path: Path) -> None:
    first = learned.train(_examples(200), tmp_path)
    assert first.promoted and first.current == "unsupervised"
    assert first.candidate_f1 > first.current_f1
    model = first.model
    assert model.version == 1 and model.labels == 200 and model.matches == 100
    assert model.kind == "logistic" and "cross-validated F1" in model.reason
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


def test_penalty_chosen_by_cross_validation_and_stored_as_fitted() -> None:
    ex = _examples(200, flip=0.1)
    model = learned.fit(ex)
    assert model.params["c"] in learned.CS
    assert set(model.cv["candidates"]) == {f"C={c:g}" for c in learned.CS}
    assert f"C={model.params['c']:g}" in model.reason
    x = learned.encode(*learned.matrices([e.features for e in ex]))
    y = np.array([e.is_match for e in ex])
    clf = learned_train.CorrectedLogistic(model.params["c"]).fit(x, y)
    stored = learned.LearnedModel.from_json(json.loads(json.dumps(model.to_json())))
    assert np.allclose(stored.raw(x), clf.predict_proba(x)[:, 1])


def _hard_cases(n: int, seed: int = 4) -> list[Example]:
    """Labels as reviewers give them: only pairs the unsupervised model hesitated over (match
    weight between -3 and 3 bits), brothers rejected and duplicates confirmed."""
    out = []
    for ex in _examples(n, seed=seed):
        rng = random.Random(len(out) + seed)
        v = {**ex.features, "fs_weight": rng.uniform(-3.0, 3.0)}
        out.append(Example(v, ex.is_match, 0.5))
    return out


def test_labels_near_the_boundary_keep_fellegi_sunter_elsewhere() -> None:
    model = learned.fit(_hard_cases(240))
    sure = {f: top for f, top in LEVELS.items()}
    sure.update(document=-1, phone=-1, tf_given=0.01, tf_lineage=0.001)
    # Pairs no label looked like: the unsupervised model is sure, one way or the other.
    alike = {**sure, "given": 0, "dob": 0, "fs_weight": 30.0}  # a brother's pattern, but sure
    apart = {**sure, "fs_weight": -30.0}  # everything agrees, yet sure it is not a match
    assert model.probability(alike) > 0.9
    assert model.probability(apart) < 0.1
    # Where labels exist, the classifier learnt what Fellegi–Sunter could not tell.
    assert model.probability({**sure, "given": 0, "dob": 0, "fs_weight": 1.0}) < 0.5
    assert model.probability({**sure, "fs_weight": -1.0}) > 0.5


def test_calibration_keeps_the_ranking_of_separable_labels() -> None:
    # Perfectly separable answers, as a random sample of mostly easy pairs gives.
    rng = random.Random(2)
    ex = [Example({**e.features, "fs_weight": (8.0 if e.is_match else -8.0) + rng.uniform(-3, 3)},
                  e.is_match) for e in _examples(200)]
    model = learned.fit(ex)
    assert set(model.calibration) == {"a", "b"}
    v = {f: top for f, top in LEVELS.items()}
    v.update(given=2, dob=1, document=-1, tf_given=0.01, tf_lineage=0.001)
    p = [model.probability({**v, "fs_weight": w}) for w in (-4.0, -2.0, 0.0, 2.0, 4.0)]
    # More evidence, more probability: not two steps at 0 and 1.
    assert all(a < b for a, b in itertools.pairwise(p))
    assert min(p) > 0.001 and max(p) < 0.999


def test_models_stored_before_the_current_encoding_still_score() -> None:
    coef = [0.0] * len(learned.FEATURES)
    coef[learned.FEATURES.index("fs_weight")] = 2.0  # on weight / 20, as stored before
    data = {"format": learned.FORMAT, "version": 3, "kind": "logistic",
            "features": learned.FEATURES, "params": {"coef": coef, "intercept": 0.0},
            "calibration": {"x": [0.0, 1.0], "y": [0.0, 1.0]}, "labels": 60}
    model = learned.LearnedModel.from_json(data)
    v = {f: 0 for f in LEVELS} | {"tf_given": None, "tf_lineage": None, "fs_weight": 10.0}
    assert model.probability(v) == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert learned.LearnedModel.from_json(model.to_json()).probability(v) == pytest.approx(
        model.probability(v))
    # Boosted trees of earlier versions are refused (they overrode the unsupervised model).
    with pytest.raises(ValidationFailed, match="no longer used"):
        learned.LearnedModel.from_json({**data, "kind": "boosting"})


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
