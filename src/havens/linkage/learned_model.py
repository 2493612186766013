"""A learned pair classifier as stored: comparison features, weights, calibration, scoring.

The model is plain JSON (see ``learned.py``): no pickle, no personal data. This module encodes
comparison vectors as features, predicts calibrated probabilities with the stored weights and
scores a DuckDB comparison table; fitting is in ``learned_train.py``, versions on disk in
``learned_store.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from havens.exceptions import ValidationFailed
from havens.linkage.labels import LEVELS, TF_FIELDS

FORMAT = "havens-linkage-learned/1"
_TF_FLOOR = 1e-5
#: Feature names, in column order: one column per (field, level) and the two frequencies.
FEATURES: list[str] = [f"{f}={k}" for f, top in LEVELS.items() for k in range(-1, top + 1)]
FEATURES += [f"-log2 {t}" for t in TF_FIELDS]
FEATURES += ["fs_weight", "fs_weight missing"]
#: Numeric inputs besides the levels: name frequencies and the unsupervised model's match weight
#: (log2 odds; the learned model corrects Fellegi–Sunter rather than starting from nothing).
EXTRA = (*TF_FIELDS, "fs_weight")
#: Column of the Fellegi–Sunter weight in the feature matrix.
FS_COLUMN = len(FEATURES) - 2
#: The Fellegi–Sunter weight enters as natural log-odds (bits × ln 2): a coefficient of 1 on it
#: reproduces the unsupervised model, so regularisation pulls the classifier towards
#: Fellegi–Sunter, not towards ignoring it. Models stored before this scale (weight / 20, where
#: L2 shrinkage kept the classifier from trusting Fellegi–Sunter on pairs it had not seen
#: labelled) keep theirs through ``fs_scale``.
FS_SCALE = math.log(2)
_OLD_FS_SCALE = 1 / 20
_FS_CLIP = 40.0  # bits


def encode(levels: np.ndarray, tf: np.ndarray, fs_scale: float = FS_SCALE) -> np.ndarray:
    """Feature matrix of ``levels`` (n × fields, in ``LEVELS`` order) and ``tf`` (n × ``EXTRA``:
    the two frequencies and the Fellegi–Sunter weight; NaN = unknown)."""
    n = len(levels)
    x = np.zeros((n, len(FEATURES)), dtype=np.float64)
    rows = np.arange(n)
    offsets = np.cumsum([0] + [top + 2 for top in LEVELS.values()])[:-1]
    for j, off in enumerate(offsets):
        x[rows, off + levels[:, j].astype(np.int64) + 1] = 1.0
    tfv = np.where(np.isnan(tf[:, :2]), 1.0, np.maximum(tf[:, :2], _TF_FLOOR))
    x[:, -4:-2] = -np.log2(tfv) / 16.0  # scaled to about [0, 1]
    fs = tf[:, 2]
    x[:, FS_COLUMN] = np.where(np.isnan(fs), 0.0, np.clip(fs, -_FS_CLIP, _FS_CLIP) * fs_scale)
    x[:, -1] = np.isnan(fs)
    return x


def matrices(vectors: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(levels, tf) arrays of comparison vectors as stored in labels."""
    levels = np.array([[int(v.get(f, -1)) for f in LEVELS] for v in vectors],
                      dtype=np.int64).reshape(-1, len(LEVELS))
    tf = np.array([[np.nan if v.get(t) is None else float(v[t]) for t in EXTRA]
                   for v in vectors], dtype=np.float64).reshape(-1, len(EXTRA))
    return levels, tf


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def calibrate(z: np.ndarray, calibration: dict[str, Any]) -> np.ndarray:
    """Calibrated probability of raw log-odds ``z``: a sigmoid ``a·z + b`` (``a``, ``b``), or an
    isotonic curve over the raw probability (``x``, ``y``: models stored before sigmoids)."""
    if "a" in calibration:
        return sigmoid(float(calibration["a"]) * z + float(calibration["b"]))
    return np.interp(sigmoid(z), calibration["x"], calibration["y"])


@dataclass
class LearnedModel:
    """A trained, calibrated pair classifier (JSON-serialisable)."""

    kind: str  # logistic (the only kind trained; see learned_train.py)
    params: dict[str, Any]
    calibration: dict[str, Any]
    version: int = 0
    labels: int = 0
    matches: int = 0
    cv: dict[str, Any] = field(default_factory=dict)
    heldout: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    created_at: str = ""
    promoted: bool = False
    fs_scale: float = FS_SCALE

    @property
    def tag(self) -> str:
        """The model version as stored with runs and pairs."""
        return f"learned-v{self.version}"

    @property
    def estimated_f1(self) -> float | None:
        f1 = self.cv.get("f1")
        return float(f1) if f1 is not None else None

    def log_odds(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated score of feature rows, as log-odds."""
        return x @ np.asarray(self.params["coef"]) + float(self.params["intercept"])

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated score in [0, 1]."""
        return sigmoid(self.log_odds(x))

    def encode(self, levels: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Feature matrix as this model was trained on."""
        return encode(levels, tf, self.fs_scale)

    def predict(self, levels: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Calibrated match probability of each comparison vector."""
        z = self.log_odds(self.encode(levels, tf))
        return np.clip(calibrate(z, self.calibration), 0.001, 0.999)

    def probability(self, vector: dict[str, Any]) -> float:
        levels, tf = matrices([vector])
        return float(self.predict(levels, tf)[0])

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": self.version, "kind": self.kind,
                "features": FEATURES, "fs_scale": self.fs_scale, "params": self.params,
                "calibration": self.calibration, "labels": self.labels,
                "matches": self.matches, "cv": self.cv, "heldout": self.heldout,
                "reason": self.reason, "created_at": self.created_at}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: str = "model") -> LearnedModel:
        if data.get("format") != FORMAT:
            raise ValidationFailed(f"{source}: not a {FORMAT} file", field="model")
        if data.get("features") != FEATURES:
            raise ValidationFailed(f"{source}: trained on other comparison features; train "
                                   "again", field="model")
        if data.get("kind") != "logistic":
            # Boosted trees of earlier versions overrode the unsupervised model where no label
            # fell (learned_train.py): they are not scored any more.
            raise ValidationFailed(f"{source}: a {data.get('kind')} model is no longer used; "
                                   "train again", field="model")
        return cls(kind=data["kind"], params=data["params"], calibration=data["calibration"],
                   version=int(data["version"]), labels=int(data["labels"]),
                   matches=int(data.get("matches", 0)), cv=data.get("cv", {}),
                   heldout=data.get("heldout", {}), reason=data.get("reason", ""),
                   created_at=data.get("created_at", ""),
                   fs_scale=float(data.get("fs_scale", _OLD_FS_SCALE)))


def score_table(con: Any, model: LearnedModel, table: str = "cmp") -> dict[str, np.ndarray]:
    """Score every pair of a DuckDB comparison table (``comparison_sql`` columns and, when there
    is one, ``fs_weight``): returns its ``rid_l``, ``rid_r`` and ``p`` arrays."""
    from havens.linkage.features import COMPARISONS

    names = {c.name for c in COMPARISONS}
    cols = [f"g_{f}" if f in names else f"x_{f}" for f in LEVELS]
    present = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    fs = "fs_weight" if "fs_weight" in present else "NULL::DOUBLE AS fs_weight"
    data = con.execute(f"SELECT rid_l, rid_r, {', '.join(cols)}, "
                       f"{', '.join(TF_FIELDS)}, {fs} FROM {table}").fetchnumpy()
    n = len(data["rid_l"])
    if n == 0:
        return {"rid_l": np.zeros(0, np.int64), "rid_r": np.zeros(0, np.int64),
                "p": np.zeros(0)}
    levels = np.column_stack([np.asarray(data[c], dtype=np.int64) for c in cols])
    tf = np.column_stack([np.ma.filled(np.ma.asarray(data[t], dtype=np.float64), np.nan)
                          for t in EXTRA])
    return {"rid_l": np.asarray(data["rid_l"], dtype=np.int64),
            "rid_r": np.asarray(data["rid_r"], dtype=np.int64), "p": model.predict(levels, tf)}
