"""Returns reports to callers without personal-data rights: no count of 1 to 4 can be worked
out from a total published beside it (here, or in the ``returns`` export).

Audited with the linear program of ``tests/interop/test_disclosure.py`` and with the plain
rule a reader would try first: in a line whose total is shown, one withheld cell alone gives
itself away.
"""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from havens.interop.disclosure import COMPLEMENT, SUPPRESSED, Count, Protected
from havens.people.models import Household, Individual
from havens.returns import movements, reports
from havens.returns.schemas import ReturnCreate
from havens.zones.models import Site, SiteType, Zone, ZoneStatus
from tests.interop.test_disclosure import recoverable
from tests.returns.conftest import ORIGIN, TODAY, World, all_met


def column(values: list[Count], total: Count) -> Protected:
    return Protected(cells=[[v] for v in values], row_totals=list(values),
                     column_totals=[total], total=total, primary=0, secondary=0,
                     group_totals=[[] for _v in values])


def lone_withheld(values: list[Count], total: Count) -> bool:
    """A shown total and exactly one withheld value: total - the others."""
    return isinstance(total, int) and sum(isinstance(v, str) for v in values) == 1


def second_zone(world: World, households: list[Household]) -> None:
    """Move the households to a site of another zone."""
    zone = Zone(code="SZ-R-002", name_en="Second zone", status=ZoneStatus.operational)
    world.db.add(zone)
    world.db.flush()
    site = Site(code="CP800002", name_en="Camp two", site_type=SiteType.planned_camp,
                lon=36.9, lat=36.2, zone_id=zone.id)
    world.db.add(site)
    world.db.flush()
    for household in households:
        household.site_id = site.id
        for person in world.db.query(Individual).filter_by(household_id=household.id):
            person.site_id = site.id
    world.db.flush()


def test_displaced_by_zone_with_their_total(world: World, client: TestClient,
                                            token_for: object) -> None:
    few = [world.household(n, members=2) for n in range(1, 4)]  # 3 households, 6 people
    many = [world.household(n, members=2) for n in range(10, 20)]  # 10 households
    second_zone(world, many)
    full = reports.origin_report(world.db, actor=world.p(world.coordinator), pcode=ORIGIN)
    assert [(z.zone_code, z.households) for z in full.displaced] == [
        ("SZ-R-001", 3), ("SZ-R-002", 10)] and full.displaced_total.households == 13
    hidden = reports.origin_report(world.db, actor=world.p(world.viewer), pcode=ORIGIN)
    households = [z.households for z in hidden.displaced]
    assert households[0] == SUPPRESSED
    # The auditor's own check: primary suppression alone would publish 10 and the total 13,
    # and 13 - 10 = 3 (so the checks below can fail).
    assert lone_withheld([SUPPRESSED, 10], 13)
    assert (0, 0) in recoverable(column([SUPPRESSED, 10], 13))
    # Now the other zone's count, or the total, is withheld too.
    assert households[1] == COMPLEMENT or not isinstance(hidden.displaced_total.households, int)
    for values, total in ((households, hidden.displaced_total.households),
                          ([z.individuals for z in hidden.displaced],
                           hidden.displaced_total.individuals)):
        assert not lone_withheld(values, total)
        assert recoverable(column(values, total)) == []
    # The API gives the same.
    answer = client.get(f"/api/v1/returns/areas/{ORIGIN}/report",
                        headers=token_for(world.viewer))  # type: ignore[operator]
    assert answer.status_code == 200, answer.text
    assert [z["households"] for z in answer.json()["displaced"]] == households
    # Those with personal-data rights see every count.
    assert len(few) == 3 and all(isinstance(z.households, int) for z in full.displaced)


def test_returns_by_month_against_the_origin_totals(world: World) -> None:
    """The ``returns`` export publishes each origin's returns (its column totals)."""
    world.assess(ORIGIN, all_met())
    days = [TODAY - dt.timedelta(days=40)] + [TODAY - dt.timedelta(days=3)] * 6
    for n, day in enumerate(days, start=1):
        household = world.household(n, members=1)
        movements.record_return(
            world.db, actor=world.p(world.registrar), cipher=world.cipher,
            data=ReturnCreate.model_validate({
                "household_id": household.id, "kind": "spontaneous", "voluntary": True,
                "returned_on": day.isoformat()}, strict=False))
    full = reports.origin_report(world.db, actor=world.p(world.coordinator), pcode=ORIGIN)
    assert [m.spontaneous for m in full.returns_by_month] == [1, 6]
    hidden = reports.origin_report(world.db, actor=world.p(world.viewer), pcode=ORIGIN)
    spontaneous = [m.spontaneous for m in hidden.returns_by_month]
    people = [m.individuals for m in hidden.returns_by_month]
    assert spontaneous[0] == SUPPRESSED and people[0] == SUPPRESSED
    # Against the origin's 7 returns (the export), the 6 of the other month are withheld.
    for values in (spontaneous, people):
        assert values[1] == COMPLEMENT
        assert not lone_withheld(values, 7) and recoverable(column(values, 7)) == []
