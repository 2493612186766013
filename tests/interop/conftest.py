"""A small world for the exports: admin areas with boundaries, one zone with two sites, a
second zone, people of two organisations, movements, activities, measurements, incidents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

import pytest
from sqlalchemy.orm import Session

from havens.assistance.models import Activity, ActivityStatus, Measurement, Sector
from havens.geo.models import AdminArea
from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.permissions import Principal
from havens.people.models import (
    DestinationType,
    Household,
    HouseholdStatus,
    Individual,
    Movement,
    MovementKind,
    RegistrationSequence,
    Relationship,
    Sex,
)
from havens.safety.incident_types import IncidentType
from havens.safety.models import SecurityIncident
from havens.zones import service as zone_service
from havens.zones.models import Site, SiteType, Zone
from havens.zones.schemas import ZoneCreate
from tests.conftest import principal

TODAY = dt.date(2026, 11, 20)


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1],
                                                [lon0, lat1], [lon0, lat0]]]}


AREAS = [  # pcode, level, parent, English, Arabic, boundary
    ("SY07", 1, None, "Idleb", "إدلب", box(36.0, 35.5, 37.0, 36.5)),
    ("SY0700", 2, "SY07", "Idleb", "إدلب", box(36.4, 35.7, 36.9, 36.2)),
    ("SY070000", 3, "SY0700", "Idleb", "إدلب", box(36.55, 35.85, 36.75, 36.05)),
    ("SY070001", 3, "SY0700", "Abu Al Thohur", "أبو الظهور", box(36.75, 35.85, 36.9, 36.05)),
]


@dataclass
class World:
    zone: Zone
    other_zone: Zone
    sites: list[Site]
    unhcr: Organisation
    sarc: Organisation
    molae: Organisation
    registrar: User
    coordinator: User
    liaison: User
    sarc_protection: User
    viewer: User
    counts: dict[str, int] = field(default_factory=dict)

    def p(self, user: User) -> Principal:
        return principal(user)


_numbers = count(1)


def add_household(db: Session, site: Site, org: Organisation, members: list[tuple[Sex, int]],
                  *, arrived: dt.date, origin: str | None = "SY070001",
                  status: HouseholdStatus = HouseholdStatus.present) -> Household:
    number = next(_numbers)
    # Registration numbers follow the site's sequence, as the registration service does.
    sequence = db.get(RegistrationSequence, site.id) or RegistrationSequence(site_id=site.id,
                                                                             last_number=0)
    sequence.last_number += 1
    db.add(sequence)
    household = Household(registration_number=f"{site.code}-{sequence.last_number:06d}",
                          household_ref=f"HH-{number}", site_id=site.id,
                          organisation_id=org.id, origin_pcode=origin, arrival_date=arrived,
                          status=status, consent_registration=True)
    db.add(household)
    db.flush()
    for n, (sex, age) in enumerate(members):
        db.add(Individual(
            household_id=household.id, organisation_id=org.id, site_id=site.id,
            present=status == HouseholdStatus.present,
            relationship=Relationship.head if n == 0 else Relationship.child,
            given_name_ar="أحمد" if sex is Sex.male else "فاطمة", family_name_ar="الحسن",
            given_name_en="Ahmad" if sex is Sex.male else "Fatima", family_name_en="Al-Hasan",
            sex=sex, date_of_birth=dt.date(TODAY.year - age, 1, 15)))
    db.add(Movement(household_id=household.id, kind=MovementKind.arrival, moved_on=arrived,
                    site_id=site.id, individuals=len(members), recorded_by_org_id=org.id))
    db.flush()
    return household


@pytest.fixture
def world(db: Session, system: Principal, make_org: Callable[..., Organisation],
          make_user: Callable[..., User]) -> World:
    for pcode, level, parent, name_en, name_ar, geometry in AREAS:
        coords = geometry["coordinates"][0]  # type: ignore[index]
        db.add(AdminArea(pcode=pcode, country="SYR", level=level, parent_pcode=parent,
                         name_en=name_en, name_ar=name_ar, geometry=geometry,
                         centroid_lon=(coords[0][0] + coords[2][0]) / 2,
                         centroid_lat=(coords[0][1] + coords[2][1]) / 2,
                         min_lon=coords[0][0], min_lat=coords[0][1], max_lon=coords[2][0],
                         max_lat=coords[2][1]))
    db.flush()
    zone = zone_service.create_zone(db, actor=system, data=ZoneCreate(
        code="SZ-TEST-001", name_en="Sarmada North", name_ar="سرمدا الشمالية",
        admin_pcodes=["SY070000"], boundary=box(36.60, 35.90, 36.70, 36.00)))
    other = zone_service.create_zone(db, actor=system, data=ZoneCreate(
        code="SZ-TEST-002", name_en="Abu Thohur East", name_ar="أبو الظهور الشرقية",
        admin_pcodes=["SY070001"], boundary=box(36.78, 35.90, 36.85, 35.97)))
    unhcr = make_org("UNHCR", kind=OrgKind.un_agency)
    sarc = make_org("SARC", kind=OrgKind.ngo)
    molae = make_org("MOLAE", kind=OrgKind.host_government)
    sites = []
    for n, (z, lon, lat) in enumerate([(zone, 36.62, 35.93), (zone, 36.68, 35.97),
                                       (other, 36.80, 35.93)]):
        site = Site(code=f"CP{900001 + n}", name_en=f"Camp {n + 1}", name_ar=f"مخيم {n + 1}",
                    site_type=SiteType.planned_camp, lon=lon, lat=lat, zone_id=z.id,
                    admin1_pcode="SY07", admin2_pcode="SY0700",
                    admin3_pcode=z.admin_pcodes[0], managing_org_id=unhcr.id,
                    declared_capacity=2000)
        db.add(site)
        sites.append(site)
    db.flush()
    F, M = Sex.female, Sex.male
    recent = TODAY - dt.timedelta(days=10)
    # UNHCR: 6 households of 4 in site 1 (children, adults), 3 households in site 2.
    for _ in range(6):
        add_household(db, sites[0], unhcr, [(F, 30), (M, 32), (F, 8), (M, 3)], arrived=recent)
    for _ in range(3):
        add_household(db, sites[1], unhcr, [(M, 40), (F, 38), (F, 14)], arrived=recent)
    # SARC: one household with an older woman — the small cells of the table.
    add_household(db, sites[0], sarc, [(F, 67), (M, 70)], arrived=recent)
    # Zone 2: two households of UNHCR.
    for _ in range(2):
        add_household(db, sites[2], unhcr, [(F, 25), (M, 1), (M, 27)], arrived=recent)
    # A departure abroad and one to return home.
    gone = add_household(db, sites[0], unhcr, [(M, 22)], arrived=TODAY - dt.timedelta(days=60),
                         status=HouseholdStatus.departed)
    db.add(Movement(household_id=gone.id, kind=MovementKind.departure,
                    moved_on=TODAY - dt.timedelta(days=3), site_id=sites[0].id,
                    destination_type=DestinationType.abroad, individuals=1,
                    recorded_by_org_id=unhcr.id))
    registrar = make_user(Role.registrar, org=unhcr)
    coordinator = make_user(Role.coordinator, org=unhcr)
    liaison = make_user(Role.government_liaison, org=molae)
    sarc_protection = make_user(Role.protection_officer, org=sarc)
    viewer = make_user(Role.viewer, org=unhcr)
    db.add_all([
        Activity(implementing_org_id=unhcr.id, funding_org_id=None, donor="ECHO",
                 sector=Sector.wash, activity_type="water_trucking", zone_id=zone.id,
                 site_id=sites[0].id, start_date=TODAY - dt.timedelta(days=40), end_date=None,
                 quantity=120000, unit="litres", reached_total=26, reached_girls=6,
                 reached_boys=6, reached_women=7, reached_men=7, reached_older_women=0,
                 reached_older_men=0, status=ActivityStatus.ongoing,
                 notes="Daily trucking, 2 trucks", created_by_org_id=unhcr.id),
        Activity(implementing_org_id=sarc.id, funding_org_id=unhcr.id, sector=Sector.health,
                 activity_type="mobile_clinic", zone_id=zone.id, site_id=None,
                 start_date=TODAY - dt.timedelta(days=20),
                 end_date=TODAY + dt.timedelta(days=60), reached_total=150,
                 status=ActivityStatus.ongoing, created_by_org_id=sarc.id),
    ])
    for metric, value in (("water_delivered_lpd", 2100.0), ("toilets_functional", 3.0),
                          ("water_points_tap", 2.0)):
        db.add(Measurement(zone_id=zone.id, metric=metric, value=value,
                           measured_on=TODAY - dt.timedelta(days=5), source="test"))
    when = dt.datetime.combine(TODAY - dt.timedelta(days=4), dt.time(10), tzinfo=dt.UTC)
    db.add_all([
        SecurityIncident(zone_id=zone.id, lon=36.63, lat=35.94, occurred_at=when,
                         incident_type=IncidentType.shelling, severity=3, organisation_id=unhcr.id,
                         narrative="Shells fell near the northern gate.", sensitive=False,
                         inside_zone=True, injured=2),
        SecurityIncident(zone_id=zone.id, lon=36.64, lat=35.95, occurred_at=when,
                         incident_type=IncidentType.gbv, severity=2, organisation_id=sarc.id,
                         narrative="(sensitive narrative)", sensitive=True, inside_zone=True),
    ])
    db.flush()
    return World(zone=zone, other_zone=other, sites=sites, unhcr=unhcr, sarc=sarc, molae=molae,
                 registrar=registrar, coordinator=coordinator, liaison=liaison,
                 sarc_protection=sarc_protection, viewer=viewer)
