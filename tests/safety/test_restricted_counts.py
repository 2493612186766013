"""The sensitive incidents a caller may not see, counted per zone and type with their totals:
no count of 1 to 4 can be worked out from the totals (primary and secondary suppression).

Each published table is audited with the linear program of ``tests/interop/test_disclosure.py``
(can a reader pin a ``<5`` to one number?), and with the plain rule a reader would try first:
in a line whose total is shown, one withheld cell alone gives itself away.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from havens.interop.disclosure import SUPPRESSED, Protected
from havens.orgs.models import User
from havens.safety import service
from havens.safety.incident_types import IncidentType
from havens.safety.schemas import IncidentCreate, IncidentList
from tests.interop.test_disclosure import recoverable
from tests.safety.conftest import NOW, World, add_zone

GBV, CHILD = IncidentType.gbv, IncidentType.child_protection


def report(world: World, zone: str, kind: IncidentType, times: int) -> None:
    for _ in range(times):
        service.create_incident(world.db, actor=world.p(world.protection), now=NOW,
                                data=IncidentCreate.model_validate({
                                    "zone": zone, "incident_type": kind.value, "severity": 2,
                                    "occurred_at": NOW - dt.timedelta(days=2)}, strict=False))


def as_table(listed: IncidentList | dict[str, Any]) -> tuple[Protected, list[str], list[str]]:
    """The published counts as a table (zones × types) with their published totals."""
    data = listed if isinstance(listed, dict) else listed.model_dump(mode="json")
    totals = data["restricted_totals"]
    zones, kinds = list(totals["by_zone"]), list(totals["by_type"])
    cells = {(r["zone_code"], r["incident_type"]): r["count"] for r in data["restricted"]}
    return Protected(
        cells=[[cells.get((z, k), 0) for k in kinds] for z in zones],
        row_totals=[totals["by_zone"][z] for z in zones],
        column_totals=[totals["by_type"][k] for k in kinds], total=totals["total"],
        primary=0, secondary=0, group_totals=[[] for _z in zones]), zones, kinds


def lone_withheld_cells(table: Protected) -> list[str]:
    """Lines with a shown total and exactly one withheld cell: that cell is total - others."""
    lines = [(f"row {r}", row, table.row_totals[r]) for r, row in enumerate(table.cells)]
    lines += [(f"column {c}", [row[c] for row in table.cells], table.column_totals[c])
              for c in range(len(table.column_totals))]
    lines.append(("totals", table.column_totals, table.total))
    return [name for name, cells, total in lines if isinstance(total, int)
            and sum(isinstance(v, str) for v in cells) == 1]


def test_one_small_count_beside_a_shown_total_is_not_left_alone(world: World) -> None:
    report(world, "SZ-T-001", GBV, 6)
    report(world, "SZ-T-001", CHILD, 2)
    listed = service.list_incidents(world.db, actor=world.p(world.other_coordinator))
    table, zones, kinds = as_table(listed)
    assert zones == ["SZ-T-001"] and kinds == ["child_protection", "gbv"]
    assert table.cells[0][0] == SUPPRESSED  # 2 children
    # Primary suppression alone published gbv 6 and the zone's 8: 8 - 6 = 2 children.
    naive = Protected(cells=[[SUPPRESSED, 6]], row_totals=[8], column_totals=[SUPPRESSED, 6],
                      total=8, primary=1, secondary=0, group_totals=[[]])
    assert (0, 0) in recoverable(naive) and lone_withheld_cells(naive)
    # Now another count of the row (or the total) is withheld too.
    assert table.cells[0][1] != 6 or not isinstance(table.row_totals[0], int)
    assert recoverable(table) == [] and lone_withheld_cells(table) == []
    # The caller who may see the incidents sees them all, and no restricted counts.
    own = service.list_incidents(world.db, actor=world.p(world.protection))
    assert len(own.items) == 8 and own.restricted == [] and own.restricted_totals.total == 0


def test_api_counts_of_several_zones_cannot_be_recovered(
        world: World, client: TestClient, token_for: Any) -> None:
    add_zone(world.db, "SZ-T-002", (36.90, 36.10, 37.10, 36.30))
    report(world, "SZ-T-001", GBV, 7)
    report(world, "SZ-T-001", CHILD, 1)
    report(world, "SZ-T-002", GBV, 9)
    report(world, "SZ-T-002", CHILD, 6)
    outsiders: list[User] = [world.other_coordinator, world.other_protection, world.viewer,
                             world.coordinator]
    for user in outsiders:
        listing = client.get("/api/v1/incidents", headers=token_for(user))
        assert listing.status_code == 200, listing.text
        table, zones, kinds = as_table(listing.json())
        assert zones == ["SZ-T-001", "SZ-T-002"] and kinds == ["child_protection", "gbv"]
        assert table.cells[0][0] == SUPPRESSED
        assert recoverable(table) == [] and lone_withheld_cells(table) == []
        # What is withheld is only what must be: the second zone's own counts protect the
        # first's, and the grand total (23) stays shown.
        assert table.total == 23
