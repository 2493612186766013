"""Loads the whole demo, step by step, into an empty (or demo-only) database."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.audit.models import AuditRecord
from havens.database import refresh_statistics
from havens.exceptions import Conflict
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal

Step = tuple[str, Callable[..., None]]


def steps() -> list[Step]:
    """The demo's steps in order; each domain adds its own."""
    from havens.demo import (
        agreements,
        assistance,
        geo,
        linkage,
        orgs,
        people,
        returns,
        safety,
        zones,
    )

    return [
        ("reference geography", geo.load),
        ("organisations and users", orgs.load),
        ("zones and sites", zones.load),
        ("agreements", agreements.load),
        ("registered households", people.load),
        ("possible duplicates", linkage.load),
        ("services and standards", assistance.load),
        ("security incidents", safety.load),
        ("home areas and returns", returns.load),
    ]


def already_loaded(db: Session) -> bool:
    return bool(db.scalar(select(AuditRecord.id).where(AuditRecord.action == "demo.load")))


def load(db: Session, *, actor: Principal, on_step: Callable[[str], None] | None = None) -> bool:
    """Load the demo; False if it was loaded before. Refuses a database with real data."""
    if already_loaded(db):
        return False
    if db.scalar(select(func.count()).select_from(Organisation)):
        raise Conflict("This database already holds organisations: the demo (with its published "
                       "passwords) only loads into an empty database.")
    for name, step in steps():
        if on_step:
            on_step(name)
        step(db, actor=actor)
        db.flush()
    audit.record(db, actor=actor, action="demo.load", object_type="database")
    # Thousands of rows into empty tables: without fresh statistics the planner plans for
    # empty tables until autovacuum comes by (both databases count the transaction's own rows).
    refresh_statistics(db)
    return True
