"""Active learning: uncertain pairs first, spread over groups; the queue's ``order=active``."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from havens.exceptions import ValidationFailed
from havens.linkage import active, service
from havens.orgs.models import User
from havens.orgs.permissions import Principal
from tests.linkage.conftest import Registry, share


def test_uncertain_pairs_come_first() -> None:
    items = [active.Item(1, 0.99, 0.8, "a"), active.Item(2, 0.81, 0.8, "a"),
             active.Item(3, 0.93, 0.8, "a")]
    assert active.order(items, explore=0.0) == [2, 3, 1]


def test_round_robin_over_groups() -> None:
    items = [active.Item(1, 0.50, 0.5, "clan"), active.Item(2, 0.51, 0.5, "clan"),
             active.Item(3, 0.52, 0.5, "clan"), active.Item(4, 0.70, 0.5, "other")]
    # The other group's pair comes second though three of the clan are more uncertain.
    assert active.order(items, explore=0.0) == [1, 4, 2, 3]


def _reference_round_robin(queues: list[list[int]]) -> list[int]:
    """The round-robin as first written: every queue looked at, at every depth."""
    out: list[int] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        out.extend(q[depth] for q in queues if depth < len(q))
    return out


def test_round_robin_matches_the_reference_on_random_groups() -> None:
    rng = random.Random(3)
    for _ in range(200):
        queues = [[rng.randrange(1000) for _ in range(rng.choice([0, 1, 2, 5, 20]))]
                  for _ in range(rng.randrange(0, 30))]
        assert list(active._round_robin(queues)) == _reference_round_robin(queues)


def test_round_robin_of_one_large_group_among_many_single_pairs() -> None:
    # The shape that used to cost (largest group x number of groups): one clan, many loners.
    queues = [[i] for i in range(1, 500)]
    queues.insert(3, list(range(10_000, 15_000)))
    queues += [[], [7, 8]]
    got = list(active._round_robin(queues))
    assert got == _reference_round_robin(queues)
    assert len(got) == 499 + 5_000 + 2 and got[-1] == 14_999


def test_evidence_bands() -> None:
    p = np.array([1e-12, 0.01, 0.3, 0.5, 0.8, 0.999, 1.0])
    # Three bits of log-odds a band, even odds at the start of the middle band.
    assert active.bands(p).tolist() == [0, 2, 4, 5, 5, 8, 9]


def test_order_mixes_exploration_and_is_stable() -> None:
    # Twenty pairs at the boundary, five confident matches and five confident non-matches.
    items = ([active.Item(i, 0.5 + i / 1000, 0.5, "clan") for i in range(20)]
             + [active.Item(100 + i, 0.9999, 0.5, "clan") for i in range(5)]
             + [active.Item(200 + i, 0.0001, 0.5, "clan") for i in range(5)])
    ordered = active.order(items)
    assert sorted(ordered) == sorted(it.id for it in items)
    assert ordered[0] == 0  # the most uncertain first
    head = ordered[:6]
    # Half of the head comes from the evidence bands: both confident ends appear early,
    # where pure uncertainty would show them last.
    assert any(i >= 200 for i in head) and any(100 <= i < 200 for i in head)
    assert ordered[2] == 1  # the next most uncertain, after one explored pair
    # The same pairs in another order give the same queue (pages stay consistent).
    assert active.order(list(reversed(items))) == ordered
    assert active.order(items, explore=0.0)[-10:] != ordered[-10:]


def test_select_batch_skips_labelled_pairs() -> None:
    p = np.array([0.5, 0.9, 0.45, 0.1, 0.55])
    groups = ["a", "a", "b", "b", "c"]
    assert active.select_batch(p, groups, 2, exclude={0}, explore=0.0) == [2, 4]
    assert 0 not in active.select_batch(p, groups, 4, exclude={0})


def test_select_batch_explores_the_whole_range() -> None:
    p = np.concatenate([np.full(50, 0.5), np.linspace(0.0, 1.0, 50)])
    chosen = active.select_batch(p, ["g"] * 100, 10)
    assert len(set(chosen)) == 10
    # Half spread over the evidence bands, the rest at the boundary.
    assert len({int(b) for b in active.bands(p[chosen])}) >= 4
    assert sum(p[i] == 0.5 for i in chosen) >= 5


def test_queue_active_order(client: TestClient, db: Session, registry: Registry,
                            system: Principal,
                            token_for: Callable[[User], dict[str, str]]) -> None:
    share(db, registry.sarc, registry.unhcr)
    run = service.run(db, actor=system, threshold=0.5)
    reviewer = registry.p(registry.reviewer)
    default = service.list_candidates(db, actor=reviewer, page_size=200)
    assert [p.match_probability for p in default.items] == sorted(
        (p.match_probability for p in default.items), reverse=True)
    ordered = service.list_candidates(db, actor=reviewer, page_size=200, order="active")
    assert ordered.total == default.total
    assert sorted(p.id for p in ordered.items) == sorted(p.id for p in default.items)
    closest = min(default.items, key=lambda p: (abs(p.match_probability - run.threshold), p.id))
    assert ordered.items[0].id == closest.id
    page2 = service.list_candidates(db, actor=reviewer, page=2, page_size=1, order="active")
    assert page2.items[0].id == ordered.items[1].id
    with pytest.raises(ValidationFailed):
        service.list_candidates(db, actor=reviewer, order="random")
    body = client.get("/api/v1/linkage/candidates", params={"order": "active",
                                                            "page_size": 200},
                      headers=token_for(registry.reviewer))
    assert body.status_code == 200, body.text
    assert [p["id"] for p in body.json()["items"]] == [p.id for p in ordered.items]
