"""The terminal reviewer: decide candidate pairs one by one, most instructive first.

Each pair is shown side by side (rich table) with every field coloured by how the two records
agree — green: same, yellow: similar, red: different, grey: missing on a side — with the
progress (n of N) and the current model's estimated F1 (its cross-validated F1, or "unsupervised").
Keys: ``c`` confirm (merge), ``r`` reject, ``s`` skip, ``b`` back (to the previous pair; a
decision taken on it in this session is undone so it can be decided again), ``q`` quit.

Each decision is its own transaction (``unit_of_work``), so quitting — or a closed terminal —
keeps every decision taken. Keys come from a callable: single key presses on a terminal,
lines of standard input otherwise (scripts and tests).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from havens.linkage import learned
from havens.linkage.models import Decision, IndividualMerge
from havens.linkage.schemas import CandidateDetail, PairRecord
from havens.orgs.permissions import Principal

KEYS = "[c]onfirm  [r]eject  [s]kip  [b]ack  [q]uit"
#: Shown fields: (label, attribute of PairRecord, the comparison giving its colour).
ROWS: list[tuple[str, str, str]] = [
    ("given name", "given_name_ar", "given"), ("", "given_name_en", "given"),
    ("father's name", "father_name_ar", "father"), ("", "father_name_en", "father"),
    ("grandfather's name", "grandfather_name_ar", "grandfather"),
    ("", "grandfather_name_en", "grandfather"),
    ("family name", "family_name_ar", "family"), ("", "family_name_en", "family"),
    ("sex", "sex", "sex"), ("date of birth", "date_of_birth", "dob"),
    ("origin P-code", "origin_pcode", "origin"), ("phone", "has_phone", "phone"),
    ("document", "has_document", "document"),
]


@dataclass
class Tally:
    confirmed: int = 0
    rejected: int = 0
    skipped: int = 0
    undone: int = 0
    #: pair id -> what this session did (confirmed / rejected), for "back".
    decided: dict[int, str] = field(default_factory=dict)


def key_reader(stream: TextIO | None = None) -> Callable[[], str]:
    """Single key presses on a terminal; one line per key otherwise ("" at the end = quit)."""
    stdin = stream or sys.stdin
    if stdin.isatty():
        import click

        return lambda: click.getchar().strip().lower()

    def read_line() -> str:
        line = stdin.readline()
        return line.strip().lower()[:1] if line else "q"

    return read_line


def _style(level: int, top: int) -> str:
    if level < 0:
        return "dim"
    if level >= top:
        return "green"
    return "red" if level == 0 else "yellow"


def _value(record: PairRecord, attr: str) -> str:
    value = getattr(record, attr)
    if attr == "date_of_birth" and value is None:
        return f"{record.birth_year} (year only)"
    if isinstance(value, bool):
        return "on file" if value else "—"
    return "" if value is None else str(value)


def render(detail: CandidateDetail, *, position: int, total: int, estimate: str) -> Table:
    """The pair side by side, each row coloured by its field's agreement."""
    levels = {a.field: (a.level, a.label) for a in detail.agreement}
    tops = {"sex": 1, "phone": 1, "document": 2, "dob": 5, "origin": 4}
    table = Table(title=f"Pair {position} of {total} · p = {detail.pair.match_probability:.3f} · "
                  f"model {detail.pair.model_version} · {estimate}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column(f"#{detail.left.individual_id} {detail.left.organisation} "
                     f"{detail.left.site_code}")
    table.add_column(f"#{detail.right.individual_id} {detail.right.organisation} "
                     f"{detail.right.site_code}")
    table.add_column("agreement")
    for label, attr, comparison in ROWS:
        left, right = _value(detail.left, attr), _value(detail.right, attr)
        if not left and not right:
            continue
        level, text = levels.get(comparison, (-1, "missing"))
        style = _style(level, tops.get(comparison, 3))
        table.add_row(label, Text(left, style=style), Text(right, style=style),
                      Text(text if label or attr == "sex" else "", style=style))
    table.caption = KEYS
    return table


def estimate() -> str:
    """The current scorer and its estimated F1."""
    model = learned.promoted()
    if model is None or model.estimated_f1 is None:
        return (f"unsupervised model (learned after {learned.MIN_PER_CLASS} matches and "
                f"{learned.MIN_PER_CLASS} non-matches)")
    return f"{model.tag}: estimated F1 {model.estimated_f1:.3f} ({model.labels} labels)"


def run(*, actor: Callable[[object], Principal], read_key: Callable[[], str],
        console: Console, order: str = "active") -> Tally:
    """Review the pending pairs of ``actor``'s scope until they are done or ``q``."""
    from havens.cli.common import unit_of_work
    from havens.linkage import review, service

    with unit_of_work() as db:
        who = actor(db)
        ids: list[int] = []
        page = 1
        while True:
            found = service.list_candidates(db, actor=who, order=order, page=page,
                                            page_size=200)
            ids += [p.id for p in found.items]
            if len(ids) >= found.total or not found.items:
                break
            page += 1
    tally = Tally()
    total, i, note = len(ids), 0, ""
    model_estimate = estimate()
    if not ids:
        console.print("No pairs to review.")
        return tally
    while 0 <= i < total:
        pair_id = ids[i]
        with unit_of_work() as db:
            who = actor(db)
            detail = service.candidate_detail(db, actor=who, pair_id=pair_id)
        if detail.pair.decision != Decision.pending and pair_id not in tally.decided:
            i += 1  # decided meanwhile (e.g. superseded by a merge): nothing to do
            continue
        console.print(render(detail, position=i + 1, total=total, estimate=model_estimate))
        if note:
            console.print(note)
            note = ""
        key = read_key()
        if key == "q":
            break
        if key == "s":
            tally.skipped += 1
            i += 1
            continue
        if key == "b":
            i = max(i - 1, 0)
            previous = ids[i]
            if previous in tally.decided:
                what = tally.decided.pop(previous)
                with unit_of_work() as db:
                    _undo(db, actor(db), previous, what)
                tally.undone += 1
                if what == "confirmed":
                    tally.confirmed -= 1
                else:
                    tally.rejected -= 1
                note = "[yellow]Decision undone: decide again.[/yellow]"
            continue
        if key not in ("c", "r"):
            note = f"[red]Unknown key '{key}'.[/red] {KEYS}"
            continue
        if detail.pair.decision != Decision.pending:
            note = "[yellow]Already decided: press b to take it back first.[/yellow]"
            i += 1
            continue
        with unit_of_work() as db:
            who = actor(db)
            if key == "c":
                review.confirm(db, actor=who, pair_id=pair_id)
                tally.confirmed += 1
                tally.decided[pair_id] = "confirmed"
            else:
                review.reject(db, actor=who, pair_id=pair_id)
                tally.rejected += 1
                tally.decided[pair_id] = "rejected"
        i += 1
    return tally


def _undo(db: object, who: Principal, pair_id: int, what: str) -> None:
    from sqlalchemy.orm import Session

    from havens.linkage import review

    assert isinstance(db, Session)
    if what == "rejected":
        review.reopen(db, actor=who, pair_id=pair_id)
        return
    merge_id = db.scalar(select(IndividualMerge.id).where(
        IndividualMerge.pair_id == pair_id, IndividualMerge.unmerged_at.is_(None)))
    if merge_id is not None:
        review.unmerge(db, actor=who, merge_id=merge_id)
