"""Sites (where displaced people live, as in CCCM practice) and their reported population.

A site's zone is never chosen by hand: it follows from the site's point (see
``havens.zones.placement``); a site outside every active zone is allowed and flagged
(``outside_zone``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import Conflict, NotFound, ValidationFailed
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, require
from havens.zones import capacity as capacity_rules
from havens.zones import geometry
from havens.zones.models import ReportedPopulation, Site, SiteStatus, SiteType, Zone
from havens.zones.placement import ZoneIndex, place_site
from havens.zones.schemas import PopulationCreate, SiteCreate, SiteRead, SiteUpdate
from havens.zones.site_rules import (
    AdminLookup,
    OrgLookup,
    next_generated_codes,
    normalise_site_code,
)

#: Columns a site record is made of (what forms, the API and imports set).
SITE_FIELDS = ("code", "name_en", "name_ar", "site_type", "status", "lon", "lat",
               "location_estimated", "boundary", "admin1_pcode", "admin2_pcode", "admin3_pcode",
               "community_pcode", "managing_org_id", "managing_agency", "declared_area_m2",
               "declared_capacity", "capacity_justification")


# --- reading ---------------------------------------------------------------------------------

def get_site(db: Session, *, actor: Principal, site_id: int) -> Site:
    require(actor, "zones.read")
    site = db.get(Site, site_id)
    if site is None:
        raise NotFound(f"No site with id {site_id}.", field="site_id")
    return site


def get_site_by_code(db: Session, *, actor: Principal, code: str) -> Site:
    require(actor, "zones.read")
    site = db.scalar(select(Site).where(Site.code == code.strip().upper()))
    if site is None:
        raise NotFound(f"No site with code {code}.", field="code")
    return site


def list_sites(
    db: Session, *, actor: Principal, zone_id: int | None = None, zone_code: str | None = None,
    admin_pcode: str | None = None, site_type: SiteType | None = None,
    status: SiteStatus | None = None, outside_zone: bool | None = None,
    search: str | None = None, limit: int | None = None, offset: int = 0,
) -> list[Site]:
    """Sites by code, with filters (an admin P-code of any level matches its sites)."""
    require(actor, "zones.read")
    return list(db.scalars(_filtered(
        db, select(Site), zone_id=zone_id, zone_code=zone_code, admin_pcode=admin_pcode,
        site_type=site_type, status=status, outside_zone=outside_zone, search=search,
        limit=limit, offset=offset)))


def list_site_reads(
    db: Session, *, actor: Principal, zone_id: int | None = None, zone_code: str | None = None,
    admin_pcode: str | None = None, site_type: SiteType | None = None,
    status: SiteStatus | None = None, outside_zone: bool | None = None,
    search: str | None = None, limit: int | None = None, offset: int = 0,
) -> list[SiteRead]:
    """``list_sites`` as the API reads it, in one query of plain columns (zone code and
    organisation joined), without building a Site object per row."""
    require(actor, "zones.read")
    query = (select(*READ_COLUMNS, Zone.code.label("zone_code"),
                    Organisation.acronym.label("managing_org"))
             .outerjoin(Zone, Zone.id == Site.zone_id)
             .outerjoin(Organisation, Organisation.id == Site.managing_org_id))
    rows = db.execute(_filtered(
        db, query, zone_id=zone_id, zone_code=zone_code, admin_pcode=admin_pcode,
        site_type=site_type, status=status, outside_zone=outside_zone, search=search,
        limit=limit, offset=offset))
    return [_read(row._asdict()) for row in rows]


def _filtered(
    db: Session, query: Select[Any], *, zone_id: int | None, zone_code: str | None,
    admin_pcode: str | None, site_type: SiteType | None, status: SiteStatus | None,
    outside_zone: bool | None, search: str | None, limit: int | None, offset: int,
) -> Select[Any]:
    query = query.order_by(Site.code)
    if zone_code is not None:
        zone = db.scalar(select(Zone).where(Zone.code == zone_code.strip().upper()))
        if zone is None:
            raise NotFound(f"No zone with code {zone_code}.", field="zone")
        zone_id = zone.id
    if zone_id is not None:
        query = query.where(Site.zone_id == zone_id)
    if admin_pcode:
        pcode = admin_pcode.strip().upper()
        query = query.where(or_(Site.admin1_pcode == pcode, Site.admin2_pcode == pcode,
                                Site.admin3_pcode == pcode, Site.community_pcode == pcode))
    if site_type is not None:
        query = query.where(Site.site_type == site_type)
    if status is not None:
        query = query.where(Site.status == status)
    if outside_zone is not None:
        query = query.where(Site.zone_id.is_(None) if outside_zone else Site.zone_id.is_not(None))
    if search:
        text = search.strip()
        query = query.where(or_(func.lower(Site.code).like(f"%{text.lower()}%"),
                                func.lower(Site.name_en).like(f"%{text.lower()}%"),
                                Site.name_ar.like(f"%{text}%")))
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return query


def to_read(db: Session, site: Site) -> SiteRead:
    return to_reads(db, [site])[0]


def to_reads(db: Session, sites: Sequence[Site]) -> list[SiteRead]:
    """Sites as read by the API, with zone codes, organisations and capacity (few queries)."""
    zone_codes = {zone_id: code for zone_id, code in db.execute(select(Zone.id, Zone.code).where(
        Zone.id.in_({s.zone_id for s in sites if s.zone_id})))}
    acronyms = {org_id: acronym for org_id, acronym in db.execute(
        select(Organisation.id, Organisation.acronym).where(
            Organisation.id.in_({s.managing_org_id for s in sites if s.managing_org_id})))}
    return [_read({name: getattr(site, name) for name in _READ_FIELDS}
                  | {"zone_code": zone_codes.get(site.zone_id) if site.zone_id else None,
                     "managing_org": acronyms.get(site.managing_org_id)
                     if site.managing_org_id else None})
            for site in sites]


_READ_FIELDS = (*SITE_FIELDS, "id", "zone_id", "area_m2", "created_at", "updated_at")
#: What a SiteRead is made of, as columns (``list_site_reads``).
READ_COLUMNS = tuple(getattr(Site, name) for name in _READ_FIELDS)


def _read(values: dict[str, Any]) -> SiteRead:
    """A site's columns (with ``zone_code`` and ``managing_org``) as read by the API."""
    values["outside_zone"] = values["zone_id"] is None
    values["capacity"] = capacity_rules.capacity_of(
        area_m2=values["area_m2"], declared_area_m2=values["declared_area_m2"],
        declared_capacity=values["declared_capacity"],
        justification=values["capacity_justification"])
    return SiteRead.model_validate(values)


# --- writing ---------------------------------------------------------------------------------

def check_values(db: Session, values: dict[str, Any], *, admin: AdminLookup | None = None,
                 orgs: OrgLookup | None = None, agency_given: bool = True) -> dict[str, Any]:
    """Normalise and check a whole site record (before it is written); returns the record
    with the derived fields (P-codes, organisation when ``agency_given``, area)."""
    out = dict(values)
    if out.get("code"):
        out["code"] = normalise_site_code(out["code"])
    out["name_en"] = (out.get("name_en") or "").strip()
    if not out["name_en"]:
        raise ValidationFailed("A site needs a name.", field="name_en")
    out["name_ar"] = (out.get("name_ar") or "").strip() or None
    if out.get("lon") is None or out.get("lat") is None:
        raise ValidationFailed("A site needs a location (longitude and latitude).", field="lon")
    out["lon"], out["lat"] = geometry.check_point(out["lon"], out["lat"], field="lon")
    admin = admin or AdminLookup.load(db)
    out["admin1_pcode"], out["admin2_pcode"], out["admin3_pcode"] = admin.resolve(
        out.get("admin1_pcode"), out.get("admin2_pcode"), out.get("admin3_pcode"))
    out["community_pcode"] = (out.get("community_pcode") or "").strip().upper() or None
    agency = (out.get("managing_agency") or "").strip() or None
    if agency_given:
        org = (orgs or OrgLookup(db)).find(agency)
        out["managing_org_id"] = org[0] if org else None
        out["managing_agency"] = None if org else agency
    out["area_m2"] = None
    if out.get("boundary") is not None:
        shape_ = geometry.polygon_from_geojson(out["boundary"], field="boundary")
        out["boundary"] = geometry.to_geojson(shape_)
        out["area_m2"] = round(geometry.geodesic_area_m2(shape_), 1)
    out["capacity_justification"] = (out.get("capacity_justification") or "").strip() or None
    capacity_rules.check_declared_capacity(
        area_m2=out["area_m2"] if out["area_m2"] is not None else out.get("declared_area_m2"),
        declared_capacity=out.get("declared_capacity"),
        justification=out["capacity_justification"])
    return out


def _record_of(site: Site) -> dict[str, Any]:
    return {name: getattr(site, name) for name in SITE_FIELDS} | {"area_m2": site.area_m2}


def apply_record(db: Session, site: Site, record: dict[str, Any],
                 index: ZoneIndex | None = None) -> dict[str, list[Any]]:
    """Write a checked record to the site, re-place it when its point moved; the changes."""
    before = _record_of(site) if site.id is not None else {}
    changes: dict[str, list[Any]] = {}
    for name, value in record.items():
        if name in SITE_FIELDS or name == "area_m2":
            old = before.get(name)
            if site.id is None or old != value:
                if site.id is not None:
                    changes[name] = ["(polygon)" if name == "boundary" and old else old,
                                     "(polygon)" if name == "boundary" and value else value]
                setattr(site, name, value)
    moved = site.id is None or {"lon", "lat", "location_estimated"} & changes.keys()
    if moved:
        old_zone = site.zone_id
        place_site(db, site, index)
        new_zone = site.zone.id if site.zone is not None else None
        if site.id is not None and new_zone != old_zone:
            changes["zone_id"] = [old_zone, new_zone]
    return changes


def create_site(db: Session, *, actor: Principal, data: SiteCreate) -> Site:
    require(actor, "sites.write")
    values = data.model_dump()
    record = check_values(db, values)
    if record.get("code"):
        _check_code_free(db, record["code"])
    else:
        record["code"] = next_generated_codes(db, 1)[0]
    site = Site()
    apply_record(db, site, record)
    db.add(site)
    db.flush()
    audit.record(db, actor=actor, action="site.create", object_type="site", object_id=site.id,
                 detail={"code": site.code, "name_en": site.name_en,
                         "zone": site.zone.code if site.zone else None})
    return site


def update_site(db: Session, *, actor: Principal, site_id: int, data: SiteUpdate) -> Site:
    require(actor, "sites.write")
    site = get_site(db, actor=actor, site_id=site_id)
    given = data.model_dump(exclude_unset=True)
    for required in ("code", "name_en", "site_type", "status", "lon", "lat"):
        if required in given and given[required] is None:
            raise ValidationFailed(f"{required} cannot be empty.", field=required)
    values = {**_record_of(site), **given}
    if "lon" in given or "lat" in given:
        values["location_estimated"] = False  # someone gave the real point
    record = check_values(db, values, agency_given="managing_agency" in given)
    if record["code"] != site.code:
        _check_code_free(db, record["code"])
    changes = apply_record(db, site, record)
    if changes:
        db.flush()
        audit.record(db, actor=actor, action="site.update", object_type="site",
                     object_id=site.id, detail={"code": site.code, "changes": changes})
    return site


def delete_site(db: Session, *, actor: Principal, site_id: int) -> None:
    """Delete a site and its reported figures; refused while other records refer to it
    (close it instead)."""
    require(actor, "sites.write")
    site = get_site(db, actor=actor, site_id=site_id)
    code = site.code
    try:
        with db.begin_nested():
            for report in db.scalars(select(ReportedPopulation).where(
                    ReportedPopulation.site_id == site.id)):
                db.delete(report)
            db.delete(site)
            db.flush()
    except IntegrityError as exc:
        raise Conflict(f"Site {code} is referred to by other records: set its status to "
                       "closed instead.", field="site_id") from exc
    audit.record(db, actor=actor, action="site.delete", object_type="site", object_id=site_id,
                 detail={"code": code})


def _check_code_free(db: Session, code: str) -> None:
    if db.scalar(select(Site.id).where(Site.code == code)):
        raise Conflict(f"A site with code {code} exists.", field="code")


# --- reported population ---------------------------------------------------------------------

def record_population(db: Session, *, actor: Principal, site_id: int, data: PopulationCreate
                      ) -> ReportedPopulation:
    """Record (or correct) the reported population of a site on a date."""
    require(actor, "sites.write")
    site = get_site(db, actor=actor, site_id=site_id)
    row, changed = upsert_population(db, site_id=site.id, values=data.model_dump())
    if changed:
        audit.record(db, actor=actor, action="site.population", object_type="site",
                     object_id=site.id, detail={"code": site.code, **data.model_dump(),
                                                "individuals": row.individuals})
    return row


def upsert_population(db: Session, *, site_id: int, values: dict[str, Any]
                      ) -> tuple[ReportedPopulation, bool]:
    """The report of the site on that date, created or updated; whether anything changed."""
    row = db.scalar(select(ReportedPopulation).where(
        ReportedPopulation.site_id == site_id,
        ReportedPopulation.reported_on == values["reported_on"]))
    if row is None:
        row = ReportedPopulation(site_id=site_id, **values)
        db.add(row)
        db.flush()
        return row, True
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        db.flush()
    return row, changed


def list_population(db: Session, *, actor: Principal, site_id: int
                    ) -> Sequence[ReportedPopulation]:
    site = get_site(db, actor=actor, site_id=site_id)
    return db.scalars(select(ReportedPopulation).where(ReportedPopulation.site_id == site.id)
                      .order_by(ReportedPopulation.reported_on)).all()


# --- GeoJSON ---------------------------------------------------------------------------------

def feature_collection(db: Session, sites: Sequence[Site]) -> dict[str, Any]:
    """Sites as points (their polygon, when drawn, is in the ``boundary`` property)."""
    zone_codes = {zone_id: code for zone_id, code in db.execute(select(Zone.id, Zone.code))}
    features = []
    for site in sites:
        features.append({
            "type": "Feature", "id": site.code,
            "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]},
            "properties": {
                "code": site.code, "name_en": site.name_en, "name_ar": site.name_ar,
                "site_type": site.site_type.value, "status": site.status.value,
                "admin1_pcode": site.admin1_pcode, "admin2_pcode": site.admin2_pcode,
                "admin3_pcode": site.admin3_pcode, "community_pcode": site.community_pcode,
                "zone": zone_codes.get(site.zone_id) if site.zone_id else None,
                "outside_zone": site.zone_id is None,
                "location_estimated": site.location_estimated,
                "capacity": capacity_rules.site_capacity(site), "id": site.id,
            },
        })
    return {"type": "FeatureCollection", "features": features}
