"""Versions of the learned model on disk: train, promote only when better, roll back.

``<data_dir>/linkage/models/v<N>.json`` holds each trained model and ``promoted.json`` names the
version in use. A fifth of the labels (stratified, fixed seed) is held out; a candidate fitted
on the rest must beat the current scorer (the promoted learned model, or the unsupervised model
through the probability it gave when the reviewer decided) on F1 there, else it is kept but not
promoted. The stored model is refitted on all labels.

Files are written through a temporary file in the same folder and renamed over the old one, so a
crash never leaves half a file. A file that cannot be read or is of a kind no longer scored
(boosted trees of earlier versions) is skipped with a warning: ``versions`` lists the others,
and ``promoted`` falls back to the unsupervised model. (The files hold weights on comparison
features only, so the warnings name them freely.)
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from havens.exceptions import NotFound, ValidationFailed
from havens.linkage.labels import Example
from havens.linkage.learned_model import LearnedModel, matrices
from havens.linkage.learned_train import SEED, check_counts, fit, scores

log = logging.getLogger(__name__)
#: What reading a stored file may raise when it is torn, edited or of another format.
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, NotFound, ValidationFailed)


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
    for path in sorted(root.glob("v*.json"), key=_number):
        try:
            model = _load(path)
        except _UNREADABLE as exc:
            log.warning("skipping learned model file %s: %s", path, exc)
            continue
        model.promoted = model.version == current
        out.append(model)
    return out


def _number(path: Path) -> int:
    """The version number in a file name ``v<N>.json`` (-1 when it is not one)."""
    digits = path.stem[1:]
    return int(digits) if digits.isdigit() else -1


def _load(path: Path) -> LearnedModel:
    return LearnedModel.from_json(json.loads(path.read_text(encoding="utf-8")),
                                  source=str(path))


def _promoted_version(root: Path) -> int | None:
    """The version ``promoted.json`` names; None (with a warning) when it cannot be read."""
    pointer = root / "promoted.json"
    if not pointer.exists():
        return None
    try:
        return int(json.loads(pointer.read_text(encoding="utf-8"))["version"])
    except _UNREADABLE as exc:
        log.warning("ignoring unreadable %s (the unsupervised model scores): %s", pointer, exc)
        return None


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same folder, renamed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # Readable as files written directly used to be (weights only, no personal data).
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def get(version: int, root: Path | None = None) -> LearnedModel:
    root = root or folder()
    path = root / f"v{version}.json"
    if not path.exists():
        raise NotFound(f"No learned model version {version}.", field="version")
    model = _load(path)
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
    except _UNREADABLE as exc:
        # Missing, torn, of an older comparison set or of a kind no longer scored.
        log.warning("promoted learned model v%s is not usable (the unsupervised model scores): "
                    "%s", version, exc)
        return None


def promote(version: int, root: Path | None = None) -> LearnedModel:
    """Use ``version`` from now on (also how to roll back to an earlier one)."""
    root = root or folder()
    model = get(version, root)
    _write(root / "promoted.json", json.dumps({"version": version}))
    model.promoted = True
    return model


def _save(model: LearnedModel, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    model.version = max((_number(p) for p in root.glob("v*.json")), default=0) + 1
    _write(root / f"v{model.version}.json", json.dumps(model.to_json(), indent=1))


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
