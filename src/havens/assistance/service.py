"""Measurements of zones and the cluster's threshold overrides (activities: ``activities.py``,
indicators: ``indicators.py``, gaps: ``gaps.py``, commitments: ``commitments.py``)."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.assistance.models import Measurement, StandardOverride
from havens.assistance.schemas import MeasurementsIn, OverrideIn
from havens.assistance.standards import metrics, standards
from havens.audit import service as audit
from havens.exceptions import NotFound, PermissionDenied, ValidationFailed
from havens.orgs.models import Role
from havens.orgs.permissions import Principal, require
from havens.zones.models import Zone


def find_zone(db: Session, ref: int | str) -> Zone:
    """A zone by id or by code (case-insensitive)."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        zone = db.get(Zone, int(ref))
    else:
        zone = db.scalar(select(Zone).where(Zone.code == ref.strip().upper()))
    if zone is None:
        raise NotFound(f"No zone {ref}.", field="zone")
    return zone


def record_measurements(db: Session, *, actor: Principal, data: MeasurementsIn
                        ) -> list[Measurement]:
    """Record a survey: several metrics of one zone on one day. A metric measured again on
    the same day replaces the earlier value (by the same organisation, or by staff)."""
    require(actor, "assistance.write")
    zone = find_zone(db, data.zone)
    known = metrics()
    for metric, value in data.values.items():
        if metric not in known:
            raise ValidationFailed(f"Unknown metric {metric!r}; known: {', '.join(known)}.",
                                   field=f"values.{metric}")
        if not math.isfinite(value) or value < 0:
            raise ValidationFailed(f"{metric} must be a number of 0 or more.",
                                   field=f"values.{metric}")
    _check_consistency(data.values)
    existing = {m.metric: m for m in db.scalars(select(Measurement).where(
        Measurement.zone_id == zone.id, Measurement.measured_on == data.measured_on,
        Measurement.metric.in_(list(data.values))))}
    rows = []
    for metric, value in data.values.items():
        row = existing.get(metric)
        if row is None:
            row = Measurement(zone_id=zone.id, metric=metric, measured_on=data.measured_on)
            db.add(row)
            previous = None
        else:
            if (row.organisation_id not in (None, actor.organisation_id)
                    and actor.role not in (Role.admin, Role.coordinator)):
                raise PermissionDenied(f"{metric} of {zone.code} on {data.measured_on} was "
                                       "recorded by another organisation.",
                                       field=f"values.{metric}")
            previous = row.value
        row.value = float(value)
        row.source = data.source
        row.organisation_id = actor.organisation_id
        row.recorded_by_user_id = actor.user_id
        rows.append(row)
        audit.record(db, actor=actor, action="assistance.measure", object_type="zone",
                     object_id=zone.id, detail={"zone": zone.code, "metric": metric,
                                                "on": data.measured_on.isoformat(),
                                                "value": float(value), "previous": previous})
    db.flush()
    return rows


def _check_consistency(values: dict[str, float]) -> None:
    total = values.get("toilets_functional")
    by_sex = [values[k] for k in ("toilets_female", "toilets_male") if k in values]
    if total is not None and by_sex and sum(by_sex) > total:
        raise ValidationFailed("Toilets for women and for men add up to more than the "
                               "functional toilets.", field="values.toilets_functional")


def list_measurements(db: Session, *, actor: Principal, zone: int | str,
                      metric: str | None = None, start: dt.date | None = None,
                      end: dt.date | None = None) -> list[Measurement]:
    require(actor, "assistance.read")
    found = find_zone(db, zone)
    query = select(Measurement).where(Measurement.zone_id == found.id)
    if metric:
        query = query.where(Measurement.metric == metric)
    if start:
        query = query.where(Measurement.measured_on >= start)
    if end:
        query = query.where(Measurement.measured_on <= end)
    return list(db.scalars(query.order_by(Measurement.measured_on, Measurement.metric)))


def set_override(db: Session, *, actor: Principal, data: OverrideIn) -> StandardOverride:
    """Adapt (or, with threshold None, restore) a standard's threshold, with a reason."""
    require(actor, "assistance.adapt")
    if data.standard not in standards():
        raise NotFound(f"No standard {data.standard!r}.", field="standard")
    reason = data.reason.strip()
    if len(reason) < 10:
        raise ValidationFailed("Say why the threshold is adapted (at least 10 characters): "
                               "it is shown beside every result that uses it.", field="reason")
    if data.threshold is not None and (not math.isfinite(data.threshold)
                                       or data.threshold <= 0):
        raise ValidationFailed("The threshold must be a positive number.", field="threshold")
    zone = find_zone(db, data.zone) if data.zone is not None else None
    row = StandardOverride(
        standard_code=data.standard, zone_id=zone.id if zone else None,
        phase=data.phase, threshold=data.threshold, valid_from=data.valid_from, reason=reason,
        set_by_user_id=actor.user_id, set_by_org_id=actor.organisation_id)
    db.add(row)
    db.flush()
    standard = standards()[data.standard]
    audit.record(db, actor=actor, action="assistance.standard_override",
                 object_type="standard_override", object_id=row.id, detail={
                     "standard": data.standard, "zone": zone.code if zone else None,
                     "phase": data.phase, "threshold": data.threshold,
                     "handbook": standard.threshold, "valid_from": data.valid_from.isoformat(),
                     "reason": reason})
    return row


def list_overrides(db: Session, *, actor: Principal) -> list[StandardOverride]:
    require(actor, "assistance.read")
    return list(db.scalars(select(StandardOverride).order_by(
        StandardOverride.standard_code, StandardOverride.valid_from, StandardOverride.id)))
