"""Disclosure control of count tables: primary and secondary suppression.

**Primary**: a count of 1 to 4 (``0 < n < THRESHOLD``) is shown as ``"<5"``. Zero is shown: it
singles nobody out.

**Secondary**: a table is published with its row totals, column totals and grand total (and
optionally subtotals of groups of columns, e.g. women and men), so a withheld cell could be
worked out by subtraction. A reader who knows the rule knows the range of each withheld value:
``"<5"`` is 1..4 and ``"x"`` (a complement, withheld to protect another cell) is 5 or more —
complements are never zero cells, which would protect nothing.

A ``<5`` cell is safe when there is *another table*, consistent with everything published,
in which that cell has another value. We look for one of the classic form (the hypercube
method): move 1 person between two columns of the cell's row (or from the cell to the row's
total), and the opposite way in another row (or the same way in the totals row), so that
every published total is unchanged and every moved value stays within what the reader knows
of it. When no such move exists, the cheapest move is made possible by withholding its
published cells (totals last, then fewest, then smallest), and the search starts again,
until every ``<5`` has its alternative table. The tests check the result against a linear
program.

Cells a caller may see anyway (``exempt``: counted only from their own organisation's data,
to a caller with personal-data rights) are never primary-suppressed; they may still be
withheld to protect others.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from havens.orgs.permissions import Principal, can

THRESHOLD = 5
SUPPRESSED = "<5"
COMPLEMENT = "x"
Count = int | str

_PUBLIC, _PRIMARY, _SECONDARY = 0, 1, 2


def must_suppress(actor: Principal) -> bool:
    """Callers without personal-data rights see aggregates with small counts suppressed."""
    return not actor.is_system and not can(actor, "people.personal")


def primary(value: int, *, on: bool = True) -> Count:
    """One count alone (no totals published beside it)."""
    return SUPPRESSED if on and 0 < value < THRESHOLD else value


@dataclass
class Protected:
    """A table after suppression: cells, row totals, column totals and grand total; with
    ``groups``, each row's subtotal of each group of columns (and the groups' totals)."""

    cells: list[list[Count]]
    row_totals: list[Count]
    column_totals: list[Count]
    total: Count
    primary: int
    secondary: int
    group_totals: list[list[Count]] = field(default_factory=list)
    group_column_totals: list[Count] = field(default_factory=list)


def protect(cells: Sequence[Sequence[int]], *, exempt: Sequence[Sequence[bool]] | None = None,
            suppress: bool = True, groups: Sequence[Sequence[int]] = (),
            keep_row_totals: bool = False, keep_cells: bool = False,
            keep_columns: Sequence[int] = (), keep_group_totals: bool = False) -> Protected:
    """Suppress small counts of a table and enough others that none can be recovered.

    ``groups``: column indexes whose subtotal is published too (e.g. the women and the men of
    a table by sex and age group) — each is one more line a reader can subtract along.

    ``keep_*``: values published elsewhere (another export shows them), which must therefore
    never be withheld as complements here — a value withheld in one table and shown in another
    protects nothing. Small ones are still shown as ``<5``."""
    rows, cols = len(cells), len(cells[0]) if cells else 0
    width = cols + len(groups) + 1  # cells, group subtotals, row total
    grid = []
    for row in cells:
        values = list(map(int, row))
        grid.append(values + [sum(values[c] for c in g) for g in groups] + [sum(values)])
    grid.append([sum(grid[r][c] for r in range(rows)) for c in range(width)])
    state = [[_PUBLIC] * width for _ in range(rows + 1)]
    if suppress and rows and cols:
        free = _exempt_grid(exempt, rows, cols, groups)
        for r in range(rows + 1):
            for c in range(width):
                if 0 < grid[r][c] < THRESHOLD and not free[r][c]:
                    state[r][c] = _PRIMARY
        keep = {(r, c) for r in range(rows) for c in range(width)
                if (keep_cells and c < cols) or c in keep_columns
                or (keep_row_totals and c == width - 1)
                or (keep_group_totals and cols <= c < width - 1)}
        _secondary(grid, state, rows, cols, groups, keep)
    shown = [[_show(grid[r][c], state[r][c]) for c in range(width)] for r in range(rows + 1)]
    flat = [s for row in state for s in row]
    return Protected(cells=[row[:cols] for row in shown[:rows]],
                     row_totals=[row[-1] for row in shown[:rows]],
                     column_totals=shown[rows][:cols], total=shown[rows][-1],
                     primary=flat.count(_PRIMARY), secondary=flat.count(_SECONDARY),
                     group_totals=[row[cols:-1] for row in shown[:rows]],
                     group_column_totals=shown[rows][cols:-1])


def protect_within(values: Sequence[int], parts: Sequence[int], *,
                   exempt: Sequence[bool] | None = None, suppress: bool = True
                   ) -> list[Count]:
    """Counts of items (sites) each in a part (its zone) whose totals are published elsewhere:
    the parts' totals are kept public, so each part needs its own complements."""
    if not values:
        return []
    names = sorted(set(parts))
    row = {p: n for n, p in enumerate(names)}
    cells = [[0] * len(values) for _ in names]
    free = [[True] * len(values) for _ in names]
    for i, (value, part) in enumerate(zip(values, parts, strict=True)):
        cells[row[part]][i] = int(value)
        free[row[part]][i] = bool(exempt[i]) if exempt is not None else False
    table = protect(cells, exempt=free, suppress=suppress, keep_row_totals=True)
    return [table.cells[row[part]][i] for i, part in enumerate(parts)]


def protect_column(values: Sequence[int], *, exempt: Sequence[bool] | None = None,
                   suppress: bool = True, keep_cells: bool = False
                   ) -> tuple[list[Count], Count]:
    """A single column of counts and its total."""
    if not values:
        return [], 0
    table = protect([[v] for v in values], suppress=suppress, keep_cells=keep_cells,
                    keep_row_totals=keep_cells,
                    exempt=[[e] for e in exempt] if exempt is not None else None)
    return [row[0] for row in table.cells], table.column_totals[0]


R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)


@dataclass
class KeyedTable(Generic[R, C]):
    """``protect`` of counts keyed by (row, column), e.g. (zone, incident type)."""

    cells: dict[tuple[R, C], Count]
    row_totals: dict[R, Count]
    column_totals: dict[C, Count]
    total: Count


def protect_keyed(counts: Mapping[tuple[R, C], int], *, rows: Sequence[R],
                  columns: Sequence[C], suppress: bool = True) -> KeyedTable[R, C]:
    """A sparse table (absent keys are zero) with its row, column and grand totals, all
    published, under primary and secondary suppression; cells keep every key of the grid."""
    if not rows or not columns:
        return KeyedTable({}, dict.fromkeys(rows, 0), dict.fromkeys(columns, 0), 0)
    table = protect([[int(counts.get((r, c), 0)) for c in columns] for r in rows],
                    suppress=suppress)
    return KeyedTable(
        cells={(r, c): table.cells[i][j] for i, r in enumerate(rows)
               for j, c in enumerate(columns)},
        row_totals=dict(zip(rows, table.row_totals, strict=True)),
        column_totals=dict(zip(columns, table.column_totals, strict=True)),
        total=table.total)


def _exempt_grid(exempt: Sequence[Sequence[bool]] | None, rows: int, cols: int,
                 groups: Sequence[Sequence[int]]) -> list[list[bool]]:
    free = [[bool(exempt[r][c]) if exempt else False for c in range(cols)] for r in range(rows)]
    for row in free:  # a total is the caller's own only if all its cells are
        row.extend([all(row[c] for c in g) for g in groups] + [all(row)])
    free.append([all(free[r][c] for r in range(rows)) for c in range(len(free[0]))])
    return free


def _show(value: int, state: int) -> Count:
    if state == _PRIMARY:
        return SUPPRESSED
    return COMPLEMENT if state == _SECONDARY else value


Cell = tuple[int, int]


def _secondary(grid: list[list[int]], state: list[list[int]], rows: int, cols: int,
               groups: Sequence[Sequence[int]], keep: set[Cell]) -> None:
    moves = _Moves(rows, cols, groups)
    for _round in range(len(grid) * len(grid[0]) + 1):
        exposed = [(r, c) for r in range(len(grid)) for c in range(len(grid[0]))
                   if state[r][c] == _PRIMARY and not moves.witness((r, c), grid, state)]
        if not exposed:
            return
        if not moves.open_cheapest(exposed[0], grid, state, keep) and \
                not moves.open_cheapest(exposed[0], grid, state, set()):
            break
    # No move can protect it (cannot happen with the moves above, but never publish a leak).
    for r in range(len(grid)):
        for c in range(len(grid[0])):
            if state[r][c] == _PUBLIC and grid[r][c] > 0:
                state[r][c] = _PRIMARY if grid[r][c] < THRESHOLD else _SECONDARY


class _Moves:
    """The moves of one person that keep every published total of the table unchanged."""

    def __init__(self, rows: int, cols: int, groups: Sequence[Sequence[int]]) -> None:
        self.rows, self.cols = rows, cols
        self.total_col = cols + len(groups)
        self.group_of = {c: cols + k for k, g in enumerate(groups) for c in g}
        # Row patterns: column -> +1/-1, every line inside the row balanced.
        self.patterns: list[dict[int, int]] = []
        for c1 in range(cols):
            for c2 in range(cols):
                if c1 != c2:
                    self.patterns.append(self._row_pattern({c1: 1, c2: -1}))
            self.patterns.append(self._row_pattern({c1: 1}))

    def _row_pattern(self, inner: dict[int, int]) -> dict[int, int]:
        pattern = dict(inner)
        for c, sign in inner.items():
            if c in self.group_of:
                g = self.group_of[c]
                pattern[g] = pattern.get(g, 0) + sign
        change = sum(inner.values())
        if change:
            pattern[self.total_col] = change
        return {c: v for c, v in pattern.items() if v}

    def candidates(self, cell: Cell) -> Iterator[dict[Cell, int]]:
        """Every move that changes ``cell``: a row pattern in the cell's row and the opposite
        in another row, or the same in the totals row (``rows``), which holds the columns'
        totals. Lazily: a witness is usually found among the first few."""
        r, c = cell
        for pattern in self.patterns:
            if c not in pattern:
                continue
            here = {(r, k): v for k, v in pattern.items()}
            for other in range(self.rows + 1):
                if other == r:
                    continue
                sign = 1 if self.rows in (r, other) else -1
                move = dict(here)
                move.update({(other, k): sign * v for k, v in pattern.items()})
                yield move

    @staticmethod
    def _fits(move: dict[Cell, int], grid: list[list[int]], states: dict[Cell, int]) -> bool:
        for step in (1, -1):
            ok = True
            for (r, c), v in move.items():
                low, high = _bounds(grid[r][c], states[(r, c)])
                if states[(r, c)] == _PUBLIC or not low <= grid[r][c] + step * v <= high:
                    ok = False
                    break
            if ok:
                return True
        return False

    def witness(self, cell: Cell, grid: list[list[int]], state: list[list[int]]) -> bool:
        for move in self.candidates(cell):
            if all(state[r][c] != _PUBLIC for r, c in move) and self._fits(
                    move, grid, {k: state[k[0]][k[1]] for k in move}):
                return True
        return False

    def open_cheapest(self, cell: Cell, grid: list[list[int]], state: list[list[int]],
                      keep: set[Cell]) -> bool:
        """Withhold the published cells of the cheapest move that would protect ``cell``."""
        best: tuple[tuple[int, int, int], list[Cell]] | None = None
        for move in self.candidates(cell):
            opened = [k for k in move if state[k[0]][k[1]] == _PUBLIC]
            if any(grid[r][c] == 0 or (r, c) in keep for r, c in opened):
                continue  # a zero withheld would protect nothing
            states = {k: state[k[0]][k[1]] for k in move}
            for r, c in opened:
                states[(r, c)] = _PRIMARY if grid[r][c] < THRESHOLD else _SECONDARY
            if not self._fits(move, grid, states):
                continue
            # Totals are what readers look at first: withhold inner cells rather than totals.
            totals = sum(r == self.rows or c >= self.cols for r, c in opened)
            cost = (totals, len(opened), sum(grid[r][c] for r, c in opened))
            if best is None or cost < best[0]:
                best = (cost, opened)
        if best is None or not best[1]:
            return False
        for r, c in best[1]:
            state[r][c] = _PRIMARY if grid[r][c] < THRESHOLD else _SECONDARY
        return True


def _bounds(value: int, state: int) -> tuple[float, float]:
    """What a reader knows of a value: exact, 1..4, or 5 and more."""
    if state == _PUBLIC:
        return value, value
    if state == _PRIMARY:
        return 1, THRESHOLD - 1
    return THRESHOLD, math.inf


