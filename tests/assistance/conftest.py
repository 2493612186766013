"""Fixtures of the assistance tests: organisations and users, zones with people, agreements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from havens.agreements import keyring, keys
from havens.agreements import service as agreement_service
from havens.agreements.models import Agreement
from havens.agreements.schemas import AgreementPropose
from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.permissions import Principal
from havens.people.models import Household, Individual, Relationship, Sex
from havens.zones.models import Site, SiteType, Zone
from tests.conftest import principal

START = dt.date(2030, 1, 1)


@dataclass
class World:
    db: Session
    host: Organisation  # host government
    admin_org: Organisation  # the administrator (UN agency)
    iom: Organisation  # a service provider
    ngo: Organisation  # another one
    coordinator: User  # of the administrator
    provider: User  # service provider at IOM
    viewer: User  # at the NGO
    system: Principal

    def p(self, user: User) -> Principal:
        return principal(user)


@pytest.fixture
def world(db: Session, make_org: Callable[..., Organisation],
          make_user: Callable[..., User], system: Principal) -> World:
    host = make_org("MOLT", kind=OrgKind.host_government)
    admin_org = make_org("UNHT", kind=OrgKind.un_agency)
    iom = make_org("IOMT", kind=OrgKind.un_agency)
    ngo = make_org("NGOT")
    return World(db=db, host=host, admin_org=admin_org, iom=iom, ngo=ngo,
                 coordinator=make_user(Role.coordinator, org=admin_org),
                 provider=make_user(Role.service_provider, org=iom),
                 viewer=make_user(Role.viewer, org=ngo), system=system)


_counter = iter(range(1, 1_000_000))


def add_zone(db: Session, code: str | None = None, *, area_m2: float | None = None,
             emergency: bool = False, admin_pcodes: list[str] | None = None) -> Zone:
    zone = Zone(code=code or f"SZ-TA-{next(_counter):03d}", name_en="Test zone",
                name_ar="منطقة", area_m2=area_m2, emergency_phase=emergency,
                admin_pcodes=admin_pcodes or ["SY070301"])
    db.add(zone)
    db.flush()
    return zone


def add_site(db: Session, zone: Zone | None, code: str | None = None) -> Site:
    site = Site(code=code or f"CP{next(_counter):06d}", name_en="Camp", lon=36.7, lat=36.2,
                site_type=SiteType.planned_camp, zone_id=zone.id if zone else None)
    db.add(site)
    db.flush()
    return site


def add_people(db: Session, site: Site, org: Organisation, *, count: int,
               born: dt.date = dt.date(1990, 5, 5), present: bool = True,
               household_size: int = 5) -> None:
    """``count`` individuals at the site, in households of ``household_size``, bulk-inserted."""
    sizes = [min(household_size, count - start) for start in range(0, count, household_size)]
    first = next(_counter)
    for _ in sizes:  # keep the counter ahead of the numbers used here
        next(_counter)
    returning = insert(Household).returning(Household.id, sort_by_parameter_order=True)
    household_ids = db.scalars(returning, [
        {"registration_number": f"{site.code}-{first + n:07d}", "site_id": site.id,
         "organisation_id": org.id, "arrival_date": dt.date(2029, 6, 1),
         "status": "present" if present else "departed", "consent_purposes": []}
        for n in range(len(sizes))]).all()
    db.execute(insert(Individual), [
        {"household_id": hid, "organisation_id": org.id, "site_id": site.id,
         "present": present, "relationship": (Relationship.head if i == 0
                                              else Relationship.child).value,
         "sex": (Sex.female if i % 2 else Sex.male).value, "date_of_birth": born,
         "name_key_ar": "", "name_key_en": "", "specific_needs": []}
        for hid, size in zip(household_ids, sizes, strict=True) for i in range(size)])


def zone_with_people(db: Session, org: Organisation, people: int, **kwargs: Any) -> Zone:
    zone = add_zone(db, **kwargs)
    if people:
        add_people(db, add_site(db, zone), org, count=people)
    return zone


def agreement_in_force(db: Session, w: World, zone: Zone, commitments: list[dict[str, Any]],
                       *, start: dt.date = START) -> Agreement:
    """An agreement of the zone signed by host government and administrator before ``start``."""
    private = {}
    for org in (w.host, w.admin_org):
        key = keys.generate()
        private[org.id] = (key, keyring.register_key(db, actor=w.system, organisation_id=org.id,
                                                     public_key=keys.public_b64(key)).key_id)
    data = AgreementPropose.model_validate({
        "zone": zone.code,
        "parties": [{"organisation": w.host.acronym, "role": "host_government"},
                    {"organisation": w.admin_org.acronym, "role": "administrator"},
                    {"organisation": w.iom.acronym, "role": "supporting_agency"},
                    {"organisation": w.ngo.acronym, "role": "supporting_agency"}],
        "security_arrangement": "Civil police at the perimeter only.",
        "services": ["water"], "start_date": start.isoformat(),
        "end_date": start.replace(year=start.year + 2).isoformat(),
        "notice_period_days": 90, "commitments": commitments}, strict=False)
    signed_at = dt.datetime.combine(start - dt.timedelta(days=30), dt.time(9), tzinfo=dt.UTC)
    today = start - dt.timedelta(days=30)
    agreement = agreement_service.propose(db, actor=w.system, data=data, today=today)
    version = agreement.versions[0]
    for key, key_id in private.values():
        agreement_service.submit_signature(
            db, actor=w.system, version=version, key_id=key_id,
            signature=keys.sign(key, agreement_service.signing_message(version)),
            now=signed_at, today=today)
    return agreement
