"""Fixtures of the safety tests: an operational zone with a site, organisations with a
protection officer and coordinators, and an agreement signed with test keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from havens.agreements import keyring, keys
from havens.agreements import service as agreement_service
from havens.agreements.models import AgreementVersion
from havens.agreements.schemas import AgreementPropose
from havens.geo.models import AdminArea
from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.permissions import Principal
from havens.zones.models import Site, SiteType, Zone, ZoneStatus
from tests.conftest import principal

#: The clock of the tests: incidents and agreements are dated around it.
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
INSIDE = (36.70, 36.20)  # lon, lat inside the test zone
OUTSIDE = (36.95, 36.20)  # east of it, in no zone


def square(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1],
                                                [lon0, lat1], [lon0, lat0]]]}


def add_zone(db: Session, code: str, bbox: tuple[float, float, float, float],
             status: ZoneStatus = ZoneStatus.operational, pcodes: list[str] | None = None
             ) -> Zone:
    zone = Zone(code=code, name_en=f"Zone {code}", status=status, boundary=square(*bbox),
                admin_pcodes=pcodes or ["SY070301"], min_lon=bbox[0], min_lat=bbox[1],
                max_lon=bbox[2], max_lat=bbox[3])
    db.add(zone)
    db.flush()
    return zone


@dataclass
class World:
    db: Session
    zone: Zone
    site: Site
    unhcr: Organisation
    ngo: Organisation
    protection: User  # protection officer of UNHCR-T
    coordinator: User  # coordinator of UNHCR-T
    other_protection: User  # protection officer of NGO-T
    other_coordinator: User  # coordinator of NGO-T
    viewer: User

    def p(self, user: User) -> Principal:
        return principal(user)


@pytest.fixture
def world(db: Session, make_org: Callable[..., Organisation],
          make_user: Callable[..., User]) -> World:
    for pcode, level, parent in (("SY07", 1, None), ("SY0703", 2, "SY07"),
                                 ("SY070301", 3, "SY0703"), ("SY070302", 3, "SY0703")):
        db.add(AdminArea(pcode=pcode, country="SYR", level=level, parent_pcode=parent,
                         name_en=pcode))
    db.flush()
    zone = add_zone(db, "SZ-T-001", (36.60, 36.10, 36.80, 36.30))
    site = Site(code="CP900001", name_en="Camp one", site_type=SiteType.planned_camp,
                lon=36.71, lat=36.21, zone_id=zone.id)
    db.add(site)
    db.flush()
    unhcr = make_org("UNHCR-T", kind=OrgKind.un_agency)
    ngo = make_org("NGO-T")
    return World(db, zone, site, unhcr, ngo,
                 protection=make_user(Role.protection_officer, org=unhcr),
                 coordinator=make_user(Role.coordinator, org=unhcr),
                 other_protection=make_user(Role.protection_officer, org=ngo),
                 other_coordinator=make_user(Role.coordinator, org=ngo),
                 viewer=make_user(Role.viewer, org=ngo))


def sign_agreement(db: Session, zone: Zone, make_org: Callable[..., Organisation], *,
                   flags: list[str], commitments: list[dict[str, Any]],
                   start: dt.date = dt.date(2026, 1, 1),
                   signed_at: dt.datetime = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
                   ) -> AgreementVersion:
    """An agreement for the zone, signed by its host government and administrator."""
    system = Principal.system()
    host = make_org(f"MOL-{zone.id}", kind=OrgKind.host_government)
    admin = make_org(f"ADM-{zone.id}", kind=OrgKind.un_agency)
    guarantor = make_org(f"GUA-{zone.id}", kind=OrgKind.state)
    zone.status = ZoneStatus.proposed
    db.flush()
    agreement = agreement_service.propose(db, actor=system, data=AgreementPropose.model_validate({
        "zone": zone.code,
        "parties": [{"organisation": host.acronym, "role": "host_government"},
                    {"organisation": admin.acronym, "role": "administrator"},
                    {"organisation": guarantor.acronym, "role": "guarantor"}],
        "security_arrangement": "Civilian character of the zone.",
        "security_flags": flags, "start_date": start.isoformat(),
        "end_date": start.replace(year=start.year + 2).isoformat(),
        "notice_period_days": 90,
        "commitments": [{"party": guarantor.acronym, **c} for c in commitments],
    }, strict=False), today=start)
    version = agreement.versions[0]
    for org in (host, admin):
        private = keys.generate()
        key = keyring.register_key(db, actor=system, organisation_id=org.id,
                                   public_key=keys.public_b64(private))
        agreement_service.submit_signature(
            db, actor=system, version=version, key_id=key.key_id,
            signature=keys.sign(private, agreement_service.signing_message(version)),
            now=signed_at, today=signed_at.date())
    assert version.fully_signed_at is not None
    return version
