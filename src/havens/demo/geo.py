from __future__ import annotations

from sqlalchemy.orm import Session

from havens.geo import service as geo_service
from havens.orgs.permissions import Principal


def load(db: Session, *, actor: Principal) -> None:
    if geo_service.count_areas(db) == 0:
        geo_service.load_areas(db, actor=actor)
