"""``havens sites``: list, show and import sites (CCCM site lists)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from havens.cli.common import console, err_console, handle_errors, operator, unit_of_work
from havens.exceptions import ValidationFailed
from havens.zones import site_import, sites
from havens.zones.models import SiteType
from havens.zones.site_columns import RowProblem, SiteImportReport

app = typer.Typer(help="Sites where displaced people live: list, show, import.",
                  no_args_is_help=True)

#: Problems printed before "... and N more" (errors matter more than warnings).
_MAX_LISTED = {"error": 50, "warning": 10}


@app.command("list")
@handle_errors
def list_sites(
    zone: str | None = typer.Option(None, "--zone", help="zone code"),
    admin: str | None = typer.Option(None, "--admin", help="admin P-code (any level)"),
    site_type: SiteType | None = typer.Option(None, "--type"),
    outside: bool = typer.Option(False, "--outside", help="only sites outside every zone"),
    search: str | None = typer.Option(None, "--search", help="code or name contains"),
) -> None:
    """Sites with type, admin area, zone and capacity."""
    with unit_of_work() as db:
        found = sites.list_sites(db, actor=operator(), zone_code=zone, admin_pcode=admin,
                                 site_type=site_type, outside_zone=True if outside else None,
                                 search=search)
        reads = sites.to_reads(db, found)
    table = Table("code", "name", "type", "admin3", "zone", "capacity")
    for read in reads:
        table.add_row(read.code, read.name_en, read.site_type.value, read.admin3_pcode or "-",
                      read.zone_code or "[yellow]outside zones[/]",
                      f"{read.capacity:,}" if read.capacity is not None else "-")
    console.print(table if reads else "no sites")
    if reads:
        console.print(f"{len(reads)} site(s)")


@app.command("show")
@handle_errors
def show(code: str = typer.Argument(..., help="site code, e.g. CP000457")) -> None:
    """One site with its reported population."""
    actor = operator()
    with unit_of_work() as db:
        site = sites.get_site_by_code(db, actor=actor, code=code)
        read = sites.to_read(db, site)
        reports = list(sites.list_population(db, actor=actor, site_id=site.id))
    agency = read.managing_org or read.managing_agency or "-"
    lines = [
        f"[bold]{read.code}[/]  {read.name_en}" + (f" / {read.name_ar}" if read.name_ar else ""),
        f"type        {read.site_type.value}   status {read.status.value}",
        f"location    {read.lat:.6f}, {read.lon:.6f}"
        + (" (estimated: centre of its admin area)" if read.location_estimated else ""),
        f"admin       {read.admin1_pcode or '-'} / {read.admin2_pcode or '-'} / "
        f"{read.admin3_pcode or '-'}   community {read.community_pcode or '-'}",
        f"zone        {read.zone_code or 'outside every zone'}",
        f"managed by  {agency}",
        f"capacity    {read.capacity if read.capacity is not None else 'unknown'}",
    ]
    for line in lines:
        console.print(line, highlight=False)
    for report in reports:
        console.print(
            f"reported {report.reported_on}: {report.individuals:,} people (girls "
            f"{report.girls}, boys {report.boys}, women {report.women}, men {report.men}), "
            f"families {report.families if report.families is not None else '-'}",
            highlight=False)


@app.command("import")
@handle_errors
def import_sites(
    path: Path = typer.Argument(..., help=".xlsx or .csv site list"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check only, write nothing"),
    skip_invalid: bool = typer.Option(False, "--skip-invalid",
                                      help="import the good rows, leave out the bad ones"),
    reported_on: str | None = typer.Option(
        None, "--reported-on", help="date of the population figures (YYYY-MM-DD)"),
    sheet: str | None = typer.Option(None, "--sheet", help="sheet of an .xlsx workbook"),
) -> None:
    """Import a CCCM/DTM site list: XLSX or CSV, HXL-tagged or not; updates sites by code."""
    date = _date(reported_on)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task("reading", total=None)

        def step(phase: str, done: int, total: int) -> None:
            progress.update(task, description=phase, completed=done, total=total)

        try:
            with unit_of_work() as db:
                report = site_import.import_sites(
                    db, actor=operator(), path=path, dry_run=dry_run, skip_invalid=skip_invalid,
                    reported_on=date, sheet=sheet, on_progress=step)
        except ValidationFailed as exc:
            if exc.details:
                progress.stop()
                _problems("error", [RowProblem(**d) for d in exc.details])
            raise
    _summary(report)


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(f"{text!r} is not a date (YYYY-MM-DD).",
                               field="reported_on") from exc


def _problems(kind: str, problems: list[RowProblem]) -> None:
    colour = "red" if kind == "error" else "yellow"
    limit = _MAX_LISTED[kind]
    for problem in problems[:limit]:
        where = f"row {problem.row}" if problem.row else "file"
        column = f", {problem.column}" if problem.column else ""
        err_console.print(f"[{colour}]{kind}[/] {where}{column}: {problem.message}",
                          highlight=False)
    if len(problems) > limit:
        err_console.print(f"... and {len(problems) - limit} more {kind}s", highlight=False)


def _summary(report: SiteImportReport) -> None:
    _problems("error", report.errors)
    _problems("warning", report.warnings)
    source = report.file + (f", sheet {report.sheet}" if report.sheet else "") + (
        f", {report.encoding}" if report.encoding else "") + (", HXL" if report.hxl else "")
    console.print(f"{source}: {report.rows} rows", highlight=False)
    verb = "would be" if report.dry_run else "were"
    left_out = f"; {len(report.skipped_rows)} bad row(s) left out" if report.skipped_rows else ""
    console.print(f"sites: {len(report.created)} {verb} created, {len(report.updated)} {verb} "
                  f"updated, {report.unchanged} unchanged{left_out}", highlight=False)
    console.print(f"reported population records {'to write' if report.dry_run else 'written'}: "
                  f"{report.population_written}", highlight=False)
    if report.dry_run:
        console.print("dry run: nothing was written", highlight=False)
