"""Fixtures of the agreements tests: a cast of organisations with keys, zones, terms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from havens.agreements import keyring, keys, service
from havens.agreements.models import AgreementVersion, Signature
from havens.agreements.schemas import AgreementPropose, TermsIn
from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.permissions import Principal
from havens.zones.models import Zone
from tests.conftest import principal

START = dt.date(2030, 1, 1)
END = dt.date(2030, 12, 31)
#: Signing times are injected so that effective dates do not depend on the real clock.
SIGNED_AT = dt.datetime(2029, 12, 1, 9, 0, tzinfo=dt.UTC)


@dataclass
class Member:
    org: Organisation
    user: User
    key: Ed25519PrivateKey
    key_id: str

    @property
    def actor(self) -> Principal:
        return principal(self.user)


@dataclass
class Cast:
    db: Session
    members: dict[str, Member] = field(default_factory=dict)

    def __getitem__(self, acronym: str) -> Member:
        return self.members[acronym]

    def sign(self, acronym: str, version: AgreementVersion, *,
             now: dt.datetime = SIGNED_AT, today: dt.date = START) -> Signature:
        """Sign like a party would: with its own key, on its side, then submit."""
        member = self.members[acronym]
        message = service.signing_message(version)
        return service.submit_signature(self.db, actor=member.actor, version=version,
                                        key_id=member.key_id,
                                        signature=keys.sign(member.key, message),
                                        now=now, today=today)


def terms(**overrides: Any) -> dict[str, Any]:
    """Terms with host government MOL, administrator UNA, supporting NGO, guarantor GUA."""
    data: dict[str, Any] = {
        "parties": [
            {"organisation": "MOL", "role": "host_government"},
            {"organisation": "UNA", "role": "administrator"},
            {"organisation": "NGO", "role": "supporting_agency"},
            {"organisation": "GUA", "role": "guarantor"},
        ],
        "security_arrangement": "Civil police at the perimeter only.",
        "security_flags": ["no_armed_presence"],
        "services": ["water", "shelter"],
        "start_date": START.isoformat(),
        "end_date": END.isoformat(),
        "notice_period_days": 90,
        "commitments": [
            {"party": "NGO", "what": "15 l/person/day of water", "indicator": "water_lpd",
             "target": 15, "unit": "l/person/day", "due_date": "2030-02-01"},
        ],
    }
    data.update(overrides)
    return data


def propose_data(zone: str, **overrides: Any) -> AgreementPropose:
    return AgreementPropose.model_validate({"zone": zone, **terms(**overrides)}, strict=False)


def terms_in(**overrides: Any) -> TermsIn:
    return TermsIn.model_validate(terms(**overrides), strict=False)


@pytest.fixture
def cast(db: Session, make_org: Callable[..., Organisation],
         make_user: Callable[..., User], system: Principal) -> Cast:
    result = Cast(db)
    for acronym, kind in [("MOL", OrgKind.host_government), ("UNA", OrgKind.un_agency),
                          ("UNB", OrgKind.un_agency), ("NGO", OrgKind.ngo),
                          ("GUA", OrgKind.state), ("OUT", OrgKind.ngo)]:
        org = make_org(acronym=acronym, kind=kind)
        role = Role.government_liaison if kind == OrgKind.host_government else Role.coordinator
        user = make_user(role, org=org)
        private = keys.generate()
        row = keyring.register_key(db, actor=system, organisation_id=org.id,
                                   public_key=keys.public_b64(private))
        result.members[acronym] = Member(org, user, private, row.key_id)
    return result


@pytest.fixture
def make_zone(db: Session) -> Callable[..., Zone]:
    counter = iter(range(1, 10_000))

    def make(code: str | None = None) -> Zone:
        zone = Zone(code=code or f"SZ-T-{next(counter)}", name_en="Test zone")
        db.add(zone)
        db.flush()
        return zone

    return make
