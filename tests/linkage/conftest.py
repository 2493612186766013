"""A small registry with planted cross-agency duplicates, for the review-queue tests.

UNHCR-L registers households 0–24 and SARC-L households 25–39 of a seeded generator; SARC-L
then registers households 0–3 again, as agencies do, with other transliterations of the names
(the Arabic script is the same). The pairs of the same person across the two copies are the
planted duplicates.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session

from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.permissions import Principal
from havens.people.crypto import cipher_for
from havens.people.generator import Generator, Person, person_row
from havens.people.models import Household, Individual
from havens.people.records import check_row
from havens.sharing.models import DataSharingAgreement
from havens.zones.models import Site
from tests.conftest import principal
from tests.people.conftest import add_areas, add_zone

TODAY = dt.date(2026, 6, 1)
PLANTED = 4


@dataclass
class Registry:
    unhcr: Organisation
    sarc: Organisation
    sites: dict[str, Site]
    reviewer: User  # UNHCR-L registrar
    sarc_reviewer: User
    viewer: User  # UNHCR-L viewer: no linkage.review
    #: (lower id, higher id) of the same person registered by both agencies.
    planted: set[tuple[int, int]] = field(default_factory=set)
    #: original household id -> its SARC copy's id
    copies: dict[int, int] = field(default_factory=dict)
    generator: Generator | None = None

    def p(self, user: User) -> Principal:
        return principal(user)


def stored_rows(household: Household, *, ref: str, site_code: str
                ) -> tuple[dict[str, str], list[Person]]:
    """The rows that register ``household`` again from its stored names (as another agency
    would), under the file key ``ref`` at ``site_code``: input for :func:`write`."""
    shared = {"household_ref": ref, "site_code": site_code,
              "origin_pcode": household.origin_pcode or "", "arrival_date": "2026-05-01",
              "displacement_date": "2026-04-20", "consent_purposes": "assistance"}
    members = [Person((m.given_name_ar or "", (m.given_name_en or "",)),
                      (m.father_name_ar or "", (m.father_name_en or "",)),
                      (m.grandfather_name_ar or "", (m.grandfather_name_en or "",)),
                      (m.family_name_ar or "", (m.family_name_en or "",)),
                      m.sex.value, m.date_of_birth, m.dob_estimated, m.relationship.value)
               for m in household.members]
    return shared, members


def write(db: Session, org: Organisation, sites: dict[str, Site],
          households: list[tuple[dict[str, str], list[Person]]], variant: int = 0,
          suffix: str = "") -> list[int]:
    """Register ``households`` for ``org`` (checked canonical rows, phone and document hashed
    and encrypted as the writer does); returns the new household ids.

    Rows go in through the ORM rather than ``people.writer`` so that these tests exercise the
    linkage code only (the writer has its own tests and is optimised independently).
    """
    cipher = cipher_for()
    ids = []
    for shared, members in households:
        again = {**shared, "household_ref": shared["household_ref"] + suffix,
                 "consent": "yes", "consent_sharing": "yes"}
        rows = [check_row(person_row(p, again, variant=variant), today=TODAY) for p in members]
        assert all(not r.problems for r in rows), [r.problems for r in rows]
        site = sites[rows[0].household["site_code"]]
        fields = {k: v for k, v in rows[0].household.items() if k != "site_code"}
        household = Household(registration_number=f"{site.code}-{next(_NUMBERS):06d}",
                              household_ref=rows[0].household_ref, site_id=site.id,
                              organisation_id=org.id, **fields)
        db.add(household)
        db.flush()
        for row in rows:
            secrets: dict[str, str | None] = {}
            for name, value in (("phone", row.phone), ("document_number", row.document_number)):
                secrets[f"{name}_enc"] = cipher.encrypt(value, field_name=name) if value else None
                secrets[f"{name}_hash"] = (cipher.blind_index(value, field_name=name)
                                           if value else None)
            db.add(Individual(household_id=household.id, organisation_id=org.id,
                              site_id=site.id, row_key=row.row_key or None, **row.member,
                              **secrets))
        db.flush()
        ids.append(household.id)
    return ids


_NUMBERS = itertools.count(1)


@pytest.fixture
def registry(db: Session, make_org: Callable[..., Organisation],
             make_user: Callable[..., User]) -> Registry:
    add_areas(db)
    _zone, site_list = add_zone(db, "Z-LINK")
    sites = {s.code: s for s in site_list}
    unhcr = make_org("UNHCR-L", kind=OrgKind.un_agency)
    sarc = make_org("SARC-L")
    generator = Generator(seed=3, origins=["SY070000", "SY070001"], today=TODAY,
                          ref_prefix="LNK")
    stream = generator.households(site_codes=list(sites))
    households = [next(stream) for _ in range(40)]
    originals = write(db, unhcr, sites, households[:25])
    write(db, sarc, sites, households[25:])
    copies = write(db, sarc, sites, households[:PLANTED], variant=1, suffix="-SARC")
    found = Registry(unhcr=unhcr, sarc=sarc, sites=sites,
                     reviewer=make_user(Role.registrar, org=unhcr),
                     sarc_reviewer=make_user(Role.registrar, org=sarc),
                     viewer=make_user(Role.viewer, org=unhcr), generator=generator)
    for original_id, copy_id in zip(originals[:PLANTED], copies, strict=True):
        original, copy = db.get(Household, original_id), db.get(Household, copy_id)
        assert original is not None and copy is not None
        found.copies[original_id] = copy_id
        for a, b in zip(original.members, copy.members, strict=True):
            found.planted.add((min(a.id, b.id), max(a.id, b.id)))
    return found


def share(db: Session, provider: Organisation, recipient: Organisation,
          fields: tuple[str, ...] = ("names", "dates_of_birth")) -> DataSharingAgreement:
    """A data-sharing agreement in force from ``provider`` to ``recipient`` for assistance."""
    now = dt.datetime.now(dt.UTC)
    dsa = DataSharingAgreement(
        provider_org_id=provider.id, recipient_org_id=recipient.id, zone_id=None,
        purposes=["assistance"], fields=list(fields), starts_on=dt.date.today(),
        expires_on=dt.date.today() + dt.timedelta(days=300), provider_signed_at=now,
        recipient_signed_at=now)
    db.add(dsa)
    db.flush()
    return dsa
