"""The minimum standards, read from ``standards.json``, and how one is evaluated.

Evaluation is pure (no database): :func:`evaluate` takes a zone's :class:`ZoneFacts` and a
threshold and returns an :class:`IndicatorResult`. Rules that hold for every standard:

- no population (zero or unknown) or no measurement of the supply -> ``unknown``, never ``met``;
- a ``people_per_unit`` standard with a population but none of the units (no toilet at all) is
  ``not_met`` with no value (infinitely many people per toilet) and the whole need as its gap;
- the *gap* is the quantity missing to meet the threshold, in the standard's ``gap_unit``:
  whole units (toilets, taps, classrooms, children) are rounded up.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

STANDARDS_FILE = Path(__file__).with_name("standards.json")
ACTIVITY_TYPES_FILE = Path(__file__).with_name("activity_types.json")

Kind = Literal["supply_per_person", "people_per_unit", "share_pct"]
Status = Literal["met", "not_met", "unknown"]
#: The pseudo-metric for the zone's area (from its boundary, on the zone row).
ZONE_AREA = "zone_area_m2"
#: Gap units counted in whole things (rounded up).
_WHOLE_UNITS = frozenset({"taps", "toilets", "classrooms", "children"})


@dataclass(frozen=True)
class Standard:
    code: str
    name: str
    sector: str
    source: dict[str, str]
    kind: Kind
    supply: dict[str, float]
    base: str | dict[str, float]
    direction: Literal[">=", "<="]
    threshold: float
    unit: str
    gap_unit: str
    phase_thresholds: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def citation(self) -> str:
        s = self.source
        return f"{s['document']} {s['edition']}, {s['standard']}"

    def handbook_threshold(self, *, emergency: bool) -> float:
        if emergency and "emergency" in self.phase_thresholds:
            return self.phase_thresholds["emergency"]
        return self.threshold

    def metrics(self) -> set[str]:
        names = set(self.supply)
        if isinstance(self.base, dict):
            names |= set(self.base)
        return names - {ZONE_AREA}


@lru_cache
def _raw() -> dict[str, Any]:
    return dict(json.loads(STANDARDS_FILE.read_text(encoding="utf-8")))


@lru_cache
def standards() -> dict[str, Standard]:
    """Code -> standard, in the file's order."""
    result = {}
    for item in _raw()["standards"]:
        notes = tuple(item[k] for k in ("supply_note", "threshold_note") if k in item)
        result[item["code"]] = Standard(
            code=item["code"], name=item["name"], sector=item["sector"], source=item["source"],
            kind=item["kind"], supply={k: float(v) for k, v in item["supply"].items()},
            base=item["base"] if isinstance(item["base"], str)
            else {k: float(v) for k, v in item["base"].items()},
            direction=item["direction"], threshold=float(item["threshold"]), unit=item["unit"],
            gap_unit=item["gap_unit"],
            phase_thresholds={k: float(v) for k, v in item.get("phase_thresholds", {}).items()},
            notes=notes)
    return result


@lru_cache
def metrics() -> dict[str, dict[str, str]]:
    """Metric code -> unit, sector and label."""
    return dict(_raw()["metrics"])


@lru_cache
def activity_types() -> dict[str, dict[str, str]]:
    """Sector -> activity type code -> label."""
    data = json.loads(ACTIVITY_TYPES_FILE.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


@dataclass
class ZoneFacts:
    """What the standards need to know about a zone on a date."""

    zone_id: int
    zone_code: str
    zone_name: str
    emergency_phase: bool
    area_m2: float | None
    population: int | None
    population_source: str | None  # "registered" | "reported" | None
    school_age: int | None
    #: metric -> (value, measured on, ISO date)
    measurements: dict[str, tuple[float, str]] = field(default_factory=dict)

    def value_of(self, metric: str) -> float | None:
        if metric == ZONE_AREA:
            return self.area_m2
        found = self.measurements.get(metric)
        return found[0] if found else None


@dataclass
class IndicatorResult:
    standard: str
    name: str
    sector: str
    citation: str
    value: float | None
    threshold: float
    threshold_source: str  # "handbook", "handbook (emergency phase)" or "override: <reason>"
    unit: str
    direction: str
    status: Status
    reason: str
    base: float | None
    supply: float | None
    gap: float | None
    gap_unit: str
    inputs: dict[str, Any]
    #: The value before rounding, for comparisons (commitments).
    exact: float | None = None


def _weighted(facts: ZoneFacts, weights: dict[str, float]) -> tuple[float | None, dict[str, Any]]:
    """Weighted sum of the latest values; None when none of them was ever measured.

    A survey reports every kind it found: a kind missing beside a measured one counts as 0.
    """
    total, seen, inputs = 0.0, False, {}
    for metric, weight in weights.items():
        value = facts.value_of(metric)
        if value is None:
            continue
        seen = True
        total += value * weight
        measured = facts.measurements.get(metric)
        inputs[metric] = {"value": value, "on": measured[1] if measured else None}
    return (total if seen else None), inputs


def _base(facts: ZoneFacts, standard: Standard) -> tuple[float | None, str, dict[str, Any]]:
    if standard.base == "population":
        return (float(facts.population) if facts.population is not None else None,
                f"{facts.population_source or 'no'} population", {})
    if standard.base == "school_age":
        return (float(facts.school_age) if facts.school_age is not None else None,
                "registered children aged 6-17", {})
    assert isinstance(standard.base, dict)
    value, inputs = _weighted(facts, standard.base)
    return value, "enrolled learners", inputs


def evaluate(facts: ZoneFacts, standard: Standard, threshold: float, threshold_source: str
             ) -> IndicatorResult:
    base, base_label, base_inputs = _base(facts, standard)
    supply, supply_inputs = _weighted(facts, standard.supply)
    inputs = {**base_inputs, **supply_inputs, "base": base_label}
    value: float | None = None
    gap: float | None = None
    status: Status
    if not base:
        status, reason = "unknown", f"no {base_label}" if base is None else f"{base_label} is 0"
    elif supply is None:
        status, reason = "unknown", "not measured on or before this date"
    else:
        value, needed = _value_and_need(standard.kind, base, supply, threshold)
        ok = value is not None and (value >= threshold if standard.direction == ">="
                                    else value <= threshold)
        status = "met" if ok else "not_met"
        gap = 0.0 if ok else _round_gap(needed - supply, standard.gap_unit)
        reason = "" if ok else f"needs {gap:,.{0 if gap == int(gap) else 1}f} more " \
                               f"{standard.gap_unit}"
    result = IndicatorResult(
        standard=standard.code, name=standard.name, sector=standard.sector,
        citation=standard.citation, value=None if value is None else round(value, 2),
        threshold=threshold, threshold_source=threshold_source, unit=standard.unit,
        direction=standard.direction, status=status, reason=reason, base=base, supply=supply,
        gap=gap, gap_unit=standard.gap_unit, inputs=inputs, exact=value)
    return result


def _value_and_need(kind: Kind, base: float, supply: float, threshold: float
                    ) -> tuple[float | None, float]:
    """The indicator's value and the supply needed to meet the threshold."""
    if kind == "supply_per_person":
        return supply / base, threshold * base
    if kind == "people_per_unit":
        return (base / supply if supply else None), base / threshold
    return 100.0 * supply / base, threshold * base / 100.0


def _round_gap(missing: float, unit: str) -> float:
    if unit in _WHOLE_UNITS:
        return float(math.ceil(missing - 1e-9))
    return float(math.ceil(missing))
