"""Demo data of the linkage domain: a registry match, so the review queue holds the families
that the people demo registered twice (by UNHCR and again by SARC) next to look-alike relatives.

Runs after the people demo, as the operator across all organisations.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from havens.linkage import service
from havens.orgs.permissions import Principal


def load(db: Session, *, actor: Principal) -> None:
    service.run(db, actor=actor)
