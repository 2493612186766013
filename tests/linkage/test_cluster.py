"""Clustering: components first, then average linkage that does not chain relatives."""

from __future__ import annotations

import numpy as np

from havens.linkage.cluster import average_linkage, cluster


def test_chain_through_a_third_record_is_not_merged() -> None:
    # A-B and B-C look alike (0.95), but A and C are clearly different people (0.01).
    prob = {(0, 1): 0.95, (1, 2): 0.95, (0, 2): 0.01}
    groups = average_linkage([0, 1, 2], prob, 0.9)
    assert sorted(map(sorted, groups)) in ([[0, 1], [2]], [[0], [1, 2]])


def test_true_triplet_is_kept_together() -> None:
    prob = {(0, 1): 0.99, (1, 2): 0.97, (0, 2): 0.93}
    assert average_linkage([0, 1, 2], prob, 0.9) == [[0, 1, 2]]


def test_cannot_link_splits() -> None:
    prob = {(0, 1): 0.99, (1, 2): 0.99, (0, 2): 0.99}
    groups = average_linkage([0, 1, 2], prob, 0.9, cannot_link=[(2, 0)])
    assert len(groups) == 2


def test_cluster_labels_every_record() -> None:
    left, right = np.array([0, 1, 4]), np.array([1, 2, 5])
    probs = np.array([0.99, 0.99, 0.95])
    scored = {(0, 1): 0.99, (1, 2): 0.99, (0, 2): 0.02}
    calls: list[list[tuple[int, int]]] = []

    def score(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
        calls.append(pairs)
        return {p: scored[p] for p in pairs}

    labels = cluster(7, left, right, probs, 0.9, score)
    assert len(labels) == 7
    assert labels[4] == labels[5] == 4
    assert labels[3] == 3 and labels[6] == 6
    assert calls == [[(0, 1), (0, 2), (1, 2)]]  # only the component of three is re-scored
    assert labels[0] != labels[2]  # 0 and 2 only joined through 1
