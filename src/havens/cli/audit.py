from __future__ import annotations

import json

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from havens.audit import service
from havens.cli.common import console, err_console, operator, unit_of_work

app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 1 naming the first broken record."""
    with unit_of_work() as db:
        total = service.count(db)
        with Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(),
                      console=err_console, transient=True) as progress:
            task = progress.add_task("verify", total=total)
            result = service.verify(db, on_record=lambda _r: progress.advance(task))
    if result.ok:
        console.print(f"audit log intact: {result.records} records")
        return
    err_console.print(f"[bold red]audit log broken at record {result.broken_seq}:[/] "
                      f"{result.reason}", highlight=False)
    raise typer.Exit(1)


@app.command("tail")
def tail(limit: int = typer.Option(20, "-n", help="How many records")) -> None:
    """Show the latest audit records."""
    with unit_of_work() as db:
        table = Table("seq", "time (UTC)", "actor", "action", "object", "detail")
        for entry in service.tail(db, actor=operator(), limit=limit):
            table.add_row(str(entry.seq), entry.at.strftime("%Y-%m-%d %H:%M:%S"),
                          entry.actor_label, entry.action,
                          f"{entry.object_type}:{entry.object_id or ''}",
                          json.dumps(entry.detail, ensure_ascii=False)[:80])
        console.print(table)
