"""Fixtures of the people tests: a zone with two sites, a few admin areas, orgs and users."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from havens.config import Settings
from havens.geo.models import AdminArea
from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.permissions import Principal
from havens.people.crypto import FieldCipher
from havens.zones.models import Site, SiteType, Zone
from tests.conftest import principal

#: admin1 > admin2 > two admin3 (Syrian P-code shapes).
AREAS = [
    ("SY07", 1, None, "Idleb", "إدلب"),
    ("SY0700", 2, "SY07", "Idleb", "إدلب"),
    ("SY070000", 3, "SY0700", "Idleb", "إدلب"),
    ("SY070001", 3, "SY0700", "Abu Al Thohur", "أبو الظهور"),
]


def add_areas(db: Session) -> None:
    for pcode, level, parent, name_en, name_ar in AREAS:
        if db.get(AdminArea, pcode) is None:
            db.add(AdminArea(pcode=pcode, country="SYR", level=level, parent_pcode=parent,
                             name_en=name_en, name_ar=name_ar))
    db.flush()


def add_zone(db: Session, code: str = "Z-TEST-1", sites: int = 2) -> tuple[Zone, list[Site]]:
    zone = Zone(code=code, name_en=f"Zone {code}")
    db.add(zone)
    db.flush()
    made = []
    for n in range(sites):
        site = Site(code=f"CP{zone.id:03d}{n + 1:03d}", name_en=f"Test camp {n + 1}",
                    site_type=SiteType.planned_camp, lon=36.6, lat=36.2, zone_id=zone.id,
                    declared_capacity=1000)
        db.add(site)
        made.append(site)
    db.flush()
    return zone, made


@dataclass
class World:
    zone: Zone
    sites: list[Site]
    unhcr: Organisation
    sarc: Organisation
    registrar: User
    coordinator: User
    other_registrar: User
    viewer_same_org: User
    liaison: User
    state_viewer: User

    def p(self, user: User) -> Principal:
        return principal(user)


@pytest.fixture
def cipher(settings: Settings) -> FieldCipher:
    return FieldCipher.from_settings(settings)


@pytest.fixture
def world(db: Session, make_org: Callable[..., Organisation],
          make_user: Callable[..., User]) -> World:
    add_areas(db)
    zone, sites = add_zone(db)
    unhcr = make_org("UNHCR-T", kind=OrgKind.un_agency)
    sarc = make_org("SARC-T")
    gov = make_org("MOLAE-T", kind=OrgKind.host_government)
    state = make_org("FFO-T", kind=OrgKind.state)
    return World(
        zone=zone, sites=sites, unhcr=unhcr, sarc=sarc,
        registrar=make_user(Role.registrar, org=unhcr),
        coordinator=make_user(Role.coordinator, org=unhcr),
        other_registrar=make_user(Role.registrar, org=sarc),
        viewer_same_org=make_user(Role.viewer, org=unhcr),
        liaison=make_user(Role.government_liaison, org=gov),
        state_viewer=make_user(Role.viewer, org=state),
    )


def member(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "relationship": "head", "given_name_ar": "مُحَمَّد", "father_name_ar": "أحمد",
        "grandfather_name_ar": "علي", "family_name_ar": "الحسن", "given_name_en": "Mohammad",
        "father_name_en": "Ahmad", "grandfather_name_en": "Ali", "family_name_en": "Al-Hassan",
        "sex": "M", "date_of_birth": "1985-03-02", "phone": "+963 944 123 456",
        "document_type": "national_id", "document_number": "0123-4567-89",
        "specific_needs": ["SM"],
    }
    base.update(overrides)
    return base


def household_payload(site: Site | str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "site_code": site if isinstance(site, str) else site.code, "household_ref": "HH-1",
        "origin_pcode": "SY070001",
        "origin_locality": "Tal Sultan", "displacement_date": "2025-12-01",
        "arrival_date": "2025-12-03",
        "consent": {"registration": True, "sharing": True,
                    "purposes": ["assistance", "protection"], "given_by": "head"},
        "members": [
            member(),
            member(relationship="spouse", given_name_ar="فاطمة", father_name_ar="خالد",
                   grandfather_name_ar="عمر", family_name_ar="العلي", given_name_en="Fatima",
                   father_name_en="Khaled", grandfather_name_en="Omar", family_name_en="Al-Ali",
                   sex="F", date_of_birth=None, birth_year=1990, phone=None,
                   document_type=None, document_number=None, specific_needs=["PG"]),
            member(relationship="child", given_name_ar="عبد الرحمن", given_name_en="Abdul Rahman",
                   father_name_ar="محمد", father_name_en="Mohammad", grandfather_name_ar="أحمد",
                   grandfather_name_en="Ahmad", date_of_birth="2022-05-10", phone=None,
                   document_type=None, document_number=None, specific_needs=[]),
        ],
    }
    base.update(overrides)
    return base


@dataclass
class RealDatabase:
    """A committed database (the ``cli_env`` one) holding the people tables and a small world."""

    url: str
    site_codes: list[str]
    registrar_email: str
    liaison_email: str

    def engine(self) -> Any:
        from havens.database import get_engine

        return get_engine(self.url)


@pytest.fixture
def real_db(cli_env: str) -> RealDatabase:
    """cli_env's database with the schema of the models, and UNHCR with a registrar, a
    government liaison, a zone and two sites, committed."""
    from havens.database import get_engine, session_scope
    from havens.models import metadata
    from havens.orgs import service as org_service
    from havens.orgs.schemas import OrganisationCreate, UserCreate
    from tests.conftest import PASSWORD

    # The schema from the models, as the suite's own database: the migration of this domain
    # is written at integration, and other domains' models move meanwhile.
    metadata.drop_all(get_engine(cli_env))
    metadata.create_all(get_engine(cli_env))
    system = Principal.system()
    with session_scope(cli_env) as db:
        add_areas(db)
        _zone, sites = add_zone(db, "Z-REAL")
        for acronym, kind in (("UNHCR", OrgKind.un_agency), ("MOLAE", OrgKind.host_government)):
            org_service.create_organisation(db, actor=system, data=OrganisationCreate(
                name=acronym, acronym=acronym, kind=kind, country="SYR"))
        for email, org, role in (("reg@unhcr.example.org", "UNHCR", Role.registrar),
                                 ("liaison@molae.example.org", "MOLAE",
                                  Role.government_liaison)):
            org_service.create_user(db, actor=system, data=UserCreate(
                email=email, display_name=email, organisation=org, role=role,
                password=PASSWORD))
        codes = [s.code for s in sites]
    return RealDatabase(cli_env, codes, "reg@unhcr.example.org", "liaison@molae.example.org")
