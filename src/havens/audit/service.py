"""Writing and verifying the hash-chained audit log.

Each record's hash is the SHA-256 of its canonical JSON (sorted keys, no spaces, UTF-8) including
the previous record's hash, so changing, deleting or inserting any past record breaks the chain
from that point on. ``verify`` recomputes the chain and names the first broken record.

A record is linked into the chain (its ``seq``, ``at`` and hashes set, and inserted) when its
transaction commits — or earlier if the session reads the audit log first — not when it is
written. Linking serialises the writers (an advisory lock on PostgreSQL, the single writer on
SQLite) until their transaction ends: taken in the middle of a request, the lock would be held
while the request waits for the server's threads and connections, and every other audited
request (each change, each read of personal data) would queue behind it. Taken at commit, it is
held for the commit alone. The chain is the same either way; records written inside a savepoint
that is rolled back are dropped with it, as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import TableClause, TextClause, event, select, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql import visitors

from havens.audit.models import AuditRecord
from havens.database import is_postgresql, utcnow
from havens.orgs.permissions import Principal, require

GENESIS_HASH = "0" * 64
# Any fixed number: the advisory lock that serialises writers of the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 7_202_611


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def _plain(detail: dict[str, Any] | None) -> dict[str, Any]:
    """The detail as it will read back from the database (dates become strings)."""
    return json.loads(canonical_json(detail or {}))


def compute_hash(record: AuditRecord) -> str:
    payload = {
        "seq": record.seq,
        "at": record.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_user_id": record.actor_user_id,
        "actor_org_id": record.actor_org_id,
        "actor_label": record.actor_label,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "detail": record.detail,
        "prev_hash": record.prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def record(
    db: Session,
    *,
    actor: Principal,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record to the chain: it lands with the caller's work, linked (``seq``, ``at``
    and hashes set) when the transaction commits or the log is read (see the module's
    docstring)."""
    entry = AuditRecord(
        actor_user_id=actor.user_id,
        actor_org_id=actor.organisation_id,
        actor_label=actor.email or "system",
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=_plain(detail),
    )
    db.info.setdefault(_PENDING, []).append(entry)
    return entry


_PENDING = "havens.audit.pending"
_MARKS = "havens.audit.savepoints"


def _link_pending(session: Session) -> None:
    """Link and add the session's pending records, in the order they were written."""
    entries = session.info.pop(_PENDING, None)
    if not entries:
        return
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    last = session.execute(
        select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
    for entry in entries:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev_hash
        # Microsecond precision is what both databases keep, so the hash survives a round trip.
        entry.at = utcnow()
        entry.hash = prev_hash = compute_hash(entry)
    session.add_all(entries)
    session.flush()


@event.listens_for(Session, "before_commit")
def _link_on_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's records wait for the commit
        _link_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _link_before_reading_the_log(state: ORMExecuteState) -> None:
    """A query of the audit log sees the records written before it."""
    session = state.session
    if session.info.get(_PENDING) and not session.in_nested_transaction() and _reads_log(
            state.statement):
        _link_pending(session)


def _reads_log(statement: Any) -> bool:
    if isinstance(statement, TextClause):
        return AuditRecord.__tablename__ in statement.text
    return any(isinstance(element, TableClause) and element.name == AuditRecord.__tablename__
               for element in visitors.iterate(statement))


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[transaction] = len(session.info.get(_PENDING, ()))


@event.listens_for(Session, "after_transaction_end")
def _end_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (linked by then), rolled back or closed
        session.info.pop(_PENDING, None)
        session.info.pop(_MARKS, None)  # a savepoint's mark is kept till then: rollback reads it


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """Records written inside a savepoint that is rolled back go with it."""
    pending = session.info.get(_PENDING)
    mark = (session.info.get(_MARKS) or {}).pop(previous, None) if previous.nested else None
    if pending and mark is not None:
        del pending[mark:]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    broken_seq: int | None = None
    reason: str | None = None


def verify(db: Session, *, on_record: Any = None) -> VerifyResult:
    """Recompute the whole chain; report the first record whose link or hash is wrong."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in _all_in_order(db):
        count += 1
        if on_record:
            on_record(entry)
        if entry.seq != expected_seq:
            return VerifyResult(False, count, entry.seq,
                                f"record {expected_seq} is missing (found {entry.seq})")
        if entry.prev_hash != prev_hash:
            return VerifyResult(False, count, entry.seq,
                                "its link to the previous record does not match")
        if compute_hash(entry) != entry.hash:
            return VerifyResult(False, count, entry.seq, "its content does not match its hash")
        prev_hash = entry.hash
        expected_seq += 1
    return VerifyResult(True, count)


def _all_in_order(db: Session) -> Iterator[AuditRecord]:
    query = select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=1000)
    for entry in db.scalars(query):
        yield entry
        db.expunge(entry)


def count(db: Session) -> int:
    from sqlalchemy import func

    return int(db.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def tail(db: Session, *, actor: Principal, limit: int = 20) -> list[AuditRecord]:
    require(actor, "audit.read")
    rows = db.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(limit)).all()
    return list(reversed(rows))


def for_object(
    db: Session, *, actor: Principal, object_type: str, object_id: str | int
) -> list[AuditRecord]:
    require(actor, "audit.read")
    query = (
        select(AuditRecord)
        .where(AuditRecord.object_type == object_type, AuditRecord.object_id == str(object_id))
        .order_by(AuditRecord.seq)
    )
    return list(db.scalars(query))
