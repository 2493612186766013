"""``havens export NAME --format csv|xlsx|geojson --out FILE``: write one export to a file."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from havens.cli.common import console, err_console, handle_errors, operator, unit_of_work
from havens.interop import registry
from havens.interop.output import produce


@handle_errors
def run(
    name: str = typer.Argument("", help="The export's name; --list shows them"),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, xlsx or geojson"),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write (default: "
                                    "havens-NAME-DATE.FORMAT)"),
    zone: str | None = typer.Option(None, "--zone", help="Only this zone"),
    on: str | None = typer.Option(None, "--on", help="Reference date, YYYY-MM-DD (today)"),
    start: str | None = typer.Option(None, "--start", help="Period start, YYYY-MM-DD"),
    end: str | None = typer.Option(None, "--end", help="Period end, YYYY-MM-DD"),
    purpose: str | None = typer.Option(None, "--purpose",
                                       help="Why personal data is exported (recorded)"),
    list_: bool = typer.Option(False, "--list", help="List the exports and exit"),
) -> None:
    """Write an export (CSV with HXL hashtags, XLSX or GeoJSON) to a file."""
    if list_ or not name:
        _list()
        return
    fmt = fmt.lower()
    if fmt not in registry.FORMATS:
        err_console.print(f"[bold red]error [format]:[/] {fmt}: use csv, xlsx or geojson.")
        raise typer.Exit(2)
    export = registry.get(name)
    params = registry.Params(zone=zone, on=_date(on, "on") or dt.date.today(),
                             start=_date(start, "start"), end=_date(end, "end"),
                             purpose=purpose)
    actor = operator()
    target = out or Path(f"havens-{name}-{params.on.isoformat()}.{fmt}")
    partial = target.with_name(target.name + ".part")
    written = 0
    with unit_of_work() as db:
        registry.prepare(db, actor=actor, export=export, params=params, fmt=fmt)
        total = export.count(db, actor, params) if export.count else None
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                      transient=True) as progress:
            task = progress.add_task(f"{name} → {target.name}", total=total)
            step = 0

            def advance() -> None:
                nonlocal step, written
                written += 1
                step += 1
                if step == 500:  # refreshing per row would cost more than writing it
                    progress.advance(task, step)
                    step = 0

            try:
                with partial.open("wb") as handle:
                    for chunk in produce(export, fmt, db=db, actor=actor, params=params,
                                         on_row=advance):
                        handle.write(chunk)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            progress.advance(task, step)
    kind = "features" if fmt == "geojson" else "rows"
    console.print(f"Wrote {written:,} {kind} of {name} to {target} "
                  f"({target.stat().st_size:,} bytes).", highlight=False)


def _list() -> None:
    table = Table("name", "formats", "title")
    for export in registry.exports().values():
        table.add_row(export.name, ", ".join(export.formats),
                      export.title + (" [personal data: --purpose]" if export.personal else ""))
    console.print(table)


def _date(text: str | None, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err_console.print(f"[bold red]error [{field}]:[/] {text}: use YYYY-MM-DD.")
        raise typer.Exit(2) from None
