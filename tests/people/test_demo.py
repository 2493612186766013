"""The demo generator: realistic, valid, fast, with cross-agency duplicates."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.demo import people as demo_people
from havens.orgs.models import OrgKind
from havens.orgs.permissions import Principal
from havens.people.generator import Generator
from havens.people.models import Household, Individual
from tests.people.conftest import add_areas, add_zone


def test_name_chains_follow_the_family() -> None:
    generator = Generator(seed=4, today=dt.date(2026, 1, 1))
    for _ in range(50):
        members = generator.household()
        head = members[0]
        for child in (m for m in members if m.relationship == "child"):
            if head.sex == "M":
                assert child.father == head.given and child.grandfather == head.father
                assert child.family == head.family


def test_demo_load(db: Session, make_org: object, system: Principal) -> None:
    add_areas(db)
    add_zone(db, "Z-DEMO", sites=3)
    for acronym in ("UNHCR", "SARC", "IOM"):
        make_org(acronym, kind=OrgKind.un_agency)  # type: ignore[operator]
    started = time.perf_counter()
    demo_people.load(db, actor=system, individuals=1_500)
    assert time.perf_counter() - started < 30
    total = db.scalar(select(func.count()).select_from(Individual))
    assert total is not None and total >= 1_500
    copies = list(db.scalars(select(Household).where(Household.household_ref.like("%-SARC"))))
    assert len(copies) == demo_people.DUPLICATES
    variants = 0
    for copy in copies:
        original = db.scalar(select(Household).where(
            Household.household_ref == copy.household_ref.removesuffix("-SARC")))
        assert original is not None and original.organisation_id != copy.organisation_id
        for a, b in zip(original.members, copy.members, strict=True):
            assert (a.given_name_ar, a.family_name_ar, a.date_of_birth) == (
                b.given_name_ar, b.family_name_ar, b.date_of_birth)
            variants += (a.given_name_en, a.family_name_en) != (b.given_name_en,
                                                                 b.family_name_en)
    assert variants > 0  # transliterated differently by the second agency
    origins = set(db.scalars(select(Household.origin_pcode)))
    assert origins <= {"SY070000", "SY070001"}
