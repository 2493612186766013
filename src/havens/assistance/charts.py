"""Data of the assistance charts (drawn by the web app): plain dicts and lists, JSON-ready.

- :func:`indicator_series`: one standard over time in one zone — a point on every day a metric
  it uses was measured in the period (and on the period's last day), with the threshold of that
  day (overrides and phase included), so a line chart can draw the threshold as a step.
- :func:`gap_bars`: for each standard, the zones that miss it and by how much.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.assistance import gaps, indicators
from havens.assistance.models import Measurement
from havens.assistance.standards import standards
from havens.exceptions import NotFound, ValidationFailed
from havens.orgs.permissions import Principal, require

MAX_POINTS = 400


def indicator_series(db: Session, *, actor: Principal, zone_id: int, standard: str,
                     start: dt.date, end: dt.date) -> dict[str, Any]:
    require(actor, "assistance.read")
    if standard not in standards():
        raise NotFound(f"No standard {standard!r}.", field="standard")
    if end < start:
        raise ValidationFailed("The period ends before it starts.", field="end")
    spec = standards()[standard]
    days = set(db.scalars(select(Measurement.measured_on).distinct().where(
        Measurement.zone_id == zone_id, Measurement.metric.in_(spec.metrics()),
        Measurement.measured_on >= start, Measurement.measured_on <= end)))
    days.add(end)
    ordered = sorted(days)[-MAX_POINTS:]
    points = []
    zone_code = None
    for day in ordered:
        thresholds = indicators.Thresholds.load(db, on=day)
        found = indicators.load_facts(db, on=day, zone_ids=[zone_id])
        if not found:
            raise NotFound("No such zone.", field="zone_id")
        facts = found[0]
        zone_code = facts.zone_code
        result = indicators.indicators_for(facts, thresholds, [standard])[0]
        points.append({"date": day.isoformat(), "value": result.value,
                       "threshold": result.threshold, "status": result.status,
                       "population": facts.population})
    return {"zone_id": zone_id, "zone_code": zone_code, "standard": standard,
            "name": spec.name, "unit": spec.unit, "direction": spec.direction,
            "citation": spec.citation, "points": points}


def gap_bars(db: Session, *, actor: Principal, on: dt.date, sector: str | None = None
             ) -> list[dict[str, Any]]:
    ranked = gaps.gaps(db, actor=actor, on=on, sector=sector)
    charts: dict[str, dict[str, Any]] = {}
    for gap in ranked:
        chart = charts.setdefault(gap.standard, {
            "standard": gap.standard, "name": gap.name, "sector": gap.sector,
            "gap_unit": gap.gap_unit, "bars": []})
        chart["bars"].append({"zone_id": gap.zone_id, "zone_code": gap.zone_code,
                              "gap": gap.gap, "share_missing": gap.share_missing,
                              "label": gap.text})
    for chart in charts.values():
        chart["bars"].sort(key=lambda b: -b["gap"])
    return [charts[code] for code in standards() if code in charts]
