"""``havens returns``: assess origin areas, import intention surveys, record returns, report.

Intentions and returns are personal data of the registering organisation: act as one of its
users (``--as EMAIL``) or, as the operator, name it (``--org ACRONYM``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from havens.cli.common import console, err_console, handle_errors, unit_of_work
from havens.cli.incidents import acting_user
from havens.exceptions import HavensError, ValidationFailed
from havens.returns import intentions, movements, reports, service
from havens.returns.criteria import Criterion, parse_rating
from havens.returns.models import ReturnKind, TransportSupport
from havens.returns.schemas import (
    AreaStatusRead,
    AssessmentCreate,
    ConsentIn,
    CriterionIn,
    ReturnCreate,
)
from havens.zones import service as zone_service

app = typer.Typer(help="Home areas, return intentions and voluntary returns.",
                  no_args_is_help=True)
intentions_app = typer.Typer(help="Return intention surveys.", no_args_is_help=True)
app.add_typer(intentions_app, name="intentions")

AS_USER = typer.Option(None, "--as", help="Act as this user (email)")
ORG = typer.Option(None, "--org", help="Organisation (acronym) when the operator acts "
                                       "without --as")
_STYLE = {"not_conducive": "bold red", "partly_conducive": "yellow", "conducive": "green",
          "not_assessed": "dim"}


def _date(text: str | None, field: str) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{text!r} is not a date (YYYY-MM-DD).", field=field) from None


def _pairs(items: list[str] | None, field: str) -> dict[Criterion, str]:
    result: dict[Criterion, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in Criterion.__members__:
            raise ValidationFailed(f"{item!r}: write CRITERION=VALUE with a criterion of "
                                   f"{', '.join(Criterion)}.", field=field)
        result[Criterion(key.strip())] = value.strip()
    return result


def _print_status(status: AreaStatusRead) -> None:
    style = _STYLE.get(status.status, "")
    console.print(f"{status.pcode} {status.area_name_en}: [{style}]{status.status}[/]"
                  f"{' — ' + status.status_reason if status.status_reason else ''}",
                  highlight=False)
    for change in status.history:
        mark = "*" if change.changed else " "
        console.print(f"  {mark} {change.assessed_on} {change.status.value} "
                      f"({change.organisation}, assessment {change.assessment_id})",
                      highlight=False)


@app.command("assess")
@handle_errors
def assess(
    pcode: str = typer.Argument(..., help="admin3 P-code of the origin area"),
    rate: list[str] | None = typer.Option(
        None, "--rate", help="CRITERION=RATING (not_met, partly_met, met, unknown); repeat"),
    note: list[str] | None = typer.Option(None, "--note", help="CRITERION=TEXT; repeat"),
    on: str | None = typer.Option(None, "--on", help="assessment date (default today)"),
    notes: str | None = typer.Option(None, "--notes", help="general notes"),
    as_user: str | None = AS_USER, org: str | None = ORG,
) -> None:
    """Record an assessment of the eight IASC durable-solutions criteria in an area."""
    ratings = _pairs(rate, "rate")
    texts = _pairs(note, "note")
    criteria = []
    for criterion in Criterion:
        if criterion not in ratings and criterion not in texts:
            continue
        rating = parse_rating(ratings.get(criterion, "unknown"))
        if rating is None:
            raise ValidationFailed(f"{ratings[criterion]!r} is not a rating of "
                                   f"{criterion.value}.", field="rate")
        criteria.append(CriterionIn(criterion=criterion, rating=rating,
                                    notes=texts.get(criterion)))
    data = AssessmentCreate(pcode=pcode, assessed_on=_date(on, "on"), criteria=criteria,
                            notes=notes, organisation=org)
    with unit_of_work() as db:
        actor = acting_user(db, as_user)
        assessment = service.create_assessment(db, actor=actor, data=data)
        console.print(f"Assessment {assessment.id} of {assessment.pcode} "
                      f"{assessment.area_name_en} on {assessment.assessed_on}:")
        table = Table("criterion", "rating", "notes")
        for item in assessment.criteria:
            table.add_row(item.label_en, item.rating.value, item.notes or "")
        console.print(table)
        _print_status(service.area_status_read(db, actor=actor, pcode=assessment.pcode))


@intentions_app.command("import")
@handle_errors
def import_intentions(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="CSV or XLSX, e.g. a KoboToolbox export"),
    as_user: str | None = AS_USER, org: str | None = ORG,
) -> None:
    """Import return intention answers: every row or none."""
    try:
        with unit_of_work() as db:
            result = intentions.import_intentions(
                db, actor=acting_user(db, as_user), data=file.read_bytes(), filename=file.name,
                organisation=org)
    except ValidationFailed as exc:
        if exc.details:
            table = Table("row", "column", "problem")
            for problem in exc.details:
                table.add_row(str(problem["row"]), problem["column"] or "", problem["reason"])
            err_console.print(table)
        raise
    console.print(f"{result.created} answer(s) imported from {result.rows} row(s); "
                  f"{result.skipped_existing} imported before.")


@app.command("return")
@handle_errors
def record_return(
    registration_number: str = typer.Argument(..., help="the household's registration number"),
    kind: ReturnKind = typer.Option(..., "--kind", help="facilitated or spontaneous"),
    voluntary: bool = typer.Option(False, "--voluntary",
                                   help="confirm the household decided freely (required)"),
    facilitated_by: str | None = typer.Option(None, "--by", help="organising agency (acronym)"),
    destination: str | None = typer.Option(None, "--destination",
                                           help="admin3 P-code (default: the origin)"),
    on: str | None = typer.Option(None, "--on", help="return date (default today)"),
    informed_by: str | None = typer.Option(None, "--informed-by", help="name and role"),
    informed_on: str | None = typer.Option(None, "--informed-on", help="YYYY-MM-DD"),
    informed_of: list[str] | None = typer.Option(
        None, "--informed-of", help=f"repeat; of: {', '.join(movements.INFORMED_OF)}"),
    given_by: str = typer.Option("head", "--consent-by", help="who consented"),
    transport: TransportSupport = typer.Option(TransportSupport.none, "--transport"),
    transport_details: str | None = typer.Option(None, "--transport-details"),
    override_reason: str | None = typer.Option(
        None, "--override-reason", help="coordinators: why a refused return goes ahead"),
    as_user: str | None = AS_USER, org: str | None = ORG,
) -> None:
    """Record a household's voluntary return to its origin area."""
    if not voluntary:
        raise ValidationFailed("Confirm that the return is voluntary (--voluntary).",
                               field="voluntary")
    returned_on = _date(on, "on")
    consent = None
    if informed_by:
        consent = ConsentIn(informed_by=informed_by,
                            informed_on=_date(informed_on, "informed-on"),
                            informed_of=list(informed_of or []), given_by=given_by)
    data = ReturnCreate(registration_number=registration_number, kind=kind,
                        facilitated_by=facilitated_by, destination_pcode=destination,
                        returned_on=returned_on, voluntary=True, consent=consent,
                        transport_support=transport, transport_details=transport_details,
                        override_reason=override_reason)
    refused: HavensError | None = None
    with unit_of_work() as db:
        try:
            movement = movements.record_return(db, actor=acting_user(db, as_user), data=data,
                                               organisation=org)
        except HavensError as exc:
            if not getattr(exc, "keep_writes", False):
                raise
            refused = exc  # committed: the refusal stays in the audit log
        else:
            console.print(f"Return {movement.id} recorded: household {registration_number} "
                          f"→ {movement.destination_pcode} on {movement.returned_on} "
                          f"({movement.kind.value}; area {movement.area_status}"
                          f"{'; overridden' if movement.overridden else ''}).",
                          highlight=False)
    if refused is not None:
        raise refused


@app.command("report")
@handle_errors
def report(
    area: str | None = typer.Option(None, "--area", help="origin admin3 P-code"),
    zone: str | None = typer.Option(None, "--zone", help="zone code: departures by destination"),
    as_user: str | None = AS_USER,
) -> None:
    """Report on an origin area (displaced, intentions, returns, status) or a zone."""
    if bool(area) == bool(zone):
        raise ValidationFailed("Give --area or --zone.", field="area")
    with unit_of_work() as db:
        actor = acting_user(db, as_user)
        if area:
            result = reports.origin_report(db, actor=actor, pcode=area)
            console.print(f"[bold]{result.pcode} {result.area_name_en}[/]"
                          f"{' (counts under 5 hidden)' if result.suppressed else ''}")
            table = Table("zone", "households", "individuals", title="Displaced, present")
            for row in result.displaced:
                table.add_row(row.zone_code or "(outside zones)", str(row.households),
                              str(row.individuals))
            table.add_row("total", str(result.displaced_total.households),
                          str(result.displaced_total.individuals))
            console.print(table)
            console.print("Intentions (latest answer per household): " + ", ".join(
                f"{k} {v}" for k, v in result.intentions.items()), highlight=False)
            if result.preconditions:
                console.print("Preconditions: " + ", ".join(
                    f"{k} {v}" for k, v in result.preconditions.items()), highlight=False)
            months = Table("month", "facilitated", "spontaneous", "individuals",
                           title="Returns")
            for month in result.returns_by_month:
                months.add_row(month.month, str(month.facilitated), str(month.spontaneous),
                               str(month.individuals))
            console.print(months)
            _print_status(result.status)
        else:
            assert zone is not None
            found = zone_service.get_zone_by_code(db, actor=actor, code=zone)
            departures = reports.zone_departures(db, actor=actor, zone_id=found.id)
            table = Table("destination", "households", "individuals",
                          title=f"Departures from {departures.zone_code}")
            for departure in departures.departures:
                table.add_row(departure.destination_type, str(departure.households),
                              str(departure.individuals))
            console.print(table)
            for area_row in departures.returns_by_area:
                console.print(f"  returns to {area_row.pcode}: {area_row.households} "
                              f"household(s), {area_row.individuals} people", highlight=False)
