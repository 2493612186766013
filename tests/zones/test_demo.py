"""The demo's zones and sites."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.demo import geo, orgs, zones
from havens.orgs.permissions import Principal
from havens.zones import service
from havens.zones.models import ReportedPopulation, Site, Zone, ZoneStatus


def test_demo_zones_hold_real_isimm_sites(db: Session, system: Principal) -> None:
    geo.load(db, actor=system)
    orgs.load(db, actor=system)
    zones.load(db, actor=system)
    assert db.scalar(select(func.count(Site.id))) == 884
    assert db.scalar(select(func.count(ReportedPopulation.id))) == 884
    held = {}
    for code in ("SZ-SY07-001", "SZ-SY02-001", "SZ-SY07-002"):
        zone = db.scalars(select(Zone).where(Zone.code == code)).one()
        assert zone.status is ZoneStatus.proposed and zone.name_ar
        held[code] = service.occupancy(db, actor=system, zone_id=zone.id)
    assert held["SZ-SY07-001"].sites > 300
    assert held["SZ-SY02-001"].sites >= 20
    assert held["SZ-SY07-002"].sites > 100
    assert all(o.reported_individuals > 50_000 for o in held.values())
    # The zones' P-codes name every sub-district their sites are in.
    for site in db.scalars(select(Site).where(Site.zone_id.is_not(None))):
        assert site.zone is not None and site.admin3_pcode in site.zone.admin_pcodes
