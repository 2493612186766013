"""Fixtures of the returns tests: origin areas, a zone with a site, households registered by
one organisation, and users of every role that matters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from havens.config import Settings
from havens.geo.models import AdminArea
from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.permissions import Principal
from havens.people.crypto import FieldCipher
from havens.people.models import Household, Individual, Relationship, Sex
from havens.returns.criteria import Criterion, Rating
from havens.returns.schemas import AssessmentCreate, CriterionIn
from havens.returns.service import create_assessment
from havens.zones.models import Site, SiteType, Zone, ZoneStatus
from tests.conftest import principal

ORIGIN = "SY070301"  # the households' home area
OTHER = "SY070302"
TODAY = dt.date.today()
ARRIVED = dt.date(2025, 1, 10)


@dataclass
class World:
    db: Session
    zone: Zone
    site: Site
    unhcr: Organisation
    iom: Organisation
    registrar: User
    coordinator: User
    protection: User
    viewer: User
    other_registrar: User  # of IOM
    cipher: FieldCipher

    def p(self, user: User) -> Principal:
        return principal(user)

    def household(self, number: int, *, members: int = 3, origin: str | None = ORIGIN,
                  organisation: Organisation | None = None) -> Household:
        org = organisation or self.unhcr
        household = Household(registration_number=f"{self.site.code}-{number:06d}",
                              household_ref=f"HH-{number}", site_id=self.site.id,
                              organisation_id=org.id, origin_pcode=origin,
                              arrival_date=ARRIVED)
        self.db.add(household)
        self.db.flush()
        for index in range(members):
            self.db.add(Individual(
                household_id=household.id, organisation_id=org.id, site_id=self.site.id,
                relationship=Relationship.head if index == 0 else Relationship.child,
                sex=Sex.female if index % 2 else Sex.male,
                date_of_birth=dt.date(1980 + 10 * index, 1, 1)))
        self.db.flush()
        return household

    def assess(self, pcode: str, ratings: dict[Criterion, Rating],
               on: dt.date = dt.date(2026, 1, 15)) -> int:
        return create_assessment(self.db, actor=self.p(self.coordinator), data=AssessmentCreate(
            pcode=pcode, assessed_on=on,
            criteria=[CriterionIn(criterion=c, rating=r) for c, r in ratings.items()])).id


def all_met() -> dict[Criterion, Rating]:
    return dict.fromkeys(Criterion, Rating.met)


@pytest.fixture
def world(db: Session, settings: Settings, make_org: Callable[..., Organisation],
          make_user: Callable[..., User]) -> World:
    for pcode, level, parent, name in (("SY07", 1, None, "Idleb"), ("SY0703", 2, "SY07", "Harim"),
                                       (ORIGIN, 3, "SY0703", "Dana"),
                                       (OTHER, 3, "SY0703", "Salqin")):
        db.add(AdminArea(pcode=pcode, country="SYR", level=level, parent_pcode=parent,
                         name_en=name))
    zone = Zone(code="SZ-R-001", name_en="Return test zone", status=ZoneStatus.operational)
    db.add(zone)
    db.flush()
    site = Site(code="CP800001", name_en="Camp", site_type=SiteType.planned_camp, lon=36.7,
                lat=36.2, zone_id=zone.id)
    db.add(site)
    db.flush()
    unhcr = make_org("UNHCR-R", kind=OrgKind.un_agency)
    iom = make_org("IOM-R", kind=OrgKind.un_agency)
    return World(db, zone, site, unhcr, iom,
                 registrar=make_user(Role.registrar, org=unhcr),
                 coordinator=make_user(Role.coordinator, org=unhcr),
                 protection=make_user(Role.protection_officer, org=unhcr),
                 viewer=make_user(Role.viewer, org=unhcr),
                 other_registrar=make_user(Role.registrar, org=iom),
                 cipher=FieldCipher.from_settings(settings))
