"""Loading and querying the reference geography (admin areas by P-code)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from shapely.geometry import Point, shape
from shapely.prepared import prep
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import NotFound, ValidationFailed
from havens.geo.loaders import AreaRow, check_hierarchy, read_areas
from havens.geo.models import AdminArea
from havens.orgs.permissions import Principal, require


def load_areas(db: Session, *, actor: Principal, path: Path | None = None) -> int:
    """Insert or update admin areas from a file (or the packaged Syria data); returns a count."""
    require(actor, "geo.manage")
    rows = read_areas(path)
    known = set(db.scalars(select(AdminArea.pcode)))
    check_hierarchy(rows, known)
    # Parents first, so the self-referencing foreign key holds at every insert; new areas go
    # in one bulk insert per level (the Syria set is 348 areas with polygons).
    for level in sorted({r.level for r in rows}):
        fresh = [_values(r) for r in rows if r.level == level and r.pcode not in known]
        if fresh:
            db.execute(insert(AdminArea), fresh)
        for row in rows:
            if row.level == level and row.pcode in known:
                _upsert(db, row)
        db.flush()
    audit.record(db, actor=actor, action="geo.load", object_type="admin_areas",
                 detail={"source": str(path) if path else "packaged Syria", "areas": len(rows)})
    return len(rows)


def _values(row: AreaRow) -> dict[str, Any]:
    bounds = shape(row.geometry).bounds if row.geometry else (None, None, None, None)
    return {"pcode": row.pcode, "country": row.country, "level": row.level,
            "parent_pcode": row.parent_pcode, "name_en": row.name_en, "name_ar": row.name_ar,
            "centroid_lon": row.centroid_lon, "centroid_lat": row.centroid_lat,
            "geometry": row.geometry, "min_lon": bounds[0], "min_lat": bounds[1],
            "max_lon": bounds[2], "max_lat": bounds[3]}


def _upsert(db: Session, row: AreaRow) -> None:
    area = db.get(AdminArea, row.pcode) or AdminArea(pcode=row.pcode)
    area.country = row.country
    area.level = row.level
    area.parent_pcode = row.parent_pcode
    area.name_en = row.name_en
    area.name_ar = row.name_ar
    area.centroid_lon = row.centroid_lon
    area.centroid_lat = row.centroid_lat
    area.geometry = row.geometry
    if row.geometry:
        area.min_lon, area.min_lat, area.max_lon, area.max_lat = shape(row.geometry).bounds
    db.add(area)


def count_areas(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(AdminArea)) or 0)


def get_area(db: Session, *, pcode: str) -> AdminArea:
    area = db.get(AdminArea, pcode.strip().upper())
    if area is None:
        raise NotFound(f"No admin area with P-code {pcode}.", field="pcode")
    return area


def list_areas(
    db: Session, *, actor: Principal, level: int | None = None, parent: str | None = None,
) -> Sequence[AdminArea]:
    require(actor, "geo.read")
    query = select(AdminArea).order_by(AdminArea.pcode)
    if level is not None:
        query = query.where(AdminArea.level == level)
    if parent is not None:
        query = query.where(AdminArea.parent_pcode == parent.upper())
    return db.scalars(query).all()


def check_pcodes(
    db: Session, *, pcodes: Iterable[str], level: int | None = None, field: str = "pcodes"
) -> list[str]:
    """Normalised P-codes, all known (and at ``level`` when given); else a clear error."""
    wanted = [code.strip().upper() for code in pcodes if code and code.strip()]
    if not wanted:
        return []
    found = {a.pcode: a.level for a in db.scalars(
        select(AdminArea).where(AdminArea.pcode.in_(set(wanted))))}
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise ValidationFailed(f"Unknown P-code(s): {', '.join(unknown)}.", field=field)
    if level is not None:
        wrong = [code for code in wanted if found[code] != level]
        if wrong:
            raise ValidationFailed(
                f"P-code(s) {', '.join(wrong)} are not admin level {level}.", field=field)
    return wanted


def ancestors(db: Session, *, pcode: str) -> list[AdminArea]:
    """The area and its parents, from itself up to level 1."""
    chain = []
    current: AdminArea | None = get_area(db, pcode=pcode)
    while current is not None:
        chain.append(current)
        current = db.get(AdminArea, current.parent_pcode) if current.parent_pcode else None
    return chain


def area_at_point(db: Session, *, lon: float, lat: float, level: int = 1) -> AdminArea | None:
    """The admin area of ``level`` whose polygon holds the point, where polygons are loaded."""
    candidates = db.scalars(select(AdminArea).where(
        AdminArea.level == level, AdminArea.geometry.is_not(None),
        AdminArea.min_lon <= lon, AdminArea.max_lon >= lon,
        AdminArea.min_lat <= lat, AdminArea.max_lat >= lat,
    ))
    point = Point(lon, lat)
    for area in candidates:
        if prep(shape(area.geometry)).covers(point):
            return area
    return None


def feature_collection(areas: Iterable[AdminArea], *, with_geometry: bool = True
                       ) -> dict[str, Any]:
    features = []
    for area in areas:
        geometry = area.geometry if with_geometry else None
        if geometry is None and area.centroid_lon is not None:
            geometry = {"type": "Point", "coordinates": [area.centroid_lon, area.centroid_lat]}
        features.append({
            "type": "Feature",
            "geometry": geometry,
            "properties": {"pcode": area.pcode, "level": area.level,
                           "parent_pcode": area.parent_pcode, "name_en": area.name_en,
                           "name_ar": area.name_ar},
        })
    return {"type": "FeatureCollection", "features": features}
