"""Sites: codes, admin areas, agencies, automatic zones, capacity, population, locate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit.models import AuditRecord
from havens.exceptions import Conflict, ValidationFailed
from havens.orgs.permissions import Principal
from havens.zones import capacity, service, sites
from havens.zones.models import Site, SiteStatus, Zone, ZoneStatus
from havens.zones.schemas import PopulationCreate, SiteCreate, SiteUpdate, ZoneUpdate
from tests.zones.conftest import square

MakeZone = Callable[..., Zone]


def site(db: Session, system: Principal, **values: Any) -> Site:
    data = {"name_en": "Camp", "site_type": "IS", "lon": 36.65, "lat": 36.25, **values}
    return sites.create_site(db, actor=system, data=SiteCreate.model_validate(data))


def test_site_is_placed_in_the_zone_holding_its_point(
        db: Session, system: Principal, make_zone: MakeZone) -> None:
    zone = make_zone(boundary=square(36.6, 36.2, 0.1))
    inside = site(db, system, lon=36.65, lat=36.25)
    outside = site(db, system, lon=36.9, lat=36.25)
    assert inside.zone_id == zone.id
    assert outside.zone_id is None
    reads = {r.code: r for r in sites.to_reads(db, [inside, outside])}
    assert not reads[inside.code].outside_zone and reads[inside.code].zone_code == zone.code
    assert reads[outside.code].outside_zone
    # Moving the point moves the site, and the move is audited.
    sites.update_site(db, actor=system, site_id=outside.id, data=SiteUpdate(lon=36.61))
    assert outside.zone_id == zone.id
    audit = db.scalars(select(AuditRecord).where(AuditRecord.action == "site.update")).one()
    assert audit.detail["changes"]["zone_id"] == [None, zone.id]


def test_zone_boundary_changes_replace_the_sites(
        db: Session, system: Principal, make_zone: MakeZone, areas: None) -> None:
    early = site(db, system, lon=36.65, lat=36.25)
    assert early.zone_id is None
    zone = make_zone(boundary=square(36.6, 36.2, 0.1))
    assert early.zone_id == zone.id  # a new zone takes the sites inside it
    service.update_zone(db, actor=system, zone_id=zone.id,
                        data=ZoneUpdate(boundary=square(36.0, 36.0, 0.1)))
    assert early.zone_id is None


def test_closed_zones_place_no_sites(db: Session, system: Principal, make_zone: MakeZone
                                     ) -> None:
    zone = make_zone(boundary=square(36.6, 36.2, 0.1))
    zone.status = ZoneStatus.closed
    db.flush()
    assert site(db, system).zone_id is None


def test_codes_are_normalised_checked_or_generated(db: Session, system: Principal,
                                                   areas: None) -> None:
    assert site(db, system, code="cp000559").code == "CP000559"
    with pytest.raises(Conflict, match="CP000559 exists"):
        site(db, system, code="CP000559")
    with pytest.raises(ValidationFailed, match="CP followed by 6 digits"):
        site(db, system, code="CP12345")
    assert [site(db, system).code for _ in range(2)] == ["ST-000001", "ST-000002"]


def test_admin_areas_are_checked_and_derived(db: Session, system: Principal, areas: None
                                             ) -> None:
    derived = site(db, system, admin3_pcode="sy070301", community_pcode="c6389")
    assert (derived.admin1_pcode, derived.admin2_pcode, derived.admin3_pcode) == (
        "SY07", "SY0703", "SY070301")
    assert derived.community_pcode == "C6389"
    with pytest.raises(ValidationFailed, match="lies in SY0703, not in SY0700") as caught:
        site(db, system, admin2_pcode="SY0700", admin3_pcode="SY070301")
    assert caught.value.field == "admin2_pcode"
    with pytest.raises(ValidationFailed, match="Unknown P-code SY079999"):
        site(db, system, admin3_pcode="SY079999")
    with pytest.raises(ValidationFailed, match="level 1, not 3"):
        site(db, system, admin3_pcode="SY07")


def test_managing_agency_links_a_known_organisation(
        db: Session, system: Principal, make_org: Callable[..., Any], areas: None) -> None:
    nrc = make_org("NRC", name="Norwegian Refugee Council")
    by_acronym = site(db, system, managing_agency="nrc")
    by_name = site(db, system, managing_agency="Norwegian  Refugee Council")
    unknown = site(db, system, managing_agency="Local Relief Committee")
    assert by_acronym.managing_org_id == by_name.managing_org_id == nrc.id
    assert by_acronym.managing_agency is None
    assert unknown.managing_org_id is None and unknown.managing_agency == "Local Relief Committee"
    assert sites.to_read(db, by_acronym).managing_org == "NRC"
    # An update that does not touch the agency keeps the link.
    sites.update_site(db, actor=system, site_id=by_acronym.id, data=SiteUpdate(name_en="X"))
    assert by_acronym.managing_org_id == nrc.id


def test_capacity_from_the_sphere_standard(db: Session, system: Principal, areas: None
                                           ) -> None:
    assert capacity.SPHERE_SITE_AREA_PER_PERSON_M2 == 45
    # A polygon of about 9,970 m² (0.001° × 0.001° at 36.2° N): floor(area / 45) people.
    drawn = site(db, system, lon=36.6005, lat=36.2005, boundary=square(36.6, 36.2, 0.001))
    assert drawn.area_m2 == pytest.approx(9973, rel=1e-3)
    assert capacity.site_capacity(drawn) == int(drawn.area_m2 // 45)
    declared_area = site(db, system, declared_area_m2=45_000.0)
    assert capacity.site_capacity(declared_area) == 1000
    declared_only = site(db, system, declared_capacity=300)
    assert capacity.site_capacity(declared_only) == 300
    assert capacity.site_capacity(site(db, system)) is None
    lower = site(db, system, declared_area_m2=45_000.0, declared_capacity=800)
    assert capacity.site_capacity(lower) == 800


def test_declared_capacity_above_the_standard_needs_a_justification(
        db: Session, system: Principal, areas: None) -> None:
    with pytest.raises(ValidationFailed, match="above the Sphere standard") as caught:
        site(db, system, declared_area_m2=45_000.0, declared_capacity=1200)
    assert caught.value.field == "declared_capacity"
    justified = site(db, system, declared_area_m2=45_000.0, declared_capacity=1200,
                     capacity_justification="Two-storey collective centre; 2,000 m² of floors")
    assert capacity.site_capacity(justified) == 1200
    with pytest.raises(ValidationFailed, match="capacity_justification"):
        sites.update_site(db, actor=system, site_id=justified.id,
                          data=SiteUpdate(capacity_justification=""))


def test_zone_capacity_sums_its_open_sites(db: Session, system: Principal,
                                           make_zone: MakeZone) -> None:
    zone = make_zone(boundary=square(36.6, 36.2, 0.1))
    assert capacity.zone_capacity(db, zone_id=zone.id) is None
    site(db, system, declared_area_m2=45_000.0)
    site(db, system, declared_capacity=250)
    site(db, system)  # unknown capacity: not counted
    site(db, system, declared_capacity=999, status="closed")
    site(db, system, declared_capacity=500, lon=37.5)  # outside the zone
    assert capacity.zone_capacity(db, zone_id=zone.id) == 1250


def test_reported_population_and_occupancy(db: Session, system: Principal,
                                           make_zone: MakeZone) -> None:
    zone = make_zone(boundary=square(36.6, 36.2, 0.1))
    a = site(db, system, declared_capacity=1000)
    b = site(db, system, declared_capacity=1000)
    march = dt.date(2020, 3, 31)
    for target, counts in ((a, (100, 100, 50, 50)), (b, (200, 200, 100, 100))):
        sites.record_population(db, actor=system, site_id=target.id, data=PopulationCreate(
            reported_on=march, girls=counts[0], boys=counts[1], women=counts[2],
            men=counts[3], families=50))
    # A later report of site A counts, not the older one; a correction of a date replaces it.
    sites.record_population(db, actor=system, site_id=a.id, data=PopulationCreate(
        reported_on=dt.date(2020, 6, 30), girls=10, boys=10, women=10, men=10))
    sites.record_population(db, actor=system, site_id=a.id, data=PopulationCreate(
        reported_on=dt.date(2020, 6, 30), girls=20, boys=10, women=10, men=10))
    assert [r.individuals for r in sites.list_population(db, actor=system, site_id=a.id)] == [
        300, 50]
    result = service.occupancy(db, actor=system, zone_id=zone.id)
    assert result.basis == "reported"
    assert (result.reported_individuals, result.capacity, result.share) == (650, 2000, 0.325)
    assert result.sites_reporting == 2 and result.latest_report == dt.date(2020, 6, 30)


def test_locate_finds_zone_and_nearest_or_containing_site(
        db: Session, system: Principal, make_zone: MakeZone) -> None:
    zone = make_zone(boundary=square(36.6, 36.2, 0.1))
    near = site(db, system, name_en="Near", lon=36.61, lat=36.21)
    site(db, system, name_en="Far", lon=36.69, lat=36.29)
    drawn = site(db, system, name_en="Drawn", lon=36.655, lat=36.255,
                 boundary=square(36.65, 36.25, 0.01))
    site(db, system, name_en="Elsewhere", lon=36.9, lat=36.25)
    assert service.locate(db, lon=36.62, lat=36.22) == (zone, near)
    assert service.locate(db, lon=36.659, lat=36.259) == (zone, drawn)
    assert service.locate(db, lon=36.9, lat=36.25) == (None, None)
    empty = make_zone(code="SZ-SY07-002", boundary=square(37.0, 36.2, 0.1))
    assert service.locate(db, lon=37.05, lat=36.25) == (empty, None)


def test_site_without_coordinates_is_not_placed(db: Session, system: Principal,
                                                make_zone: MakeZone) -> None:
    make_zone(boundary=square(36.6, 36.2, 0.1))
    estimated = site(db, system)
    estimated.location_estimated = True
    sites.update_site(db, actor=system, site_id=estimated.id, data=SiteUpdate(name_en="Y"))
    # Giving the point again ends the estimate.
    sites.update_site(db, actor=system, site_id=estimated.id, data=SiteUpdate(lat=36.26))
    assert not estimated.location_estimated and estimated.zone_id is not None


def test_site_status_and_delete(db: Session, system: Principal, areas: None) -> None:
    camp = site(db, system)
    sites.record_population(db, actor=system, site_id=camp.id, data=PopulationCreate(
        reported_on=dt.date(2020, 3, 31), girls=1))
    sites.update_site(db, actor=system, site_id=camp.id, data=SiteUpdate(status="closed"))
    assert camp.status is SiteStatus.closed
    with pytest.raises(ValidationFailed, match="cannot be empty"):
        sites.update_site(db, actor=system, site_id=camp.id, data=SiteUpdate(name_en=None))
    sites.delete_site(db, actor=system, site_id=camp.id)
    assert db.get(Site, camp.id) is None
    assert db.scalars(select(AuditRecord.action).where(
        AuditRecord.object_type == "site")).all() == [
        "site.create", "site.population", "site.update", "site.delete"]
