"""The registration pages after a merge: the merged household says where it went (a link to the
kept one), offers no move or departure, and search counts the members who count."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from havens.linkage import service as linkage
from havens.people.crypto import FieldCipher
from tests.people.conftest import World
from tests.people.test_merged import pair, twice
from tests.web.test_pages import log_in


def test_household_page_and_search_after_a_merge(client: TestClient, db: Session, world: World,
                                                 cipher: FieldCipher) -> None:
    first, second = twice(db, world, cipher)
    reviewer = world.p(world.registrar)
    head = linkage.confirm(db, actor=reviewer, pair_id=pair(
        db, first.members[0].id, second.members[0].id).id)
    log_in(client, world.registrar.email)

    page = client.get(f"/people/households/{second.id}").text
    badge = re.search(r'data-member="(\d+)">Merged into <a href="/people/households/(\d+)"',
                      page)
    assert badge and (int(badge[1]), int(badge[2])) == (head.merged_id, first.id)
    assert 'id="merged-into"' not in page  # two members still count here
    assert "/move" in page
    found = client.get("/people", params={"q": "Fatima"}).text
    counts = re.findall(r'<a href="/people/households/(\d+)">.*?</a></td>\s*<td>.*?</td>'
                        r'<td>(\d+)</td>', found, re.S)
    assert sorted((int(h), int(n)) for h, n in counts) == [(first.id, 3), (second.id, 2)]

    for a, b in zip(first.members[1:], second.members[1:], strict=True):
        linkage.confirm(db, actor=reviewer, pair_id=pair(db, a.id, b.id).id)
    page = client.get(f"/people/households/{second.id}").text
    banner = re.search(r'id="merged-into">Merged into <a href="/people/households/(\d+)" '
                       r'dir="ltr">([^<]+)</a>', page)
    assert banner and int(banner[1]) == first.id and banner[2] == first.registration_number
    assert "/move" not in page and "/depart" not in page
    found = client.get("/people", params={"q": "Fatima"}).text
    assert f"/people/households/{second.id}" not in found
    client.get("/lang/ar", params={"next": "/"})
    assert "دُمج في" in client.get(f"/people/households/{second.id}").text
