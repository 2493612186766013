"""Active learning: order the review queue so that each decision teaches the matcher the most.

A pair the model is sure about teaches little whatever the reviewer says; a pair near the
decision boundary settles where the boundary lies. So pairs are ranked by **uncertainty**:
``|p − boundary|``, smallest first, where ``p`` is the current scorer's probability (the promoted
learned model when there is one, else the probability the run gave) and the boundary is 0.5 for
a calibrated learned model, else the run's threshold (the pairs the queue is least sure to
include).

Uncertain pairs come in families: one large clan yields many near-identical sibling pairs, and
labelling twenty of them teaches about as much as labelling two. So the order is **diverse**:
pairs are grouped by a proxy of their blocking key and site (the site of the left record and the
comparison pattern of given name, lineage and birth date — pairs that were found together and
look alike), each group is sorted by uncertainty, and the queue takes the most uncertain pair of
each group in turn (round-robin, groups ordered by their most uncertain pair).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Item:
    """A pair to order: its id, the current probability, the boundary and its group."""

    id: int
    probability: float
    boundary: float
    group: Hashable


def uncertainty(p: np.ndarray, boundary: float | np.ndarray) -> np.ndarray:
    """Distance to the decision boundary (0 = the model cannot tell)."""
    return np.abs(np.asarray(p, dtype=float) - boundary)


def order(items: Sequence[Item]) -> list[int]:
    """Ids of ``items``, the most instructive first (uncertain, round-robin over groups)."""
    groups: dict[Hashable, list[tuple[float, int]]] = {}
    for it in items:
        groups.setdefault(it.group, []).append((abs(it.probability - it.boundary), it.id))
    queues = [sorted(g) for g in groups.values()]
    queues.sort(key=lambda q: q[0])
    out: list[int] = []
    depth = 0
    while len(out) < len(items):
        for q in queues:
            if depth < len(q):
                out.append(q[depth][1])
        depth += 1
    return out


def pattern(levels: dict[str, int]) -> tuple[int, int, int]:
    """The group pattern of a pair: levels of given name, lineage and date of birth."""
    return (int(levels.get("given", -1)), int(levels.get("lineage", -1)),
            int(levels.get("dob", -1)))


#: Share of a batch spread over the whole probability range rather than at the boundary.
EXPLORE = 0.5


def select_batch(p: np.ndarray, groups: Sequence[Hashable], k: int, *, boundary: float = 0.5,
                 exclude: set[int] | None = None, seed: int = 11) -> list[int]:
    """Indices of ``k`` pairs to label next out of a scored pool (used by the benchmark and by
    anything choosing pairs outside the queue).

    Most are uncertain, spread over ``groups``; a share (:data:`EXPLORE`) is drawn across ten
    probability bands, so the learned model also sees the clear cases it must not get wrong —
    labels only at the boundary teach a classifier nothing about the rest of the range.
    """
    exclude = set(exclude or ())
    explore = int(k * EXPLORE)
    rng = np.random.default_rng(seed + len(exclude))
    bands = np.minimum((np.asarray(p) * 10).astype(int), 9)
    picked: list[int] = []
    pools = [[int(i) for i in rng.permutation(np.flatnonzero(bands == b)) if int(i) not in exclude]
             for b in range(10)]
    depth = 0
    while len(picked) < explore and any(depth < len(q) for q in pools):
        for q in pools:
            if depth < len(q) and len(picked) < explore:
                picked.append(q[depth])
        depth += 1
    exclude.update(picked)
    u = uncertainty(p, boundary)
    # Only the most uncertain part of the pool competes (ordering millions is pointless).
    candidates = np.argsort(u, kind="stable")[: max(k * 20, 1000) + len(exclude)]
    items = [Item(int(i), float(p[i]), boundary, groups[int(i)]) for i in candidates
             if int(i) not in exclude]
    return picked + order(items)[: k - len(picked)]
