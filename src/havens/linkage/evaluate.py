"""Pairwise precision, recall and F1 of clusters or pairs against ground truth."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scores:
    """Pairwise quality: a pair is correct if both records are the same person."""

    true_positives: int
    predicted: int
    actual: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.actual if self.actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def cluster_scores(clusters: Mapping[str, str], truth: Mapping[str, str]) -> Scores:
    """Scores of ``record_id -> cluster_id`` against ``record_id -> person_id``."""
    both = Counter((clusters[r], truth[r]) for r in truth)
    return Scores(true_positives=_pairs(both.values()),
                  predicted=_pairs(Counter(clusters[r] for r in truth).values()),
                  actual=_pairs(Counter(truth.values()).values()))


def pair_scores(pairs: Iterable[tuple[str, str]], truth_l: Mapping[str, str],
                truth_r: Mapping[str, str]) -> Scores:
    """Scores of linked pairs (A id, B id) against the persons of both lists."""
    found = list(pairs)
    tp = sum(1 for a, b in found if truth_l[a] == truth_r[b])
    right = Counter(truth_r.values())
    actual = sum(right[p] for p in truth_l.values())
    return Scores(true_positives=tp, predicted=len(found), actual=actual)


def _within(groups: Mapping[str, str], ids: Iterable[str]) -> Iterable[tuple[str, str]]:
    by_group: dict[str, list[str]] = {}
    for r in ids:
        by_group.setdefault(groups[r], []).append(r)
    for members in by_group.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                yield a, b


def cluster_scores_of(clusters: Mapping[str, str], truth: Mapping[str, str],
                      keep: Callable[[str, str], bool]) -> Scores:
    """Scores of :func:`cluster_scores` over the record pairs ``keep`` accepts only (for example
    pairs written in two scripts)."""
    predicted = [(a, b) for a, b in _within(clusters, truth) if keep(a, b)]
    return Scores(true_positives=sum(truth[a] == truth[b] for a, b in predicted),
                  predicted=len(predicted),
                  actual=sum(1 for a, b in _within(truth, truth) if keep(a, b)))
