"""The linkage demo step fills the review queue with the people demo's planted duplicates."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.demo import linkage as demo_linkage
from havens.demo import people as demo_people
from havens.linkage.models import CandidatePair, LinkageRun
from havens.orgs.models import Organisation, OrgKind
from havens.orgs.permissions import Principal
from havens.people.models import Household
from tests.people.conftest import add_areas, add_zone


def test_demo_queue_holds_the_planted_duplicates(db: Session, system: Principal,
                                                 make_org: Callable[..., Organisation]) -> None:
    add_areas(db)
    add_zone(db, "Z-DEMO", sites=3)
    for acronym in ("UNHCR", "SARC", "IOM"):
        make_org(acronym, kind=OrgKind.un_agency)
    demo_people.load(db, actor=system, individuals=600)
    demo_linkage.load(db, actor=system)
    run = db.scalar(select(LinkageRun))
    assert run is not None and run.organisation_id is None and run.proposed > 0
    queued = {(p.individual_l_id, p.individual_r_id)
              for p in db.scalars(select(CandidatePair))}
    planted = set()
    for copy in db.scalars(select(Household).where(Household.household_ref.like("%-SARC"))):
        ref = (copy.household_ref or "").removesuffix("-SARC")
        original = db.scalar(select(Household).where(Household.household_ref == ref))
        assert original is not None
        for a, b in zip(original.members, copy.members, strict=True):
            planted.add((min(a.id, b.id), max(a.id, b.id)))
    assert planted and planted <= queued
