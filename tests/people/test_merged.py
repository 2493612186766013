"""A confirmed duplicate is one person in the people views, counts and search; the merged record
is kept, reads by its id with where it went, and an unmerge restores everything."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.assistance import indicators
from havens.audit.models import AuditRecord
from havens.exceptions import Conflict
from havens.linkage import review
from havens.linkage import service as linkage
from havens.linkage.models import CandidatePair, LinkageRun
from havens.orgs.permissions import Principal
from havens.people import flows as people_flows
from havens.people import merges, occupancy, service
from havens.people.crypto import FieldCipher
from havens.people.models import Household, Individual
from havens.people.schemas import DepartRequest, HouseholdCreate, HouseholdRead, MoveRequest
from tests.people.conftest import World, household_payload

ON = dt.date(2026, 3, 1)


def register(db: Session, world: World, cipher: FieldCipher, ref: str,
             actor: Principal | None = None) -> HouseholdRead:
    data = HouseholdCreate.model_validate(household_payload(world.sites[0], household_ref=ref))
    return service.register_household(db, actor=actor or world.p(world.registrar), data=data,
                                      cipher=cipher)


def pair(db: Session, a: int, b: int) -> CandidatePair:
    """A pending candidate pair of ``a`` and ``b``, as a registry run would queue it."""
    run = LinkageRun(model_version="test", threshold=0.8)
    db.add(run)
    db.flush()
    found = CandidatePair(run_id=run.id, individual_l_id=min(a, b), individual_r_id=max(a, b),
                          match_probability=0.99, model_version="test")
    db.add(found)
    db.flush()
    return found


def twice(db: Session, world: World, cipher: FieldCipher) -> tuple[HouseholdRead, HouseholdRead]:
    """The same household of three registered twice by the registrar's organisation."""
    return register(db, world, cipher, "TWICE-1"), register(db, world, cipher, "TWICE-2")


def population(db: Session, world: World) -> tuple[object, object]:
    zone = occupancy.zone_occupancy(db, actor=world.p(world.coordinator), zone_id=world.zone.id,
                                    on=ON)
    return zone.population.individuals, zone.population.households


def found(db: Session, world: World, cipher: FieldCipher, **query: str) -> set[int]:
    page = service.search(db, actor=world.p(world.registrar), cipher=cipher, **query)
    assert page.total == len(page.items)
    return {h.id for h in page.items}


def audits(db: Session, action: str) -> list[AuditRecord]:
    return list(db.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def test_one_person_counts_once_and_comes_back_on_unmerge(
        db: Session, world: World, cipher: FieldCipher) -> None:
    first, second = twice(db, world, cipher)
    head, copy = first.members[0].id, second.members[0].id
    assert population(db, world) == (6, 2)
    assert found(db, world, cipher, query="Mohammad Ahmad Ali") == {first.id, second.id}
    assert found(db, world, cipher, phone="+963 944 123 456") == {first.id, second.id}

    reviewer = world.p(world.registrar)
    merge = linkage.confirm(db, actor=reviewer, pair_id=pair(db, head, copy).id)
    assert (merge.kept_id, merge.merged_id) == (head, copy)
    person = db.get(Individual, copy)
    assert person is not None and person.merged_into_id == head
    # Counted once; the spouse and child of the second registration still count (not merged).
    assert population(db, world) == (5, 2)
    assert found(db, world, cipher, query="Mohammad Ahmad Ali") == {first.id}
    assert found(db, world, cipher, phone="+963 944 123 456") == {first.id}
    assert found(db, world, cipher, query="Fatima") == {first.id, second.id}
    # The merged record still reads by its id, with where it went.
    read = service.get_household(db, actor=reviewer, household_id=second.id, cipher=cipher)
    assert read.merged_into is None
    pointer = read.members[0].merged_into
    assert pointer is not None
    assert (pointer.individual_id, pointer.household_id) == (head, first.id)
    assert pointer.registration_number == first.registration_number
    assert pointer.organisation == "UNHCR-T"
    assert [m.merged_into for m in read.members[1:]] == [None, None]
    assert audits(db, "linkage.confirm")[-1].detail["merged"] == copy
    assert audits(db, "people.read")[-1].detail["households"] == [second.id]

    linkage.unmerge(db, actor=reviewer, merge_id=merge.id)
    assert db.get(Individual, copy).merged_into_id is None  # type: ignore[union-attr]
    assert population(db, world) == (6, 2)
    assert found(db, world, cipher, query="Mohammad Ahmad Ali") == {first.id, second.id}
    again = service.get_household(db, actor=reviewer, household_id=second.id, cipher=cipher)
    assert again.members[0].merged_into is None
    assert audits(db, "linkage.unmerge")[-1].detail["merged"] == copy


def test_a_household_merged_whole_is_one_household(
        db: Session, world: World, cipher: FieldCipher) -> None:
    first, second = twice(db, world, cipher)
    reviewer = world.p(world.registrar)
    before = people_flows.count_flows(
        db, actor=world.p(world.coordinator), start=dt.date(2025, 12, 1),
        end=dt.date(2025, 12, 31), zone_id=world.zone.id)
    assert before.totals.arrivals == 6 and before.totals.arrival_households == 2
    merges_done = [linkage.confirm(db, actor=reviewer, pair_id=pair(db, a.id, b.id).id)
                   for a, b in zip(first.members, second.members, strict=True)]
    assert merges_done[-1].household_merges
    household = db.get(Household, second.id)
    assert household is not None and household.merged_into_id == first.id
    assert population(db, world) == (3, 1)
    # Not found by its registration number nor by any name; the kept household is.
    assert found(db, world, cipher, query=second.registration_number) == set()
    assert found(db, world, cipher, query="Fatima") == {first.id}
    page = service.search(db, actor=reviewer, query="Fatima", cipher=cipher)
    assert page.total == 1
    # Its arrival was the kept household's: the flows count it once.
    after = people_flows.count_flows(
        db, actor=world.p(world.coordinator), start=dt.date(2025, 12, 1),
        end=dt.date(2025, 12, 31), zone_id=world.zone.id)
    assert after.totals.arrivals == 3 and after.totals.arrival_households == 1
    read = service.get_household(db, actor=reviewer, household_id=second.id, cipher=cipher)
    assert read.merged_into is not None and read.merged_into.household_id == first.id
    assert read.merged_into.individual_id is None
    assert all(m.merged_into is not None for m in read.members)
    # A merged-away household moves no more: its movements are the kept one's.
    with pytest.raises(Conflict):
        service.move_household(db, actor=reviewer, household_id=second.id, cipher=cipher,
                               data=MoveRequest(to_site_code=world.sites[1].code,
                                                moved_on=dt.date(2026, 1, 5)))
    with pytest.raises(Conflict):
        service.depart_household(db, actor=reviewer, household_id=second.id, cipher=cipher,
                                 data=DepartRequest(destination_type="unknown",
                                                    moved_on=dt.date(2026, 1, 5)))

    # Unmerging one member undoes the household merge: two households, four people.
    linkage.unmerge(db, actor=reviewer, merge_id=merges_done[1].id)
    assert db.get(Household, second.id).merged_into_id is None  # type: ignore[union-attr]
    assert population(db, world) == (4, 2)
    assert found(db, world, cipher, query=second.registration_number) == {second.id}
    assert found(db, world, cipher, query="Fatima") == {first.id, second.id}


def test_movements_count_the_members_who_count(
        db: Session, world: World, cipher: FieldCipher) -> None:
    first, second = twice(db, world, cipher)
    reviewer = world.p(world.registrar)
    # The second registration's child is the first one's: it moves with the first household.
    linkage.confirm(db, actor=reviewer, pair_id=pair(
        db, first.members[2].id, second.members[2].id).id)
    moved = service.move_household(db, actor=reviewer, household_id=second.id, cipher=cipher,
                                   data=MoveRequest(to_site_code=world.sites[1].code,
                                                    moved_on=dt.date(2026, 1, 5)))
    assert moved.members[2].merged_into is not None
    flows = people_flows.count_flows(
        db, actor=world.p(world.coordinator), start=dt.date(2026, 1, 5),
        end=dt.date(2026, 1, 5), site_id=world.sites[1].id)
    assert flows.totals.relocations_in == 2
    zone = occupancy.zone_occupancy(db, actor=world.p(world.coordinator),
                                    zone_id=world.zone.id, on=ON)
    assert [s.population.individuals for s in zone.sites] == [3, 2]
    # The merged child moved with its household's row but stays absent: the population behind
    # the Sphere/INEE indicators counts it once, as occupancy does.
    child = db.get(Individual, second.members[2].id)
    assert child is not None and child.site_id == world.sites[1].id and not child.present
    people, _children = indicators._registered(db, [world.zone.id], ON)
    assert people[world.zone.id] == 5


def test_another_organisations_record_is_named_by_its_acronym_only(
        db: Session, world: World, cipher: FieldCipher, system: Principal) -> None:
    first = register(db, world, cipher, "ORG-1")
    second = register(db, world, cipher, "ORG-2", actor=world.p(world.other_registrar))
    # The operator merges across organisations; the first registration is kept.
    linkage.confirm(db, actor=system, pair_id=pair(
        db, first.members[0].id, second.members[0].id).id)
    read = service.get_household(db, actor=world.p(world.other_registrar),
                                 household_id=second.id, cipher=cipher)
    pointer = read.members[0].merged_into
    assert pointer is not None and pointer.organisation == "UNHCR-T"
    assert pointer.registration_number is None


def test_every_way_of_deciding_moves_the_pointers(
        db: Session, world: World, cipher: FieldCipher) -> None:
    """The web page and the terminal reviewer call ``review`` directly, not the service."""
    first, second = twice(db, world, cipher)
    reviewer = world.p(world.registrar)
    merge = review.confirm(db, actor=reviewer, pair_id=pair(
        db, first.members[1].id, second.members[1].id).id)
    assert db.get(Individual, merge.merged_id).merged_into_id == merge.kept_id  # type: ignore
    review.unmerge(db, actor=reviewer, merge_id=merge.id)
    assert db.get(Individual, merge.merged_id).merged_into_id is None  # type: ignore


def test_merged_into_a_record_that_counts_only(
        db: Session, world: World, cipher: FieldCipher) -> None:
    first, second = twice(db, world, cipher)
    a, b, c = first.members[0].id, second.members[0].id, second.members[1].id
    merges.mark_merged(db, individual_id=b, into_id=a)
    with pytest.raises(Conflict):
        merges.mark_merged(db, individual_id=c, into_id=b)
    with pytest.raises(Conflict):
        merges.mark_merged(db, individual_id=a, into_id=a)
    merges.clear_merged(db, individual_id=b)
    db.flush()
    assert db.scalar(select(Individual.merged_into_id).where(Individual.id == b)) is None
