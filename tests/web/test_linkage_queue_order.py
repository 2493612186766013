"""The review queue page in the order that teaches the matcher the most (``order=active``)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from havens.linkage import service as linkage_service
from havens.orgs.permissions import Principal
from tests.linkage.conftest import Registry, registry, share  # noqa: F401  (a fixture)
from tests.web.test_pages import _csrf, log_in

_ROW = re.compile(r'href="/linkage/candidates/(\d+)(\?order=active)?"')


def _listed(html: str) -> list[int]:
    return [int(m.group(1)) for m in _ROW.finditer(html)]


def test_queue_page_lists_the_service_active_order(client: TestClient, db: Session,
                                                   system: Principal,
                                                   registry: Registry) -> None:  # noqa: F811
    share(db, registry.sarc, registry.unhcr)
    linkage_service.run(db, actor=system, threshold=0.5)
    db.flush()
    reviewer = registry.p(registry.reviewer)
    by_probability = [p.id for p in linkage_service.list_candidates(db, actor=reviewer).items]
    by_teaching = [p.id for p in linkage_service.list_candidates(
        db, actor=reviewer, order="active").items]
    # The fixture must tell the two orders apart, else this test proves nothing.
    assert len(by_teaching) >= 3 and by_teaching != by_probability
    log_in(client, registry.reviewer.email)

    default = client.get("/linkage")
    assert default.status_code == 200
    assert _listed(default.text) == by_probability
    assert 'id="order-active"' in default.text
    assert all(m.group(2) is None for m in _ROW.finditer(default.text))

    active = client.get("/linkage", params={"order": "active"})
    assert active.status_code == 200
    assert _listed(active.text) == by_teaching
    assert 'id="active-explained"' in active.text
    assert 'id="order-probability"' in active.text  # the other order is a link, this one not
    assert 'id="order-active"' not in active.text
    # Links to the pairs keep the order, and so do the decisions taken there.
    first = by_teaching[0]
    assert f'href="/linkage/candidates/{first}?order=active"' in active.text
    detail = client.get(f"/linkage/candidates/{first}", params={"order": "active"})
    assert detail.status_code == 200
    assert 'name="order" value="active"' in detail.text
    assert 'href="/linkage?order=active"' in detail.text
    rejected = client.post(f"/linkage/candidates/{first}/reject",
                           data={"csrf_token": _csrf(detail.text), "order": "active"},
                           follow_redirects=False)
    assert rejected.status_code == 303
    assert rejected.headers["location"] == "/linkage?order=active"
    after = _listed(client.get("/linkage", params={"order": "active"}).text)
    assert first not in after
    assert after == [p.id for p in linkage_service.list_candidates(
        db, actor=reviewer, order="active").items]


def test_unknown_order_is_refused_and_never_echoed(client: TestClient, db: Session,
                                                   system: Principal,
                                                   registry: Registry) -> None:  # noqa: F811
    share(db, registry.sarc, registry.unhcr)
    linkage_service.run(db, actor=system)
    db.flush()
    log_in(client, registry.reviewer.email)
    assert client.get("/linkage", params={"order": "random"}).status_code == 422
    pair = _listed(client.get("/linkage").text)[0]
    # A pair opened with a made-up order goes back to the default queue.
    detail = client.get(f"/linkage/candidates/{pair}", params={"order": "<x>"})
    assert detail.status_code == 200
    assert 'name="order" value="probability"' in detail.text and "<x>" not in detail.text
    done = client.post(f"/linkage/candidates/{pair}/reject",
                       data={"csrf_token": _csrf(detail.text), "order": "https://evil"},
                       follow_redirects=False)
    assert done.headers["location"] == "/linkage"
