from __future__ import annotations

import itertools

from sqlalchemy import text
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.orgs.permissions import Principal


def _write(db: Session, actor: Principal, n: int) -> None:
    for i in range(n):
        audit.record(db, actor=actor, action="test.event", object_type="thing", object_id=i,
                     detail={"i": i, "name": "محمد", "when": "2026-01-01"})


def test_records_form_a_chain_that_verifies(db: Session, system: Principal) -> None:
    _write(db, system, 5)
    rows = audit.tail(db, actor=system, limit=10)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    db.expire_all()  # verify what the database holds, not the session's copies
    assert audit.verify(db).ok


def test_editing_a_past_record_is_detected(db: Session, system: Principal) -> None:
    _write(db, system, 5)
    db.execute(text("UPDATE audit_log SET detail = :d WHERE seq = 3"), {"d": '{"i": 99}'})
    db.expire_all()
    result = audit.verify(db)
    assert not result.ok
    assert result.broken_seq == 3
    assert "content" in (result.reason or "")


def test_deleting_a_record_is_detected(db: Session, system: Principal) -> None:
    _write(db, system, 4)
    db.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    db.expire_all()
    result = audit.verify(db)
    assert not result.ok and result.broken_seq == 3


def test_rewriting_a_record_and_its_hash_breaks_the_next_link(db: Session,
                                                             system: Principal) -> None:
    _write(db, system, 4)
    db.execute(text("UPDATE audit_log SET action = 'forged', hash = :h WHERE seq = 2"),
               {"h": "f" * 64})
    db.expire_all()
    result = audit.verify(db)
    assert not result.ok and result.broken_seq == 2


def test_only_admins_read_the_log(db: Session, make_user) -> None:
    import pytest

    from havens.exceptions import PermissionDenied
    from havens.orgs.models import Role
    from havens.orgs.service import principal_for

    coordinator = principal_for(make_user(Role.coordinator))
    with pytest.raises(PermissionDenied):
        audit.tail(db, actor=coordinator)
