"""Versions of the learned model on disk: train, promote only when better, roll back.

``<data_dir>/linkage/models/v<N>.json`` holds each trained model and ``promoted.json`` names the
version in use. A fifth of the labels (stratified, fixed seed) is held out; a candidate fitted
on the rest must beat the current scorer (the promoted learned model, or the unsupervised model
through the probability it gave when the reviewer decided) on F1 there, else it is kept but not
promoted. The stored model is refitted on all labels.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from havens.exceptions import NotFound, ValidationFailed
from havens.linkage.labels import Example
from havens.linkage.learned_model import LearnedModel, matrices
from havens.linkage.learned_train import SEED, check_counts, fit, scores


def folder(data_dir: Path | None = None) -> Path:
    """Where learned models are stored (under the configured data folder)."""
    if data_dir is None:
        from havens.config import get_settings

        data_dir = Path(get_settings().data_dir)
    return data_dir / "linkage" / "models"


def versions(root: Path | None = None) -> list[LearnedModel]:
    """All stored models, oldest first, with ``promoted`` set on the one in use."""
    root = root or folder()
    if not root.exists():
        return []
    current = _promoted_version(root)
    out = []
    for path in sorted(root.glob("v*.json"), key=lambda p: int(p.stem[1:] or 0)):
        model = LearnedModel.from_json(json.loads(path.read_text(encoding="utf-8")),
                                       source=str(path))
        model.promoted = model.version == current
        out.append(model)
    return out


def _promoted_version(root: Path) -> int | None:
    pointer = root / "promoted.json"
    if not pointer.exists():
        return None
    return int(json.loads(pointer.read_text(encoding="utf-8"))["version"])


def get(version: int, root: Path | None = None) -> LearnedModel:
    root = root or folder()
    path = root / f"v{version}.json"
    if not path.exists():
        raise NotFound(f"No learned model version {version}.", field="version")
    model = LearnedModel.from_json(json.loads(path.read_text(encoding="utf-8")),
                                   source=str(path))
    model.promoted = model.version == _promoted_version(root)
    return model


def promoted(root: Path | None = None) -> LearnedModel | None:
    """The model in use, or None (the unsupervised model scores)."""
    root = root or folder()
    version = _promoted_version(root)
    if version is None:
        return None
    try:
        return get(version, root)
    except (NotFound, ValidationFailed):
        return None  # a model of an older comparison set: fall back to unsupervised


def promote(version: int, root: Path | None = None) -> LearnedModel:
    """Use ``version`` from now on (also how to roll back to an earlier one)."""
    root = root or folder()
    model = get(version, root)
    (root / "promoted.json").write_text(json.dumps({"version": version}), encoding="utf-8")
    model.promoted = True
    return model


def _save(model: LearnedModel, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    model.version = max((int(p.stem[1:]) for p in root.glob("v*.json")), default=0) + 1
    (root / f"v{model.version}.json").write_text(json.dumps(model.to_json(), indent=1),
                                                 encoding="utf-8")


def _holdout(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    train_idx, test_idx = train_test_split(idx, test_size=0.2, stratify=y, random_state=SEED)
    return np.sort(train_idx), np.sort(test_idx)


@dataclass
class TrainResult:
    model: LearnedModel
    promoted: bool
    candidate_f1: float
    current_f1: float
    current: str
    seconds: float


def train(examples: list[Example], root: Path | None = None, *, threshold: float = 0.5
          ) -> TrainResult:
    """Train a new version, store it, and promote it only if it beats the current scorer on
    held-out labels."""
    start = time.perf_counter()
    root = root or folder()
    y = np.array([1 if e.is_match else 0 for e in examples])
    check_counts(y)
    model = fit(examples)
    train_idx, test_idx = _holdout(y)
    candidate = fit([examples[i] for i in train_idx], model.params["c"])
    held = [examples[i] for i in test_idx]
    levels, tf = matrices([e.features for e in held])
    cand = scores(y[test_idx], candidate.predict(levels, tf), threshold)
    current = promoted(root)
    if current is not None:
        base = scores(y[test_idx], current.predict(levels, tf), threshold)
        current_name = current.tag
    else:
        # The unsupervised model, through the probability it gave the reviewer (imported labels
        # carry none: uninformative 0.5).
        p = np.array([0.5 if e.probability is None else e.probability for e in held])
        base = scores(y[test_idx], p, threshold)
        current_name = "unsupervised"
    model.heldout = {"labels": len(test_idx), "candidate": cand, "current": base,
                     "current_model": current_name}
    _save(model, root)
    better = cand["f1"] > base["f1"]
    if better:
        promote(model.version, root)
        model.promoted = True
    return TrainResult(model, better, cand["f1"], base["f1"], current_name,
                       round(time.perf_counter() - start, 3))
