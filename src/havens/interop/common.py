"""Helpers shared by the exports: admin-area names by P-code, zones of a request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from havens.exceptions import NotFound
from havens.geo.models import AdminArea
from havens.orgs.permissions import Principal
from havens.zones.models import Zone


@dataclass(frozen=True)
class Area:
    pcode: str
    level: int
    parent: str | None
    name_en: str
    name_ar: str | None


class Areas:
    """Every admin area (a few hundred rows for Syria), looked up by P-code."""

    def __init__(self, db: Session) -> None:
        self.by_pcode = {a.pcode: Area(a.pcode, a.level, a.parent_pcode, a.name_en, a.name_ar)
                         for a in db.execute(select(AdminArea.pcode, AdminArea.level,
                                                    AdminArea.parent_pcode, AdminArea.name_en,
                                                    AdminArea.name_ar))}

    def at_level(self, pcode: str | None, level: int) -> Area | None:
        """The area of ``level`` containing ``pcode`` (itself when at that level)."""
        area = self.by_pcode.get(pcode or "")
        while area is not None and area.level > level:
            area = self.by_pcode.get(area.parent or "")
        return area if area is not None and area.level == level else None

    def name(self, pcode: str | None) -> str | None:
        area = self.by_pcode.get(pcode or "")
        return area.name_en if area else None

    def of_zone(self, zone: Zone, level: int) -> Area | None:
        for pcode in zone.admin_pcodes or []:
            found = self.at_level(pcode, level)
            if found is not None:
                return found
        return None


def zones_of(db: Session, code: str | None) -> list[Zone]:
    """All zones by code, or the one named (``NotFound`` for an unknown code)."""
    query = select(Zone).order_by(Zone.code)
    if code:
        query = query.where(Zone.code == code.strip().upper())
    zones = list(db.scalars(query))
    if code and not zones:
        raise NotFound(f"No zone with code {code}.", field="zone")
    return zones


def own_count(column: Any, actor: Principal) -> Any:
    """SQL: how many of the counted rows are the caller's own organisation's."""
    if actor.organisation_id is None:
        return func.count()  # the operator: everything counted is "theirs"
    return func.coalesce(func.sum(case((column == actor.organisation_id, 1), else_=0)), 0)


def own_sum(column: Any, amount: Any, actor: Principal) -> Any:
    """SQL: the sum of ``amount`` over the caller's own organisation's rows."""
    if actor.organisation_id is None:
        return func.coalesce(func.sum(amount), 0)
    return func.coalesce(func.sum(case((column == actor.organisation_id, amount), else_=0)), 0)
