"""Demo data of the safety domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from havens.orgs.permissions import Principal


def load(db: Session, *, actor: Principal) -> None:
    """Filled in by the safety domain."""
