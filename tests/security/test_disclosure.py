"""Aggregates to callers without personal-data rights: no small count can be worked out.

The zone below would leak with primary suppression alone: its first site has 2 girls under 5
and 10 women, and publishes its women's total (12) — so 12 - 10 = 2. The published occupancy
is audited with the linear program of ``tests/interop/test_disclosure.py``.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy.orm import Session

from havens.interop.disclosure import COMPLEMENT, SUPPRESSED, Protected, protect
from havens.orgs.permissions import Principal
from havens.people import flows as people_flows
from havens.people import occupancy
from havens.people import service as people_service
from havens.people.crypto import FieldCipher
from havens.people.models import Sex
from havens.people.schemas import HouseholdCreate
from tests.interop.test_disclosure import recoverable
from tests.people.conftest import World, household_payload, member

ON = dt.date(2026, 3, 1)


def _zone(db: Session, world: World, cipher: FieldCipher) -> None:
    women = [member(relationship="head" if n == 0 else "other_relative", sex="F",
                    date_of_birth=f"19{80 + n}-01-0{1 + n % 9}", phone=None,
                    document_type=None, document_number=None) for n in range(10)]
    girls = [member(relationship="child", sex="F", date_of_birth="2024-01-01", phone=None,
                    document_type=None, document_number=None) for _ in range(2)]
    men = [member(relationship="head" if n == 0 else "sibling", sex="M",
                  date_of_birth=f"19{70 + n}-05-05", phone=None, document_type=None,
                  document_number=None) for n in range(7)]
    for site, ref, members in ((0, "D-1", women + girls), (1, "D-2", men)):
        people_service.register_household(
            db, actor=world.p(world.registrar), cipher=cipher,
            data=HouseholdCreate.model_validate(household_payload(
                world.sites[site], household_ref=ref, members=members)))


def _as_table(result: occupancy.ZoneOccupancy) -> Protected:
    """The published figures as a table: one row per site, or the zone alone for outsiders."""
    def cells(population: occupancy.Population) -> list[int | str]:
        return [population.by_sex_age[s][g] for s, g in occupancy._SEX_AGE]

    def by_sex(population: occupancy.Population) -> list[int | str]:
        # In the order of occupancy._SEX_GROUPS (the order of Sex: men, then women).
        return [population.male if sex is Sex.male else population.female for sex in Sex]

    rows = [s.population for s in result.sites] or [result.population]
    return Protected(
        cells=[cells(p) for p in rows], row_totals=[p.individuals for p in rows],
        column_totals=cells(result.population), total=result.population.individuals,
        primary=0, secondary=0, group_totals=[by_sex(p) for p in rows],
        group_column_totals=by_sex(result.population))


def test_primary_suppression_alone_would_leak(db: Session, world: World,
                                              cipher: FieldCipher) -> None:
    _zone(db, world, cipher)
    full = occupancy.zone_occupancy(db, actor=world.p(world.coordinator),
                                    zone_id=world.zone.id, on=ON)
    assert not full.suppressed and full.sites[0].population.by_sex_age["F"]["0-4"] == 2
    naive = _as_table(full)
    girls = occupancy._SEX_AGE.index(("F", "0-4"))
    naive.cells[0][girls] = SUPPRESSED
    naive.column_totals[girls] = SUPPRESSED
    assert recoverable(naive, occupancy._SEX_GROUPS)  # 12 women - 10 adults = 2 girls


def test_published_occupancy_protects_every_small_count(db: Session, world: World,
                                                        cipher: FieldCipher) -> None:
    _zone(db, world, cipher)
    for user in (world.liaison, world.state_viewer, world.viewer_same_org):
        shown = occupancy.zone_occupancy(db, actor=world.p(user), zone_id=world.zone.id, on=ON)
        assert shown.suppressed and shown.sites == []  # outsiders see the zone as a whole
        table = _as_table(shown)
        assert table.cells[0][occupancy._SEX_AGE.index(("F", "0-4"))] == SUPPRESSED
        assert recoverable(table, occupancy._SEX_GROUPS) == []
        # The same protection as the disclosure module gives the raw table.
        raw = protect([[2, 0, 0, 10, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 7, 0]],
                      groups=occupancy._SEX_GROUPS)
        assert raw.primary >= 1 and raw.secondary >= 1


def test_site_occupancy_and_flows_are_protected_too(db: Session, world: World,
                                                    cipher: FieldCipher) -> None:
    _zone(db, world, cipher)
    site = occupancy.site_occupancy(db, actor=world.p(world.liaison),
                                    site_id=world.sites[0].id, on=ON)
    assert site.population.by_sex_age["F"]["0-4"] == SUPPRESSED
    # The women's total (12) is shown, so the 10 women are withheld: 12 - 10 would give the
    # girls away.
    assert site.population.by_sex_age["F"]["18-59"] != 10
    arrived = dt.date(2025, 12, 3)
    flows = people_flows.count_flows(db, actor=world.p(world.liaison), start=arrived,
                            end=arrived + dt.timedelta(days=1), zone_id=world.zone.id)
    assert flows.suppressed and flows.totals.arrival_households == SUPPRESSED
    assert flows.days[0].arrivals == 19 and flows.days[0].arrival_households == SUPPRESSED


def test_own_counts_are_shown_and_other_organisations_small_counts_withheld(
        db: Session, world: World, cipher: FieldCipher) -> None:
    """A registrar or coordinator sees its own organisation's registrations as they are; a
    small count that includes another organisation's people is protected as for anyone."""
    _zone(db, world, cipher)  # UNHCR's households
    visitors = [member(relationship="head", sex="M", date_of_birth="1990-02-02", phone=None,
                       document_type=None, document_number=None),
                member(relationship="spouse", sex="F", date_of_birth="1992-02-02", phone=None,
                       document_type=None, document_number=None)]
    people_service.register_household(
        db, actor=world.p(world.other_registrar), cipher=cipher,
        data=HouseholdCreate.model_validate(household_payload(
            world.sites[1], household_ref="S-1", members=visitors)))

    mine = occupancy.zone_occupancy(db, actor=world.p(world.coordinator),
                                    zone_id=world.zone.id, on=ON)
    first, second = (s.population for s in mine.sites[:2])
    # Site 1 is UNHCR's alone: its 2 girls are shown to UNHCR as they are.
    assert first.by_sex_age["F"]["0-4"] == 2 and first.individuals == 12
    # Site 2 holds UNHCR's 7 men and SARC's couple: its people are given, not broken down;
    # the zone's women of 18-59 (10 of site 1 and SARC's one) are withheld, and what would
    # give them away.
    assert second.individuals == 9 and second.by_sex_age["F"]["18-59"] == occupancy.SHARED
    assert mine.population.by_sex_age["F"]["18-59"] == COMPLEMENT and mine.suppressed
    assert recoverable(_as_table(mine), occupancy._SEX_GROUPS) == []
    theirs = occupancy.zone_occupancy(db, actor=world.p(world.other_registrar),
                                      zone_id=world.zone.id, on=ON)
    assert theirs.sites[0].population.by_sex_age["F"]["0-4"] == occupancy.SHARED
    assert recoverable(_as_table(theirs), occupancy._SEX_GROUPS) == []
    assert occupancy.site_occupancy(db, actor=world.p(world.other_registrar),
                                    site_id=world.sites[0].id, on=ON
                                    ).population.by_sex_age["F"]["0-4"] == SUPPRESSED
    # The operator sees every count.
    assert not occupancy.zone_occupancy(db, actor=Principal.system(), zone_id=world.zone.id,
                                        on=ON).suppressed

    arrived = dt.date.fromisoformat(household_payload(world.sites[1])["arrival_date"])
    moved = people_flows.count_flows(db, actor=world.p(world.coordinator), start=arrived,
                                     end=arrived, zone_id=world.zone.id)
    # 19 UNHCR arrivals and SARC's 2 on one day: the day's count is not UNHCR's alone, but 21
    # is no small count; SARC's own view of the same day is the same figure.
    assert moved.totals.arrivals == 21
    assert people_flows.count_flows(db, actor=world.p(world.other_registrar), start=arrived,
                                    end=arrived, zone_id=world.zone.id).totals.arrivals == 21
    present = occupancy.zones_present(db, actor=world.p(world.coordinator))
    assert present[world.zone.id] == 21


def _truthful(shown: object, truth: int) -> bool:
    """A published figure agrees with the truth: the number itself, or a mark true of it."""
    if isinstance(shown, int):
        return shown == truth
    return {SUPPRESSED: 0 < truth < 5, COMPLEMENT: truth >= 5,
            occupancy.SHARED: True}[str(shown)]


@pytest.mark.parametrize("seed", range(8))
def test_shared_sites_are_protected_on_random_zones(seed: int) -> None:
    """Zones of own and shared sites at random: every figure shown is true, and no "<5" can be
    pinned down from the people table or the households column (linear programming)."""
    rnd = random.Random(seed)
    sites = list(range(1, rnd.randint(3, 30)))
    counts, own = occupancy._Counts(), occupancy._Counts()
    truth: dict[int, list[int]] = {}
    for site in sites:
        others_here = rnd.random() < 0.6
        cells = []
        for key in occupancy._SEX_AGE:
            mine = rnd.choice([0, 0, 1, 2, 3, 6, 12])
            theirs = rnd.choice([0, 0, 0, 1, 2, 4, 7]) if others_here else 0
            cells.append(mine + theirs)
            if mine + theirs:
                counts.people[site][key], own.people[site][key] = mine + theirs, mine
        truth[site] = cells
        homes = rnd.randint(0, 3)
        counts.households[site] = homes + (rnd.randint(1, 3) if others_here else 0)
        own.households[site] = homes
    rows, total, _withheld = occupancy._protect_shared(sites, counts, own)

    zone_cells = [sum(truth[s][c] for s in sites) for c in range(len(occupancy._SEX_AGE))]
    for population, cells, homes in (
            *((rows[n], truth[s], counts.households[s]) for n, s in enumerate(sites)),
            (total, zone_cells, sum(counts.households.values()))):
        shown = [population.by_sex_age[sex][label] for sex, label in occupancy._SEX_AGE]
        assert all(map(_truthful, shown, cells))
        assert _truthful(population.individuals, sum(cells))
        assert _truthful(population.households, homes)
    people = Protected(
        cells=[[p.by_sex_age[s][g] for s, g in occupancy._SEX_AGE] for p in rows],
        row_totals=[p.individuals for p in rows],
        column_totals=[total.by_sex_age[s][g] for s, g in occupancy._SEX_AGE],
        total=total.individuals, primary=0, secondary=0,
        group_totals=[[p.male, p.female] for p in rows],
        group_column_totals=[total.male, total.female])
    assert recoverable(people, occupancy._SEX_GROUPS) == []
    homes_column = Protected(cells=[[p.households] for p in rows],
                             row_totals=[p.households for p in rows],
                             column_totals=[total.households], total=total.households,
                             primary=0, secondary=0, group_totals=[[] for _ in rows])
    assert recoverable(homes_column) == []
