"""Gaps against the standards, ranked across zones, and who covers what (from the 3W).

A gap is the quantity missing to meet a standard (``IndicatorResult.gap``). Gaps of different
standards are ranked by the *share of the need that is missing* (70 toilets missing of 250
needed: 28 %), so that 15,000 litres and 70 toilets can be compared; ties go to the bigger
population.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.assistance import indicators
from havens.assistance.models import Activity, ActivityStatus
from havens.assistance.schemas import GapRead
from havens.assistance.standards import IndicatorResult, ZoneFacts
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, require


def gap_text(result: IndicatorResult) -> str:
    gap = result.gap or 0
    amount = f"{gap:,.0f}" if gap == int(gap) else f"{gap:,.1f}"
    return f"needs {amount} more {result.gap_unit}"


def _needed(result: IndicatorResult) -> float:
    return (result.supply or 0) + (result.gap or 0)


def rank(computed: list[tuple[ZoneFacts, list[IndicatorResult]]], *, sector: str | None = None
         ) -> list[GapRead]:
    rows: list[tuple[float, int, ZoneFacts, IndicatorResult]] = []
    for facts, results in computed:
        for result in results:
            if result.status != "not_met" or not result.gap:
                continue
            if sector and result.sector != sector:
                continue
            needed = _needed(result)
            share = result.gap / needed if needed else 1.0
            rows.append((share, facts.population or 0, facts, result))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2].zone_code, r[3].standard))
    return [GapRead(rank=n, zone_id=facts.zone_id, zone_code=facts.zone_code,
                    sector=result.sector, standard=result.standard, name=result.name,
                    value=result.value, threshold=result.threshold, unit=result.unit,
                    gap=result.gap or 0.0, gap_unit=result.gap_unit,
                    share_missing=round(share, 3), text=gap_text(result))
            for n, (share, _p, facts, result) in enumerate(rows, start=1)]


def gaps(db: Session, *, actor: Principal, on: dt.date, sector: str | None = None,
         zone_id: int | None = None) -> list[GapRead]:
    """Every unmet standard of every zone (or one), ranked."""
    require(actor, "assistance.read")
    return rank(indicators.compute(db, on=on, zone_ids=None if zone_id is None else [zone_id]),
                sector=sector)


def coverage(db: Session, *, actor: Principal, on: dt.date, zone_id: int | None = None
             ) -> list[dict[str, Any]]:
    """Per zone and sector: the organisations with activities running on the date, what they
    reach, and the standards of that sector not met there."""
    require(actor, "assistance.read")
    # Delivering on the day: started, not ended, neither planned only nor cancelled.
    running = (Activity.start_date <= on) & (
        Activity.end_date.is_(None) | (Activity.end_date >= on)) & (
        Activity.status.in_([ActivityStatus.ongoing, ActivityStatus.completed]))
    query = (select(Activity.zone_id, Activity.sector, Organisation.acronym,
                    func.count(), func.coalesce(func.sum(Activity.reached_total), 0))
             .join(Organisation, Organisation.id == Activity.implementing_org_id)
             .where(running)
             .group_by(Activity.zone_id, Activity.sector, Organisation.acronym))
    if zone_id is not None:
        query = query.where(Activity.zone_id == zone_id)
    cells: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for zone, sector, acronym, count, reached in db.execute(query):
        cells[(zone, sector.value if hasattr(sector, "value") else sector)].append(
            {"organisation": acronym, "activities": int(count), "reached": int(reached)})
    computed = indicators.compute(db, on=on, zone_ids=None if zone_id is None else [zone_id])
    unmet: dict[tuple[int, str], list[str]] = defaultdict(list)
    codes = {}
    for facts, results in computed:
        codes[facts.zone_id] = facts.zone_code
        for result in results:
            if result.status == "not_met":
                unmet[(facts.zone_id, result.sector)].append(gap_text(result) + f" ({result.name})")
    rows = []
    for key in sorted(set(cells) | set(unmet), key=lambda k: (codes.get(k[0], ""), k[1])):
        orgs = sorted(cells.get(key, []), key=lambda c: -c["reached"])
        rows.append({"zone_id": key[0], "zone_code": codes.get(key[0], ""), "sector": key[1],
                     "organisations": orgs,
                     "reached": sum(c["reached"] for c in orgs),
                     "unmet": unmet.get(key, []),
                     "uncovered": bool(unmet.get(key)) and not orgs})
    return rows
