"""Primary and secondary suppression: no withheld small count can be worked out.

The audit is the one statistical offices use: for each ``<5`` cell, the smallest and largest
value it can take given everything published (cells, ``<5`` = 1..4, ``x`` = 5 or more, row,
column and group totals) are found by linear programming; they must differ.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from scipy.optimize import linprog

from havens.interop.disclosure import (
    COMPLEMENT,
    SUPPRESSED,
    Protected,
    protect,
    protect_within,
)


def _published(table: Protected, groups: Sequence[Sequence[int]]
               ) -> tuple[list[list[Any]], list[list[tuple[int, int]]]]:
    """The augmented grid as a reader sees it, and its lines (parts..., total)."""
    rows, cols = len(table.cells), len(table.cells[0])
    grid: list[list[Any]] = [list(table.cells[r]) + list(table.group_totals[r])
                                + [table.row_totals[r]] for r in range(rows)]
    grid.append(list(table.column_totals) + list(table.group_column_totals) + [table.total])
    width = cols + len(groups) + 1
    lines = []
    for r in range(rows + 1):
        lines.append([(r, c) for c in range(cols)] + [(r, width - 1)])
        lines += [[(r, c) for c in g] + [(r, cols + k)] for k, g in enumerate(groups)]
    lines += [[(r, c) for r in range(rows + 1)] for c in range(width)]
    return grid, lines


def recoverable(table: Protected, groups: Sequence[Sequence[int]] = ()) -> list[tuple[int, int]]:
    """The ``<5`` values a reader can pin to one number (an LP over what is published)."""
    grid, lines = _published(table, groups)
    unknown = [(r, c) for r, row in enumerate(grid) for c, v in enumerate(row)
               if isinstance(v, str)]
    index = {cell: n for n, cell in enumerate(unknown)}
    # "<5" is 1 to 4, a complement "x" 5 or more; any other mark (a figure not broken down)
    # says nothing of its value.
    bounds = [(1, 4) if grid[r][c] == SUPPRESSED else (5, None) if grid[r][c] == COMPLEMENT
              else (0, None) for r, c in unknown]
    a_eq, b_eq = [], []
    for line in lines:
        *parts, total = line
        coefficients = [0.0] * len(unknown)
        constant = 0.0
        for cell, sign in [(p, 1.0) for p in parts] + [(total, -1.0)]:
            value = grid[cell[0]][cell[1]]
            if isinstance(value, str):
                coefficients[index[cell]] += sign
            else:
                constant += sign * float(value)
        if any(coefficients):
            a_eq.append(coefficients)
            b_eq.append(-constant)
    exposed = []
    for cell, n in index.items():
        if grid[cell[0]][cell[1]] != SUPPRESSED:
            continue
        objective = [0.0] * len(unknown)
        objective[n] = 1.0
        low = linprog(objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        objective[n] = -1.0
        high = linprog(objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        assert low.status == 0 and high.status == 0, "the published table must be consistent"
        if -high.fun - low.fun < 1 - 1e-6:
            exposed.append(cell)
    return exposed


LEAKY = [[1, 10, 20], [7, 8, 9], [6, 30, 3]]


def test_primary_alone_leaks_and_protection_closes_it() -> None:
    naive = protect(LEAKY, suppress=False)
    naive.cells[0][0] = SUPPRESSED  # what primary suppression alone would publish
    naive.cells[2][2] = SUPPRESSED
    assert recoverable(naive) == [(0, 0), (2, 2)]  # 31 - 10 - 20 = 1; 39 - 6 - 30 = 3

    table = protect(LEAKY)
    assert table.cells[0][0] == SUPPRESSED and table.cells[2][2] == SUPPRESSED
    assert table.primary == 2 and table.secondary >= 2
    assert recoverable(table) == []
    # Complements are withheld as "x", never claimed to be small; here two suffice (a 2 × 2
    # cycle) and every total stays published.
    assert table.cells == [[SUPPRESSED, 10, COMPLEMENT], [7, 8, 9], [COMPLEMENT, 30, SUPPRESSED]]
    assert table.row_totals == [31, 24, 39] and table.total == 94


def test_small_totals_and_zeros() -> None:
    table = protect([[2, 0], [0, 0]])
    assert table.cells == [[SUPPRESSED, 0], [0, 0]]
    assert table.total == SUPPRESSED and recoverable(table) == []
    assert protect([[0, 0], [0, 0]]).secondary == 0


def test_group_subtotals_are_protected_too() -> None:
    cells = [[1, 10, 20, 3], [7, 8, 9, 30]]
    groups = [[0, 1], [2, 3]]
    table = protect(cells, groups=groups)
    assert table.group_totals[0][0] in (11, COMPLEMENT)
    assert recoverable(table, groups) == []


def test_exempt_cells_are_shown_but_cannot_expose_others() -> None:
    # The caller's own 3 is shown; the other organisation's 1 beside it is protected even
    # though the total 4 is small: both then show as <5 (true), so nothing is pinned.
    table = protect([[1, 3]], exempt=[[False, True]])
    assert recoverable(table) == []
    assert table.cells[0][0] == SUPPRESSED
    shown = protect([[20, 3]], exempt=[[True, True]])
    assert shown.cells == [[20, 3]] and shown.primary == 0


def test_nothing_is_withheld_without_suppression() -> None:
    table = protect(LEAKY, suppress=False)
    assert table.cells == LEAKY and table.primary == table.secondary == 0


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_never_expose_a_small_count(seed: int) -> None:
    rng = random.Random(seed)
    rows, cols = rng.randint(1, 5), rng.randint(2, 6)
    cells = [[rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 15, 40]) for _ in range(cols)]
             for _ in range(rows)]
    groups = [list(range(cols // 2)), list(range(cols // 2, cols))] if seed % 2 else []
    table = protect(cells, groups=groups)
    assert recoverable(table, groups) == [], cells
    # Every published value is the true one.
    for r in range(rows):
        for c in range(cols):
            shown = table.cells[r][c]
            assert shown == cells[r][c] or shown in (SUPPRESSED, COMPLEMENT)
            if shown == SUPPRESSED:
                assert 0 < cells[r][c] < 5
            if shown == COMPLEMENT:
                assert cells[r][c] >= 5


@pytest.mark.parametrize("seed", range(15))
def test_kept_totals_stay_published_and_still_protect(seed: int) -> None:
    """Zone totals shown by another export are never withheld here; cells protect instead."""
    rng = random.Random(1000 + seed)
    rows, cols = rng.randint(1, 4), rng.randint(2, 6)
    cells = [[rng.choice([0, 1, 2, 3, 6, 9, 15, 40]) for _ in range(cols)] for _ in range(rows)]
    table = protect(cells, keep_row_totals=True)
    assert recoverable(table) == [], cells
    assert all(t != COMPLEMENT for t in table.row_totals), (cells, table.row_totals)


def test_sites_are_protected_within_their_zone() -> None:
    # Zone A's sites hold 2, 30 and 40 people; zone B's one site 7. The zones' totals (72, 7)
    # are published by another export: A's 2 needs a complement among A's own sites.
    shown = protect_within([2, 30, 40, 7], [1, 1, 1, 2])  # zone ids
    assert shown == [SUPPRESSED, COMPLEMENT, 40, 7]
    table = protect([[2, 30, 40, 0], [0, 0, 0, 7]], keep_row_totals=True)
    assert table.row_totals == [72, 7] and recoverable(table) == []
