"""A supervised pair classifier learned from reviewers' labels, versioned as JSON files.

Why: Fellegi–Sunter assumes fields agree independently given match status; brothers and cousins
share lineage, place and often birth year together, so the unsupervised model over-rewards them.
A classifier trained on labelled comparison vectors learns those interactions.

* Features: the comparison level of every field and name part, one-hot (level -1 = missing is a
  category of its own), plus -log2 of the agreed given name's and lineage's frequencies and the
  unsupervised model's match weight (``fs_weight``, stored with each candidate pair).
* Training needs at least :data:`MIN_PER_CLASS` matches and as many non-matches; until then the
  unsupervised model scores. Two candidates — L2-regularised logistic regression and
  ``HistGradientBoostingClassifier`` (from :data:`BOOSTING_MIN_PER_CLASS` labels of each class;
  with fewer it overfits) — are compared by stratified 5-fold cross-validation on F1 (then log
  loss); the logistic model wins ties because it is simpler and easier to explain. The reason is
  stored with the model. Both read the unsupervised model's match weight as a feature, so they
  learn corrections to Fellegi–Sunter (where relatives fool it) rather than start from
  nothing. Probabilities are calibrated by isotonic regression on the out-of-fold predictions.
* Promotion: a fifth of the labels (stratified, fixed seed) is held out; a candidate fitted on
  the rest must beat the current scorer (the promoted learned model, or the unsupervised model
  through the probability it gave when the reviewer decided) on F1 there, else it is kept but not
  promoted. The stored model is then refitted on all labels.
* Storage: ``<data_dir>/linkage/models/v<N>.json`` (weights on comparison features only — the
  logistic coefficients, or the boosted trees' split features, thresholds and leaf values — and
  the calibration curve; never personal data, never pickle) and ``promoted.json`` naming the
  version in use. ``promote``/``rollback`` switch it to any stored version.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from havens.exceptions import NotFound, ValidationFailed
from havens.linkage.labels import LEVELS, TF_FIELDS, Example

FORMAT = "havens-linkage-learned/1"
MIN_PER_CLASS = 30
#: Gradient boosting competes only from this many labels of each class: with fewer it overfits
#: the few matches (measured: 41 matches gave F1 0.954 against logistic's 0.98 on 100k records).
BOOSTING_MIN_PER_CLASS = 100
SEED = 11
_TF_FLOOR = 1e-5
#: Feature names, in column order: one column per (field, level) and the two frequencies.
FEATURES: list[str] = [f"{f}={k}" for f, top in LEVELS.items() for k in range(-1, top + 1)]
FEATURES += [f"-log2 {t}" for t in TF_FIELDS]
FEATURES += ["fs_weight", "fs_weight missing"]
#: Numeric inputs besides the levels: name frequencies and the unsupervised model's match weight
#: (log2 odds; the learned model corrects Fellegi–Sunter rather than starting from nothing).
EXTRA = (*TF_FIELDS, "fs_weight")
_OFFSETS = np.cumsum([0] + [top + 2 for top in LEVELS.values()])[:-1]


def encode(levels: np.ndarray, tf: np.ndarray) -> np.ndarray:
    """Feature matrix of ``levels`` (n × fields, in ``LEVELS`` order) and ``tf`` (n × ``EXTRA``:
    the two frequencies and the Fellegi–Sunter weight; NaN = unknown)."""
    n = len(levels)
    x = np.zeros((n, len(FEATURES)), dtype=np.float64)
    rows = np.arange(n)
    for j, off in enumerate(_OFFSETS):
        x[rows, off + levels[:, j].astype(np.int64) + 1] = 1.0
    tfv = np.where(np.isnan(tf[:, :2]), 1.0, np.maximum(tf[:, :2], _TF_FLOOR))
    x[:, -4:-2] = -np.log2(tfv) / 16.0  # scaled to about [0, 1]
    fs = tf[:, 2]
    x[:, -2] = np.where(np.isnan(fs), 0.0, np.clip(fs, -40.0, 40.0) / 20.0)
    x[:, -1] = np.isnan(fs)
    return x


def matrices(vectors: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(levels, tf) arrays of comparison vectors as stored in labels."""
    levels = np.array([[int(v.get(f, -1)) for f in LEVELS] for v in vectors],
                      dtype=np.int64).reshape(-1, len(LEVELS))
    tf = np.array([[np.nan if v.get(t) is None else float(v[t]) for t in EXTRA]
                   for v in vectors], dtype=np.float64).reshape(-1, len(EXTRA))
    return levels, tf


@dataclass
class LearnedModel:
    """A trained, calibrated pair classifier (JSON-serialisable)."""

    kind: str  # logistic | boosting
    params: dict[str, Any]
    calibration: dict[str, list[float]]
    version: int = 0
    labels: int = 0
    matches: int = 0
    cv: dict[str, Any] = field(default_factory=dict)
    heldout: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    created_at: str = ""
    promoted: bool = False

    @property
    def tag(self) -> str:
        """The model version as stored with runs and pairs."""
        return f"learned-v{self.version}"

    @property
    def estimated_f1(self) -> float | None:
        f1 = self.cv.get("f1")
        return float(f1) if f1 is not None else None

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated score in [0, 1]."""
        if self.kind == "logistic":
            z = x @ np.asarray(self.params["coef"]) + float(self.params["intercept"])
        else:
            z = np.full(len(x), float(self.params["baseline"]))
            for tree in self.params["trees"]:
                z += _tree_predict(tree, x)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def predict(self, levels: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Calibrated match probability of each comparison vector."""
        raw = self.raw(encode(levels, tf))
        cal = np.interp(raw, self.calibration["x"], self.calibration["y"])
        return np.clip(cal, 0.001, 0.999)

    def probability(self, vector: dict[str, Any]) -> float:
        levels, tf = matrices([vector])
        return float(self.predict(levels, tf)[0])

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": self.version, "kind": self.kind,
                "features": FEATURES, "params": self.params, "calibration": self.calibration,
                "labels": self.labels, "matches": self.matches, "cv": self.cv,
                "heldout": self.heldout, "reason": self.reason, "created_at": self.created_at}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: str = "model") -> LearnedModel:
        if data.get("format") != FORMAT:
            raise ValidationFailed(f"{source}: not a {FORMAT} file", field="model")
        if data.get("features") != FEATURES:
            raise ValidationFailed(f"{source}: trained on other comparison features; train "
                                   "again", field="model")
        return cls(kind=data["kind"], params=data["params"], calibration=data["calibration"],
                   version=int(data["version"]), labels=int(data["labels"]),
                   matches=int(data.get("matches", 0)), cv=data.get("cv", {}),
                   heldout=data.get("heldout", {}), reason=data.get("reason", ""),
                   created_at=data.get("created_at", ""))


def _tree_predict(tree: dict[str, list[Any]], x: np.ndarray) -> np.ndarray:
    feature = np.asarray(tree["feature"])
    threshold = np.asarray(tree["threshold"])
    left, right = np.asarray(tree["left"]), np.asarray(tree["right"])
    leaf, value = np.asarray(tree["leaf"], dtype=bool), np.asarray(tree["value"])
    node = np.zeros(len(x), dtype=np.int64)
    for _ in range(64):  # depth bound
        active = ~leaf[node]
        if not active.any():
            break
        idx = np.flatnonzero(active)
        cur = node[idx]
        go_left = x[idx, feature[cur]] <= threshold[cur]
        node[idx] = np.where(go_left, left[cur], right[cur])
    return value[node]


def _export_boosting(clf: Any) -> dict[str, Any]:
    """The fitted trees of a ``HistGradientBoostingClassifier`` as plain lists."""
    trees = []
    for (predictor,) in clf._predictors:  # one tree per iteration (binary classification)
        nodes = predictor.nodes
        trees.append({"feature": nodes["feature_idx"].tolist(),
                      "threshold": nodes["num_threshold"].tolist(),
                      "left": nodes["left"].tolist(), "right": nodes["right"].tolist(),
                      "leaf": nodes["is_leaf"].astype(int).tolist(),
                      "value": nodes["value"].tolist()})
    return {"baseline": float(np.ravel(clf._baseline_prediction)[0]), "trees": trees}


def _candidates() -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    return {
        "logistic": LogisticRegression(C=1.0, max_iter=2000),
        # The probability never falls as the unsupervised weight rises: outside the labelled
        # range trees would otherwise extrapolate flat from the nearest labels.
        "boosting": HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=5,
            l2_regularization=1.0, random_state=SEED,
            monotonic_cst=[0] * (len(FEATURES) - 2) + [1, 0]),
    }


def _scores(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    pred = p >= threshold
    tp = float((pred & (y == 1)).sum())
    precision = tp / pred.sum() if pred.sum() else 1.0
    recall = tp / (y == 1).sum() if (y == 1).sum() else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
            "f1": round(float(f1), 4)}


def _fit(kind: str, x: np.ndarray, y: np.ndarray) -> tuple[dict[str, Any], Any]:
    from threadpoolctl import threadpool_limits

    clf = _candidates()[kind]
    with threadpool_limits(1):
        clf.fit(x, y)
    if kind == "logistic":
        coef = [float(v) for v in clf.coef_[0]]
        return {"coef": coef, "intercept": float(clf.intercept_[0])}, clf
    return _export_boosting(clf), clf


def fit(examples: list[Example], kinds: tuple[str, ...] = ("logistic", "boosting")
        ) -> LearnedModel:
    """Choose among ``kinds``, fit and calibrate a classifier on ``examples`` (no file)."""
    from threadpoolctl import threadpool_limits

    # One thread: on small label sets OpenMP's start-up costs more than it saves.
    with threadpool_limits(1):
        return _fit_choose(examples, kinds)


def _check_counts(y: np.ndarray) -> None:
    matches, others = int(y.sum()), int(len(y) - y.sum())
    if min(matches, others) < MIN_PER_CLASS:
        raise ValidationFailed(
            f"Not enough labels to train: {matches} matches and {others} non-matches; at least "
            f"{MIN_PER_CLASS} of each are needed (until then the unsupervised model scores).",
            field="labels")


def _fit_choose(examples: list[Example], kinds: tuple[str, ...]) -> LearnedModel:
    from sklearn.isotonic import IsotonicRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.array([1 if e.is_match else 0 for e in examples])
    _check_counts(y)
    matches, others = int(y.sum()), int(len(y) - y.sum())
    levels, tf = matrices([e.features for e in examples])
    x = encode(levels, tf)
    folds = StratifiedKFold(n_splits=min(5, min(matches, others)), shuffle=True,
                            random_state=SEED)
    cv: dict[str, dict[str, float]] = {}
    oof: dict[str, np.ndarray] = {}
    for kind, clf in _candidates().items():
        if kind not in kinds or (kind == "boosting" and len(kinds) > 1
                                 and min(matches, others) < BOOSTING_MIN_PER_CLASS):
            continue
        p = cross_val_predict(clf, x, y, cv=folds, method="predict_proba")[:, 1]
        oof[kind] = p
        cv[kind] = {**_scores(y, p), "log_loss": round(float(log_loss(y, p, labels=[0, 1])), 4)}
    if len(cv) == 1:
        kind = next(iter(cv))
        reason = (f"{kind}: the kind chosen on all labels" if len(kinds) == 1 else
                  f"logistic regression: cross-validated F1 {cv[kind]['f1']:.3f}; gradient "
                  f"boosting needs {BOOSTING_MIN_PER_CLASS} labels of each class")
    elif (cv["boosting"]["f1"], -cv["boosting"]["log_loss"]) > (
            cv["logistic"]["f1"] + 0.002, -cv["logistic"]["log_loss"]):
        lg, gb = cv["logistic"], cv["boosting"]
        kind = "boosting"
        reason = (f"gradient boosting: cross-validated F1 {gb['f1']:.3f} vs logistic "
                  f"{lg['f1']:.3f} (log loss {gb['log_loss']:.3f} vs {lg['log_loss']:.3f}); "
                  "the labels show interactions between fields")
    else:
        lg, gb = cv["logistic"], cv["boosting"]
        kind = "logistic"
        reason = (f"logistic regression: cross-validated F1 {lg['f1']:.3f} vs boosting "
                  f"{gb['f1']:.3f} (log loss {lg['log_loss']:.3f} vs {gb['log_loss']:.3f}); "
                  "as good and simpler to explain")
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(oof[kind], y)
    params, _ = _fit(kind, x, y)
    return LearnedModel(
        kind=kind, params=params,
        calibration={"x": [float(v) for v in iso.X_thresholds_],
                     "y": [float(v) for v in iso.y_thresholds_]},
        labels=len(y), matches=matches, cv={**cv[kind], "candidates": cv}, reason=reason,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


# --- versions on disk ------------------------------------------------------------------------

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
    _check_counts(y)
    model = fit(examples)
    train_idx, test_idx = _holdout(y)
    candidate = fit([examples[i] for i in train_idx], (model.kind,))
    held = [examples[i] for i in test_idx]
    levels, tf = matrices([e.features for e in held])
    cand = _scores(y[test_idx], candidate.predict(levels, tf), threshold)
    current = promoted(root)
    if current is not None:
        base = _scores(y[test_idx], current.predict(levels, tf), threshold)
        current_name = current.tag
    else:
        # The unsupervised model, through the probability it gave the reviewer (imported labels
        # carry none: uninformative 0.5).
        p = np.array([0.5 if e.probability is None else e.probability for e in held])
        base = _scores(y[test_idx], p, threshold)
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
