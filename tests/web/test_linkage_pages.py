"""The duplicate review queue in the web app: pairs side by side, confirm and reject."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from havens.linkage import service as linkage_service
from havens.orgs.models import Role
from havens.orgs.permissions import Principal
from tests.linkage.conftest import Registry, registry, share  # noqa: F401  (a fixture)
from tests.web.test_pages import _csrf, log_in


def test_review_queue_confirm_and_reject(client: TestClient, db: Session, system: Principal,
                                         registry: Registry) -> None:  # noqa: F811
    share(db, registry.sarc, registry.unhcr)  # the reviewer may see SARC's records
    linkage_service.run(db, actor=system)
    db.flush()
    log_in(client, registry.reviewer.email)
    queue = client.get("/linkage")
    assert queue.status_code == 200
    ids = re.findall(r'href="/linkage/candidates/(\d+)"', queue.text)
    assert len(ids) >= 2
    detail = client.get(f"/linkage/candidates/{ids[0]}")
    assert detail.status_code == 200
    assert 'class="agree"' in detail.text
    confirmed = client.post(f"/linkage/candidates/{ids[0]}/confirm",
                            data={"csrf_token": _csrf(detail.text)}, follow_redirects=False)
    assert confirmed.status_code == 303
    rejected = client.post(f"/linkage/candidates/{ids[1]}/reject",
                           data={"csrf_token": _csrf(detail.text)}, follow_redirects=False)
    assert rejected.status_code == 303
    remaining = re.findall(r'href="/linkage/candidates/(\d+)"', client.get("/linkage").text)
    assert ids[0] not in remaining and ids[1] not in remaining


def test_viewer_cannot_open_the_queue(client: TestClient, make_user) -> None:
    viewer = make_user(Role.viewer)
    log_in(client, viewer.email)
    assert client.get("/linkage").status_code == 403
