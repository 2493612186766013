"""Safe zones: create, edit, delete, list; occupancy; GeoJSON out and in.

A zone's status is never changed here: ``havens.agreements.lifecycle`` alone moves it, with
the agreement that justifies it. New zones start ``proposed``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.database import is_postgresql
from havens.exceptions import Conflict, NotFound, ValidationFailed
from havens.geo import service as geo_service
from havens.orgs.permissions import Principal, require
from havens.zones import capacity as capacity_rules
from havens.zones import geometry
from havens.zones.models import (
    ACTIVE_ZONE_STATUSES,
    ReportedPopulation,
    Site,
    SiteStatus,
    Zone,
    ZoneStatus,
)
from havens.zones.placement import locate, replace_sites_of_zone
from havens.zones.schemas import Occupancy, ZoneCreate, ZoneRead, ZoneUpdate

# Any fixed number: serialises zone writes on PostgreSQL, so that two requests cannot both pass
# the overlap and code checks with boundaries that overlap each other.
_ZONE_LOCK_KEY = 7_202_612

__all__ = ["create_zone", "delete_zone", "get_zone", "get_zone_by_code", "list_zones", "locate",
           "occupancy", "set_emergency_phase", "update_zone"]


# --- reading ---------------------------------------------------------------------------------

def get_zone(db: Session, *, actor: Principal, zone_id: int) -> Zone:
    require(actor, "zones.read")
    zone = db.get(Zone, zone_id)
    if zone is None:
        raise NotFound(f"No zone with id {zone_id}.", field="zone_id")
    return zone


def get_zone_by_code(db: Session, *, actor: Principal, code: str) -> Zone:
    require(actor, "zones.read")
    zone = db.scalar(select(Zone).where(Zone.code == code.strip().upper()))
    if zone is None:
        raise NotFound(f"No zone with code {code}.", field="code")
    return zone


def list_zones(
    db: Session, *, actor: Principal, statuses: Sequence[ZoneStatus] | None = None,
    admin_pcode: str | None = None, search: str | None = None,
) -> list[Zone]:
    """Zones by code; filtered by status, by an admin P-code they cover, by code or name."""
    require(actor, "zones.read")
    query = select(Zone).order_by(Zone.code)
    if statuses:
        query = query.where(Zone.status.in_(list(statuses)))
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(Zone.code).like(pattern),
                                func.lower(Zone.name_en).like(pattern),
                                Zone.name_ar.like(f"%{search.strip()}%")))
    zones = list(db.scalars(query))
    if admin_pcode:
        wanted = admin_pcode.strip().upper()
        # A zone covering a sub-district also answers for its district and governorate.
        zones = [z for z in zones if any(p == wanted or p.startswith(wanted)
                                         for p in z.admin_pcodes)]
    return zones


def to_read(db: Session, zone: Zone) -> ZoneRead:
    """The zone with its figures: sites, capacity, bounding box."""
    return to_reads(db, [zone])[0]


def to_reads(db: Session, zones: Sequence[Zone]) -> list[ZoneRead]:
    """Zones with their figures, in one query for all of them (not two per zone)."""
    figures = capacity_rules.zone_figures(db, zone_ids=[z.id for z in zones])
    reads = []
    for zone in zones:
        read = ZoneRead.model_validate(zone)
        read.site_count, read.capacity = figures[zone.id]
        if zone.min_lon is not None:
            read.bbox = [zone.min_lon, zone.min_lat or 0, zone.max_lon or 0, zone.max_lat or 0]
        reads.append(read)
    return reads


# --- writing ---------------------------------------------------------------------------------

def _lock_zones(db: Session) -> None:
    if is_postgresql(db):
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ZONE_LOCK_KEY})


def create_zone(db: Session, *, actor: Principal, data: ZoneCreate) -> Zone:
    require(actor, "zones.write")
    _lock_zones(db)
    pcodes = geo_service.check_pcodes(db, pcodes=data.admin_pcodes, field="admin_pcodes")
    if not pcodes:
        raise ValidationFailed("Name at least one admin area P-code.", field="admin_pcodes")
    code = data.code.strip().upper() if data.code else _next_code(db, pcodes[0])
    _check_code_free(db, code)
    zone = Zone(code=code, name_en=data.name_en.strip(), name_ar=_clean(data.name_ar),
                admin_pcodes=pcodes, status=ZoneStatus.proposed,
                emergency_phase=data.emergency_phase)
    _set_boundary(db, zone, data.boundary)
    db.add(zone)
    db.flush()
    placed = replace_sites_of_zone(db, zone)
    audit.record(db, actor=actor, action="zone.create", object_type="zone", object_id=zone.id,
                 detail={"code": code, "name_en": zone.name_en, "admin_pcodes": pcodes,
                         "area_m2": zone.area_m2, "boundary_sha256": _digest(zone.boundary),
                         "sites_placed": placed})
    return zone


def update_zone(db: Session, *, actor: Principal, zone_id: int, data: ZoneUpdate) -> Zone:
    """Edit names, code, P-codes, boundary or settings (emergency phase); never the status."""
    require(actor, "zones.write")
    zone = get_zone(db, actor=actor, zone_id=zone_id)
    _lock_zones(db)
    _apply_update(db, actor=actor, zone=zone, data=data)
    return zone


def _apply_update(db: Session, *, actor: Principal, zone: Zone, data: ZoneUpdate
                  ) -> dict[str, Any]:
    """Apply the changes, audit them, and return them (empty when nothing changed)."""
    changes: dict[str, Any] = {}
    values = data.model_dump(exclude_unset=True, exclude={"status"})
    for name in ("name_en", "name_ar", "emergency_phase"):
        if name in values:
            if name == "name_en" and values[name] is None:
                raise ValidationFailed("A zone needs an English name.", field="name_en")
            new = _clean(values[name]) if name != "emergency_phase" else values[name]
            if new != getattr(zone, name):
                changes[name] = [getattr(zone, name), new]
                setattr(zone, name, new)
    if values.get("code"):
        code = values["code"].strip().upper()
        if code != zone.code:
            _check_code_free(db, code)
            changes["code"] = [zone.code, code]
            zone.code = code
    if values.get("admin_pcodes") is not None:
        pcodes = geo_service.check_pcodes(db, pcodes=values["admin_pcodes"], field="admin_pcodes")
        if not pcodes:
            raise ValidationFailed("Name at least one admin area P-code.", field="admin_pcodes")
        if pcodes != zone.admin_pcodes:
            changes["admin_pcodes"] = [zone.admin_pcodes, pcodes]
            zone.admin_pcodes = pcodes
    placed = 0
    if "boundary" in values and values["boundary"] != zone.boundary:
        before = (_digest(zone.boundary), zone.area_m2)
        _set_boundary(db, zone, values["boundary"])
        changes["boundary_sha256"] = [before[0], _digest(zone.boundary)]
        changes["area_m2"] = [before[1], zone.area_m2]
        db.flush()
        placed = replace_sites_of_zone(db, zone)
    if changes:
        db.flush()
        audit.record(db, actor=actor, action="zone.update", object_type="zone",
                     object_id=zone.id, detail={"code": zone.code, "changes": changes,
                                                "sites_moved": placed})
    return changes


def set_emergency_phase(db: Session, *, actor: Principal, zone_id: int, emergency_phase: bool
                        ) -> Zone:
    """Sphere thresholds may be looser during the first phase of an emergency."""
    return update_zone(db, actor=actor, zone_id=zone_id,
                       data=ZoneUpdate(emergency_phase=emergency_phase))


def delete_zone(db: Session, *, actor: Principal, zone_id: int) -> None:
    """Only a zone never agreed (proposed or rejected) and holding no site can be deleted."""
    require(actor, "zones.write")
    zone = get_zone(db, actor=actor, zone_id=zone_id)
    if zone.status not in (ZoneStatus.proposed, ZoneStatus.rejected):
        raise Conflict(f"Zone {zone.code} is {zone.status.value}: only a proposed or rejected "
                       "zone can be deleted.", field="status")
    sites = int(db.scalar(select(func.count(Site.id)).where(Site.zone_id == zone.id)) or 0)
    if sites:
        raise Conflict(f"Zone {zone.code} holds {sites} site(s): change its boundary or the "
                       "sites first.", field="sites")
    detail = {"code": zone.code, "name_en": zone.name_en, "status": zone.status.value}
    try:
        with db.begin_nested():
            db.delete(zone)
            db.flush()
    except IntegrityError as exc:
        raise Conflict(f"Zone {detail['code']} is referred to by other records (an agreement, "
                       "incidents...): it cannot be deleted.", field="zone_id") from exc
    audit.record(db, actor=actor, action="zone.delete", object_type="zone", object_id=zone_id,
                 detail=detail)


def _set_boundary(db: Session, zone: Zone, boundary: dict[str, Any] | None) -> None:
    if boundary is None:
        zone.boundary = None
        zone.area_m2 = zone.min_lon = zone.min_lat = zone.max_lon = zone.max_lat = None
        return
    shape_ = geometry.polygon_from_geojson(boundary, field="boundary")
    if zone.status in ACTIVE_ZONE_STATUSES:
        _check_no_overlap(db, shape_, zone_id=zone.id)
    zone.boundary = geometry.to_geojson(shape_)
    zone.area_m2 = geometry.geodesic_area_m2(shape_)
    zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat = geometry.bounds(shape_)


def _check_no_overlap(db: Session, shape_: Any, *, zone_id: int | None) -> None:
    from shapely.geometry import shape

    min_lon, min_lat, max_lon, max_lat = geometry.bounds(shape_)
    query = select(Zone).where(
        Zone.status.in_(ACTIVE_ZONE_STATUSES), Zone.boundary.is_not(None),
        Zone.min_lon <= max_lon, Zone.max_lon >= min_lon,
        Zone.min_lat <= max_lat, Zone.max_lat >= min_lat,
    ).order_by(Zone.code)
    if zone_id is not None:
        query = query.where(Zone.id != zone_id)
    for other in db.scalars(query):
        if geometry.interiors_intersect(shape_, shape(other.boundary)):
            raise Conflict(
                f"The boundary overlaps zone {other.code} ({other.name_en}, "
                f"{other.status.value}); active zones may share an edge but not area.",
                field="boundary", details={"zone": other.code})


def _check_code_free(db: Session, code: str) -> None:
    if db.scalar(select(Zone.id).where(Zone.code == code)):
        raise Conflict(f"A zone with code {code} exists.", field="code")


def _next_code(db: Session, pcode: str) -> str:
    """SZ-<governorate P-code>-<next number>, e.g. SZ-SY07-003."""
    governorate = geo_service.ancestors(db, pcode=pcode)[-1].pcode
    prefix = f"SZ-{governorate}-"
    numbers = [int(m.group(1)) for code in db.scalars(
        select(Zone.code).where(Zone.code.like(f"{prefix}%")))
        if (m := re.fullmatch(rf"{re.escape(prefix)}(\d+)", code))]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _digest(boundary: dict[str, Any] | None) -> str | None:
    if boundary is None:
        return None
    canonical = json.dumps(boundary, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- occupancy -------------------------------------------------------------------------------

def latest_reports(db: Session, *, site_ids: Sequence[int]) -> dict[int, ReportedPopulation]:
    """The most recent reported population of each site."""
    if not site_ids:
        return {}
    latest = (select(ReportedPopulation.site_id, func.max(ReportedPopulation.reported_on)
                     .label("on")).where(ReportedPopulation.site_id.in_(site_ids))
              .group_by(ReportedPopulation.site_id).subquery())
    rows = db.scalars(select(ReportedPopulation).join(
        latest, (ReportedPopulation.site_id == latest.c.site_id)
        & (ReportedPopulation.reported_on == latest.c.on)))
    return {row.site_id: row for row in rows}


def occupancy(db: Session, *, actor: Principal, zone_id: int) -> Occupancy:
    """Reported individuals in the zone's sites (latest report of each) against capacity."""
    zone = get_zone(db, actor=actor, zone_id=zone_id)
    in_zone = (Site.zone_id == zone.id, Site.status != SiteStatus.closed)
    sites = db.execute(select(*capacity_rules.FIGURE_COLUMNS).where(*in_zone)).all()
    latest = (select(ReportedPopulation.site_id,
                     func.max(ReportedPopulation.reported_on).label("on"))
              .join(Site, Site.id == ReportedPopulation.site_id).where(*in_zone)
              .group_by(ReportedPopulation.site_id).subquery())
    # Summed in the database: one row, whatever the number of sites.
    reporting, individuals, families, last = db.execute(
        select(func.count(), func.sum(ReportedPopulation.girls + ReportedPopulation.boys
                                      + ReportedPopulation.women + ReportedPopulation.men),
               func.sum(ReportedPopulation.families), func.max(ReportedPopulation.reported_on))
        .join(latest, (ReportedPopulation.site_id == latest.c.site_id)
              & (ReportedPopulation.reported_on == latest.c.on))).one()
    individuals = int(individuals or 0)
    capacities = [c for c in (capacity_rules.site_capacity(s) for s in sites) if c is not None]
    capacity = sum(capacities) if capacities else None
    return Occupancy(
        zone_id=zone.id, zone_code=zone.code, reported_individuals=individuals,
        reported_families=int(families) if families is not None else None, sites=len(sites),
        sites_reporting=int(reporting), latest_report=last,
        capacity=capacity, sites_with_capacity=len(capacities),
        share=round(individuals / capacity, 4) if capacity else None)


# --- GeoJSON ---------------------------------------------------------------------------------

def feature_collection(db: Session, zones: Sequence[Zone]) -> dict[str, Any]:
    """Zones as a GeoJSON FeatureCollection (the format ``import_geojson`` reads back)."""
    features = []
    for zone in zones:
        features.append({
            "type": "Feature", "id": zone.code, "geometry": zone.boundary,
            "properties": {"code": zone.code, "name_en": zone.name_en, "name_ar": zone.name_ar,
                           "admin_pcodes": zone.admin_pcodes, "status": zone.status.value,
                           "emergency_phase": zone.emergency_phase, "area_m2": zone.area_m2,
                           "id": zone.id},
        })
    return {"type": "FeatureCollection", "features": features}


@dataclass
class ZoneImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def import_geojson(db: Session, *, actor: Principal, data: Any) -> ZoneImportResult:
    """Create or update zones by code from a FeatureCollection (properties ``code``,
    ``name_en``, ``name_ar``, ``admin_pcodes``, optionally ``emergency_phase``). Status, area
    and id in the file are ignored: they are Havens' own. Any bad feature stops the import."""
    require(actor, "zones.write")
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationFailed("Expected a GeoJSON FeatureCollection.", field="type")
    result = ZoneImportResult()
    features = data.get("features") or []
    if not isinstance(features, list):
        raise ValidationFailed("features must be a list of GeoJSON features.", field="features")
    for index, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            raise ValidationFailed(f"feature {index}: not a GeoJSON Feature object.",
                                   field="features")
        props = feature.get("properties") or {}
        where = f"feature {index} ({props.get('code') or 'no code'})"
        pcodes = props.get("admin_pcodes")
        if isinstance(pcodes, str):  # "SY0703, SY0700" from a spreadsheet or GIS attribute
            pcodes = [p for p in re.split(r"[,;\s]+", pcodes) if p]
        values = {"code": props.get("code"), "name_en": props.get("name_en"),
                  "name_ar": props.get("name_ar"), "admin_pcodes": pcodes,
                  "boundary": feature.get("geometry")}
        if "emergency_phase" in props:
            values["emergency_phase"] = props["emergency_phase"]
        try:
            existing = (db.scalar(select(Zone).where(Zone.code == str(values["code"]).upper()))
                        if values["code"] else None)
            if existing is None:
                zone = create_zone(db, actor=actor, data=ZoneCreate.model_validate(values))
                result.created.append(zone.code)
                continue
            values.pop("code")
            _lock_zones(db)
            changed = _apply_update(db, actor=actor, zone=existing,
                                    data=ZoneUpdate.model_validate(values))
            (result.updated if changed else result.unchanged).append(existing.code)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(p) for p in first["loc"]) or None
            raise ValidationFailed(f"{where}: {name}: {first['msg']}", field=name) from exc
        except (ValidationFailed, Conflict) as exc:
            raise type(exc)(f"{where}: {exc.message}", field=exc.field,
                            details=exc.details) from exc
    return result
