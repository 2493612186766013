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


def test_a_copy_that_all_but_one_member_match_joins() -> None:
    # Five copies of one person (FEBRL3 rec-427): copy 5 has a typo in the given name, a wrong date
    # and postcode; copy 3 another wrong postcode. They two disagree (0.03), everybody else agrees
    # with everybody. The mean of probabilities (0.81) would split copy 5 off; the mean weight
    # keeps the person whole.
    members = [0, 1, 2, 3, 4, 5]
    prob = {(a, b): 0.999 for i, a in enumerate(members) for b in members[i + 1:]}
    prob[(3, 5)] = 0.03
    assert average_linkage(members, prob, 0.9) == [members]


def test_a_relative_linked_to_one_copy_only_stays_apart() -> None:
    # 0 and 1 are the same man; 2 is his brother, wrongly close to copy 1 (0.93) and clearly
    # different from copy 0 (0.02).
    prob = {(0, 1): 0.999, (1, 2): 0.93, (0, 2): 0.02}
    assert sorted(map(sorted, average_linkage([0, 1, 2], prob, 0.9))) == [[0, 1], [2]]
