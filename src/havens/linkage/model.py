"""The Fellegi–Sunter model: m and u per comparison level, trained by EM, saved as JSON.

Training works on *comparison patterns*, not on pairs: the candidate pairs are grouped by their
vector of comparison levels in SQL (a few thousand distinct patterns for millions of pairs) and EM
runs over the pattern counts in NumPy, which takes milliseconds whatever the number of records.
EM is deterministic: the starting point is fixed (m high on the top level; u from a fixed,
hash-ordered sample of record pairs — not a random draw), the iteration count is bounded and the
tolerance fixed, so the same input gives the same model on any machine or engine.

A missing value (level -1) leaves its field out of both likelihoods, as in Splink.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from havens.exceptions import ValidationFailed
from havens.linkage.features import COMPARISONS

FORMAT = "havens-linkage-model/1"
_EPS = 1e-6
# Fields whose top level ("same name") is weighted by the term frequency of the agreed value:
# weight = log2(m / tf) instead of log2(m / u). tf is floored so a name seen once is not infinite.
TF_FIELDS = ("given", "lineage")
TF_FLOOR = 1e-5


@dataclass
class FieldParams:
    """m and u probabilities of one comparison's levels."""

    name: str
    levels: list[str]
    m: list[float]
    u: list[float]

    def weights(self) -> list[float]:
        """log2(m/u) of each level: the evidence one level gives for a match."""
        return [math.log2(max(m, _EPS) / max(u, _EPS)) for m, u in zip(self.m, self.u, strict=True)]


@dataclass
class Model:
    """A trained Fellegi–Sunter model."""

    fields: list[FieldParams]
    # Expected matching pairs per record: with the number of records and of possible pairs it
    # gives the prior, the probability that two records drawn at random match (as Splink's
    # probability_two_random_records_match). The prior is *not* the share of matches among
    # candidate pairs: blocking already selected pairs that agree, and the field weights count
    # those agreements again.
    pairs_per_record: float
    meta: dict[str, Any] = field(default_factory=dict)

    def prior(self, n_records: int, n_pairs: int) -> float:
        """Probability that two random records match, for a run over ``n_records`` records."""
        return min(max(self.pairs_per_record * n_records / max(n_pairs, 1), 1e-12), 0.5)

    def weight_sql(self, prior: float, prefix: str = "g_") -> str:
        """SQL expression of the match weight over the columns ``g_<field>`` and ``tf_<field>``."""
        terms = [f"{math.log2(prior / (1 - prior)):.10f}"]
        for fp in self.fields:
            weights = fp.weights()
            cases = []
            for k, w in enumerate(weights):
                if fp.name in TF_FIELDS and k == len(weights) - 1:
                    top = max(fp.m[k], _EPS)
                    cases.append(f"WHEN {k} THEN log2({top:.10f} / greatest(tf_{fp.name}, "
                                 f"{TF_FLOOR}))")
                else:
                    cases.append(f"WHEN {k} THEN {w:.10f}")
            terms.append(f"(CASE {prefix}{fp.name} {' '.join(cases)} ELSE 0 END)")
        return " + ".join(terms)

    def probability_sql(self, prior: float, prefix: str = "g_") -> str:
        """SQL expression of the match probability."""
        return f"(1.0 / (1.0 + pow(2.0, -({self.weight_sql(prior, prefix)}))))"

    def probability(self, levels: dict[str, int], prior: float,
                    tf: dict[str, float] | None = None) -> float:
        """Match probability of one comparison vector (missing fields: level -1).

        ``tf`` gives the term frequency of agreed names (as in :meth:`weight_sql`); without it the
        average u of the level is used.
        """
        w = math.log2(prior / (1 - prior))
        for fp in self.fields:
            k = levels.get(fp.name, -1)
            if k < 0:
                continue
            if tf and fp.name in tf and fp.name in TF_FIELDS and k == len(fp.m) - 1:
                w += math.log2(max(fp.m[k], _EPS) / max(tf[fp.name], TF_FLOOR))
            else:
                w += fp.weights()[k]
        return 1.0 / (1.0 + 2.0 ** (-w))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "pairs_per_record": self.pairs_per_record,
            "fields": [{"name": f.name, "levels": f.levels, "m": f.m, "u": f.u,
                        "weights": [round(w, 4) for w in f.weights()]} for f in self.fields],
            "meta": self.meta,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Model:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationFailed(f"{path}: not a readable model file ({exc})",
                                   field="model") from exc
        return cls.from_json(data, source=str(path))

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: str = "model") -> Model:
        """A model from :meth:`to_json` (a file, or a registry run's stored model)."""
        if data.get("format") != FORMAT:
            raise ValidationFailed(f"{source}: not a {FORMAT} file", field="model")
        names = [f["name"] for f in data["fields"]]
        expected = [c.name for c in COMPARISONS]
        if names != expected:
            raise ValidationFailed(f"{source}: model compares {names}, this version {expected}; "
                                   "retrain it (--retrain)", field="model")
        for f, c in zip(data["fields"], COMPARISONS, strict=True):
            if len(f["m"]) != len(c.levels) or len(f["u"]) != len(c.levels):
                raise ValidationFailed(f"{source}: model has {len(f['m'])} levels for "
                                       f"{c.name}, this version {len(c.levels)}; retrain it "
                                       "(--retrain)", field="model")
        fields = [FieldParams(f["name"], f["levels"], f["m"], f["u"]) for f in data["fields"]]
        return cls(fields=fields, pairs_per_record=float(data["pairs_per_record"]),
                   meta=data.get("meta", {}))


def _level_counts(patterns: np.ndarray, weights: np.ndarray, n_levels: list[int]
                  ) -> list[np.ndarray]:
    out = []
    for j, n in enumerate(n_levels):
        col = patterns[:, j]
        ok = col >= 0
        counts = np.bincount(col[ok], weights=weights[ok], minlength=n)
        out.append((counts + _EPS) / (counts.sum() + n * _EPS))
    return out


# Training sessions, as Splink trains per blocking rule: m of the fields that are not conditioned
# on is estimated among candidate pairs that agree on the condition. Conditioning on an exact date
# of birth keeps brothers and cousins (who share names but not birthdays) out of the name training;
# conditioning on given name + lineage trains dates and places on pairs that are mostly the same
# person or namesakes, never siblings.
# Each session lists alternative conditions: the first one met by enough pairs is used (lists
# without father's names never reach lineage level 4, so they train on the family name alone).
SESSIONS: tuple[tuple[tuple[dict[str, int], ...], tuple[str, ...]], ...] = (
    (({"dob": 5},), ("given", "lineage", "sex", "origin", "phone", "document")),
    (({"given": 3, "lineage": 4}, {"given": 3, "lineage": 1}),
     ("sex", "dob", "origin", "phone", "document")),
)
MIN_SESSION_PAIRS = 50


def _likelihood(patterns: np.ndarray, probs: list[np.ndarray], cols: list[int]) -> np.ndarray:
    out = np.zeros(len(patterns))
    for j in cols:
        col = patterns[:, j]
        ok = col >= 0
        out[ok] += np.log(probs[j][col[ok]])
    return out


def _em(patterns: np.ndarray, counts: np.ndarray, m: list[np.ndarray], u: list[np.ndarray],
        cols: list[int], *, update_m: bool, max_iter: int, tol: float,
        log_u: np.ndarray | None = None) -> tuple[float, int]:
    """EM with u fixed: updates m[cols] in place (if asked) and returns (prior, iterations)."""
    n_levels = [len(x) for x in m]
    prior = 0.3
    if log_u is None:
        log_u = _likelihood(patterns, u, cols)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - returned
        a = np.log(prior) + _likelihood(patterns, m, cols)
        b = np.log(1 - prior) + log_u
        resp = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        new_prior = min(max(float((counts * resp).sum() / counts.sum()), 1e-6), 1 - 1e-6)
        delta = abs(new_prior - prior)
        if update_m:
            new_m = _level_counts(patterns, counts * resp, n_levels)
            for j in cols:
                delta = max(delta, float(np.abs(new_m[j] - m[j]).max()))
                m[j] = new_m[j]
        prior = new_prior
        if delta < tol:
            break
    return prior, iterations


def train(patterns: np.ndarray, counts: np.ndarray, *, u: list[np.ndarray], n_records: int,
          tf: np.ndarray | None = None, max_iter: int = 200, tol: float = 1e-7) -> Model:
    """Fit m by EM in the training sessions (u fixed), then the prior over all candidates.

    ``patterns`` are the distinct comparison vectors (levels, -1 = missing) with their ``counts``;
    ``u`` are the level frequencies among (almost all non-matching) sampled record pairs; ``tf``
    (one column per ``TF_FIELDS``, aligned with ``patterns``) the term frequency of agreed names,
    used when fitting the prior so that namesakes on common names are not counted as matches.
    """
    names = [c.name for c in COMPARISONS]
    n_levels = [len(c.levels) for c in COMPARISONS]
    counts = counts.astype(float)
    sums = [np.zeros(n) for n in n_levels]
    seen = [0] * len(names)
    sessions = []
    for alternatives, session_fields in SESSIONS:
        for condition in alternatives:
            mask = np.ones(len(patterns), dtype=bool)
            for f, level in condition.items():
                mask &= patterns[:, names.index(f)] >= level
            if counts[mask].sum() >= MIN_SESSION_PAIRS:
                break
        else:
            continue
        m = [np.array([0.5 ** (n - 1 - k) for k in range(n)]) for n in n_levels]
        m = [x / x.sum() for x in m]
        cols = [names.index(f) for f in session_fields]
        _, it = _em(patterns[mask], counts[mask], m, u, cols, update_m=True, max_iter=max_iter,
                    tol=tol)
        sessions.append({"condition": condition, "pairs": int(counts[mask].sum()),
                         "em_iterations": it})
        for j in cols:
            sums[j] += m[j]
            seen[j] += 1
    final_m = []
    for j, n in enumerate(n_levels):
        if seen[j]:
            final_m.append(sums[j] / seen[j])
        else:  # never trained (no data): a neutral-ish default favouring the top level
            start = np.array([0.5 ** (n - 1 - k) for k in range(n)])
            final_m.append(start / start.sum())
    all_cols = list(range(len(names)))
    log_u = _likelihood(patterns, u, all_cols)
    if tf is not None:
        for k, f in enumerate(TF_FIELDS):
            j = names.index(f)
            top = patterns[:, j] == n_levels[j] - 1
            log_u[top] += np.log(np.maximum(tf[top, k], TF_FLOOR)) - np.log(u[j][-1])
    prior, it = _em(patterns, counts, final_m, u, all_cols, update_m=False, max_iter=max_iter,
                    tol=tol, log_u=log_u)
    fields = [FieldParams(c.name, list(c.levels), [float(x) for x in mm], [float(x) for x in uu])
              for c, mm, uu in zip(COMPARISONS, final_m, u, strict=True)]
    meta = {"trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "sessions": sessions, "prior_em_iterations": it, "patterns": len(patterns),
            "candidate_pairs": int(counts.sum()), "match_share_in_candidates": round(prior, 4),
            "records": n_records}
    return Model(fields=fields, pairs_per_record=prior * float(counts.sum()) / max(n_records, 1),
                 meta=meta)
