"""``havens report``: situation reports as PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from havens.cli.common import console, err_console, handle_errors, operator, unit_of_work

app = typer.Typer(help="Reports.", no_args_is_help=True)


@app.command("sitrep")
@handle_errors
def sitrep(
    out: Path = typer.Option(Path("sitrep.pdf"), "--out", "-o", help="PDF file to write"),
    zone: str | None = typer.Option(None, "--zone", help="Zone code (default: all zones)"),
    lang: str = typer.Option("en", "--lang", help="en or ar"),
    on: str | None = typer.Option(None, "--on", help="Report date, YYYY-MM-DD (today)"),
) -> None:
    """Write the situation report of a zone, or of all zones, as a PDF (1 to 4 A4 pages)."""
    from havens.interop import sitrep as sitrep_module

    try:
        day = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError:
        err_console.print(f"[bold red]error [on]:[/] {on}: use YYYY-MM-DD.")
        raise typer.Exit(2) from None
    with console.status("Writing the situation report…"), unit_of_work() as db:
        pdf = sitrep_module.render_pdf(db, actor=operator(), zone=zone, lang=lang, on=day)
    out.write_bytes(pdf)
    console.print(f"Wrote {out} ({len(pdf):,} bytes).", highlight=False)
