"""Zones: creation rules, overlap, edits without status, deletion, GeoJSON import."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit.models import AuditRecord
from havens.exceptions import Conflict, PermissionDenied, ValidationFailed
from havens.orgs.models import Role
from havens.orgs.permissions import Principal
from havens.zones import service
from havens.zones.models import Zone, ZoneStatus
from havens.zones.schemas import ZoneCreate, ZoneUpdate
from tests.conftest import principal
from tests.zones.conftest import square

MakeZone = Callable[..., Zone]


def test_a_new_zone_is_proposed_with_area_bbox_and_audit(
        db: Session, make_zone: MakeZone) -> None:
    zone = make_zone(boundary=square(36.6, 36.2, 0.1), pcodes=["sy070301", "SY070300"])
    assert zone.status is ZoneStatus.proposed
    assert zone.admin_pcodes == ["SY070301", "SY070300"]
    assert zone.area_m2 == pytest.approx(99.7e6, rel=1e-2)
    assert (zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat) == pytest.approx(
        (36.6, 36.2, 36.7, 36.3))
    audit = db.scalars(select(AuditRecord).where(AuditRecord.action == "zone.create")).one()
    assert audit.object_id == str(zone.id) and audit.detail["code"] == "SZ-SY07-001"


def test_codes_are_unique_and_generated_from_the_governorate(
        db: Session, system: Principal, make_zone: MakeZone) -> None:
    make_zone(code="SZ-SY07-001")
    with pytest.raises(Conflict, match="SZ-SY07-001 exists"):
        make_zone(code="sz-sy07-001", boundary=square(30, 30))
    generated = service.create_zone(db, actor=system, data=ZoneCreate(
        name_en="Harim", admin_pcodes=["SY070300"], boundary=square(35, 35)))
    assert generated.code == "SZ-SY07-002"
    aleppo = service.create_zone(db, actor=system, data=ZoneCreate(
        name_en="A'zaz", admin_pcodes=["SY020400"]))
    assert aleppo.code == "SZ-SY02-001" and aleppo.boundary is None and aleppo.area_m2 is None


def test_unknown_pcodes_are_refused(db: Session, system: Principal, areas: None) -> None:
    with pytest.raises(ValidationFailed, match="SY999999") as caught:
        service.create_zone(db, actor=system, data=ZoneCreate(
            name_en="Nowhere", admin_pcodes=["SY070301", "SY999999"]))
    assert caught.value.field == "admin_pcodes"


def test_overlap_with_an_active_zone_is_refused_naming_it(make_zone: MakeZone) -> None:
    make_zone(code="SZ-SY07-001", boundary=square(36.6, 36.2, 0.1), name="Atmeh")
    with pytest.raises(Conflict, match=r"overlaps zone SZ-SY07-001 \(Atmeh") as caught:
        make_zone(code="SZ-SY07-002", boundary=square(36.65, 36.25, 0.1))
    assert caught.value.field == "boundary"
    # Inside entirely is overlapping too.
    with pytest.raises(Conflict, match="SZ-SY07-001"):
        make_zone(code="SZ-SY07-003", boundary=square(36.62, 36.22, 0.02))


def test_touching_zones_are_allowed(make_zone: MakeZone) -> None:
    make_zone(code="SZ-SY07-001", boundary=square(36.6, 36.2, 0.1))
    east = make_zone(code="SZ-SY07-002", boundary=square(36.7, 36.2, 0.1))
    corner = make_zone(code="SZ-SY07-003", boundary=square(36.5, 36.1, 0.1))
    assert east.id and corner.id


@pytest.mark.parametrize("status", [ZoneStatus.closed, ZoneStatus.rejected])
def test_closed_and_rejected_zones_do_not_block(
        db: Session, make_zone: MakeZone, status: ZoneStatus) -> None:
    old = make_zone(code="SZ-SY07-001", boundary=square(36.6, 36.2, 0.1))
    old.status = status  # as the agreements lifecycle would
    db.flush()
    assert make_zone(code="SZ-SY07-002", boundary=square(36.65, 36.25, 0.1)).id


def test_a_changed_boundary_is_checked_against_other_zones(
        db: Session, system: Principal, make_zone: MakeZone) -> None:
    make_zone(code="SZ-SY07-001", boundary=square(36.6, 36.2, 0.1))
    other = make_zone(code="SZ-SY07-002", boundary=square(36.8, 36.2, 0.1))
    with pytest.raises(Conflict, match="SZ-SY07-001"):
        service.update_zone(db, actor=system, zone_id=other.id,
                            data=ZoneUpdate(boundary=square(36.65, 36.2, 0.1)))
    moved = service.update_zone(db, actor=system, zone_id=other.id,
                                data=ZoneUpdate(boundary=square(36.7, 36.2, 0.2)))
    assert moved.area_m2 == pytest.approx(4 * 99.7e6, rel=2e-2)


def test_update_refuses_status_and_edits_settings(
        db: Session, system: Principal, make_zone: MakeZone) -> None:
    zone = make_zone()
    with pytest.raises(ValidationError, match="only through its agreement"):
        ZoneUpdate.model_validate({"status": "operational"})
    service.set_emergency_phase(db, actor=system, zone_id=zone.id, emergency_phase=True)
    service.update_zone(db, actor=system, zone_id=zone.id,
                        data=ZoneUpdate(name_ar="المنطقة الآمنة أطمة", code="sz-sy07-009"))
    assert zone.emergency_phase and zone.code == "SZ-SY07-009"
    assert zone.status is ZoneStatus.proposed
    audits = db.scalars(select(AuditRecord).where(AuditRecord.action == "zone.update")).all()
    assert audits[0].detail["changes"]["emergency_phase"] == [False, True]
    assert audits[1].detail["changes"]["code"] == ["SZ-SY07-001", "SZ-SY07-009"]
    # Nothing changed, nothing audited.
    service.update_zone(db, actor=system, zone_id=zone.id, data=ZoneUpdate(name_en=zone.name_en))
    assert len(db.scalars(select(AuditRecord).where(
        AuditRecord.action == "zone.update")).all()) == 2


def test_only_staff_write_zones_everyone_reads(
        db: Session, make_user: Callable[..., object], make_zone: MakeZone) -> None:
    zone = make_zone()
    viewer = principal(make_user(Role.viewer))  # type: ignore[arg-type]
    assert service.get_zone(db, actor=viewer, zone_id=zone.id) is zone
    with pytest.raises(PermissionDenied):
        service.update_zone(db, actor=viewer, zone_id=zone.id,
                            data=ZoneUpdate(name_en="Renamed"))


def test_delete_only_proposed_or_rejected_zones_without_sites(
        db: Session, system: Principal, make_zone: MakeZone) -> None:
    from havens.zones import sites
    from havens.zones.schemas import SiteCreate

    zone = make_zone(boundary=square(36.6, 36.2, 0.1))
    site = sites.create_site(db, actor=system, data=SiteCreate(
        name_en="Camp", site_type="IS", lon=36.65, lat=36.25))  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="holds 1 site"):
        service.delete_zone(db, actor=system, zone_id=zone.id)
    sites.delete_site(db, actor=system, site_id=site.id)
    zone.status = ZoneStatus.negotiating
    with pytest.raises(Conflict, match="negotiating"):
        service.delete_zone(db, actor=system, zone_id=zone.id)
    zone.status = ZoneStatus.rejected
    service.delete_zone(db, actor=system, zone_id=zone.id)
    assert db.get(Zone, zone.id) is None


def test_list_filters(db: Session, system: Principal, make_zone: MakeZone) -> None:
    make_zone(code="SZ-SY07-001", boundary=square(36.6, 36.2), name="Atmeh")
    make_zone(code="SZ-SY02-001", boundary=square(37.0, 36.5), pcodes=["SY020400"],
              name="A'zaz")
    codes = [z.code for z in service.list_zones(db, actor=system, admin_pcode="SY02")]
    assert codes == ["SZ-SY02-001"]
    assert [z.code for z in service.list_zones(db, actor=system, search="atm")] == [
        "SZ-SY07-001"]
    assert service.list_zones(db, actor=system, statuses=[ZoneStatus.operational]) == []


def test_geojson_round_trip_and_import_errors(
        db: Session, system: Principal, make_zone: MakeZone) -> None:
    make_zone(code="SZ-SY07-001", boundary=square(36.6, 36.2), name="Atmeh")
    make_zone(code="SZ-SY02-001", boundary=square(37.0, 36.5), pcodes=["SY020400"])
    exported = service.feature_collection(db, service.list_zones(db, actor=system))
    again = service.import_geojson(db, actor=system, data=exported)
    assert again.unchanged == ["SZ-SY02-001", "SZ-SY07-001"] and not again.created

    atmeh = next(f for f in exported["features"] if f["properties"]["code"] == "SZ-SY07-001")
    atmeh["properties"]["name_en"] = "Atmeh camps"
    exported["features"].append({"type": "Feature", "geometry": square(36.0, 36.0),
                                 "properties": {"code": "SZ-SY07-005", "name_en": "New",
                                                "admin_pcodes": "SY070300, SY070301"}})
    result = service.import_geojson(db, actor=system, data=exported)
    assert result.updated == ["SZ-SY07-001"] and result.created == ["SZ-SY07-005"]
    assert service.get_zone_by_code(db, actor=system, code="SZ-SY07-005").admin_pcodes == [
        "SY070300", "SY070301"]

    bad = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "code": "SZ-SY07-006", "name_en": "Overlapping", "admin_pcodes": ["SY070301"]},
        "geometry": square(36.65, 36.25)}]}
    with pytest.raises(Conflict, match=r"feature 1 \(SZ-SY07-006\): .*SZ-SY07-001"):
        service.import_geojson(db, actor=system, data=bad)
    with pytest.raises(ValidationFailed, match="FeatureCollection"):
        service.import_geojson(db, actor=system, data={"type": "Feature"})


def test_a_zone_with_an_agreement_is_not_deleted(db: Session, system: Principal,
                                                 make_zone: MakeZone) -> None:
    from havens.agreements.models import Agreement

    zone = make_zone()
    zone.status = ZoneStatus.rejected
    db.add(Agreement(zone_id=zone.id))
    db.flush()
    with pytest.raises(Conflict, match="referred to by other records"):
        service.delete_zone(db, actor=system, zone_id=zone.id)
    assert service.get_zone(db, actor=system, zone_id=zone.id) is zone
