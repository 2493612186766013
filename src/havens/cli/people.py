"""``havens people``: register, look up, move and import displaced households.

Personal data is shown only to users of the registering organisation, so commands that read it
act as a named user (``--as EMAIL``), whose access is checked and audited as on the web. Commands
that only write (import, register) may also be run by the operator for an organisation
(``--org ACRONYM``); the audit log then names the operator.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from havens.cli.changes import CHANGES_FILE, SET, changes_from
from havens.cli.common import console, err_console, handle_errors, operator, unit_of_work
from havens.exceptions import NotFound, ValidationFailed
from havens.orgs.permissions import Principal
from havens.people import importing, keys, service
from havens.people.models import DestinationType
from havens.people.schemas import (
    DepartRequest,
    HouseholdCreate,
    HouseholdRead,
    HouseholdUpdate,
    ImportReport,
    IndividualUpdate,
    MoveRequest,
)

app = typer.Typer(help="Displaced households and individuals: registration and import.",
                  no_args_is_help=True)

AS_USER = typer.Option(None, "--as", help="Act as this user (email); needed to see personal "
                                          "data")
ORG = typer.Option(None, "--org", help="Registering organisation (acronym) when the operator "
                                       "acts without --as")


def _actor(db: object, email: str | None) -> Principal:
    if not email:
        return operator()
    from havens.orgs import service as org_service

    user = org_service.get_user_by_email(db, email=email)  # type: ignore[arg-type]
    if user is None or not user.is_active:
        raise NotFound(f"No active user {email}.", field="as")
    return org_service.principal_for(user)


def _print_household(household: HouseholdRead) -> None:
    console.print(f"[bold]{household.registration_number}[/] · site {household.site_code} · "
                  f"{household.organisation} · {household.status.value} · arrived "
                  f"{household.arrival_date} · origin {household.origin_pcode or '-'} "
                  f"{household.origin_locality or ''}", highlight=False)
    table = Table("id", "relationship", "name (Arabic)", "name (Latin)", "sex", "born",
                  "needs", "phone", "document")
    for m in household.members:
        born = str(m.birth_year) + " (est.)" if m.dob_estimated else str(m.date_of_birth)
        table.add_row(
            str(m.id), m.relationship.value,
            " ".join(p for p in (m.given_name_ar, m.father_name_ar, m.grandfather_name_ar,
                                 m.family_name_ar) if p),
            " ".join(p for p in (m.given_name_en, m.father_name_en, m.grandfather_name_en,
                                 m.family_name_en) if p),
            m.sex.value, born, ";".join(m.specific_needs), m.phone or "",
            f"{m.document_type.value}: {m.document_number}" if m.document_type else "")
    console.print(table)


@app.command("register")
@handle_errors
def register(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="JSON: a household with its members (as the API takes)"),
    as_user: str | None = AS_USER, org: str | None = ORG,
) -> None:
    """Register one household with its members."""
    try:
        data = HouseholdCreate.model_validate_json(file.read_bytes())
    except ValueError as exc:
        raise ValidationFailed(f"{file.name}: {str(exc).splitlines()[0]}", field="file") from exc
    with unit_of_work() as db:
        household = service.register_household(db, actor=_actor(db, as_user), data=data,
                                                organisation=org)
        console.print(f"registered {household.registration_number} "
                      f"({len(household.members)} members)")


@app.command("show")
@handle_errors
def show(registration_number: str, as_user: str = typer.Option(..., "--as")) -> None:
    """Show a household and its members (audited)."""
    with unit_of_work() as db:
        _print_household(service.get_by_registration_number(
            db, actor=_actor(db, as_user), registration_number=registration_number))


@app.command("search")
@handle_errors
def search(
    query: str | None = typer.Argument(None, help="Name (Arabic or Latin) or registration "
                                                  "number"),
    phone: str | None = typer.Option(None), document: str | None = typer.Option(None),
    site: str | None = typer.Option(None), page: int = typer.Option(1, min=1),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Search the households of your organisation (audited)."""
    with unit_of_work() as db:
        result = service.search(db, actor=_actor(db, as_user), query=query, phone=phone,
                                document_number=document, site_code=site, page=page)
        for household in result.items:
            _print_household(household)
        console.print(f"{result.total} household(s); page {result.page}")


@app.command("move")
@handle_errors
def move(registration_number: str, to: str = typer.Option(..., help="Site code"),
         on: str = typer.Option(dt.date.today().isoformat(), help="Date (YYYY-MM-DD)"),
         details: str | None = typer.Option(None), as_user: str = typer.Option(..., "--as"),
         ) -> None:
    """Relocate a household to another site."""
    with unit_of_work() as db:
        actor = _actor(db, as_user)
        hid = service.household_id_for(db, actor=actor, registration_number=registration_number)
        household = service.move_household(db, actor=actor, household_id=hid, data=MoveRequest(
            to_site_code=to, moved_on=dt.date.fromisoformat(on), details=details))
        console.print(f"{household.registration_number} moved to {household.site_code}")


@app.command("depart")
@handle_errors
def depart(registration_number: str,
           destination: DestinationType = typer.Option(..., help="Where the household went"),
           on: str = typer.Option(dt.date.today().isoformat(), help="Date (YYYY-MM-DD)"),
           to_site: str | None = typer.Option(None), pcode: str | None = typer.Option(None),
           country: str | None = typer.Option(None, help="ISO alpha-3, for abroad"),
           details: str | None = typer.Option(None), as_user: str = typer.Option(..., "--as"),
           ) -> None:
    """Record a household's departure and its destination."""
    with unit_of_work() as db:
        actor = _actor(db, as_user)
        hid = service.household_id_for(db, actor=actor, registration_number=registration_number)
        household = service.depart_household(db, actor=actor, household_id=hid, data=(
            DepartRequest(destination_type=destination, moved_on=dt.date.fromisoformat(on),
                          to_site_code=to_site, destination_pcode=pcode,
                          destination_country=country, details=details)))
        console.print(f"{household.registration_number}: {household.status.value}")


@app.command("update")
@handle_errors
def update(registration_number: str, as_user: str = typer.Option(..., "--as"),
           sets: list[str] = SET, file: Path | None = CHANGES_FILE) -> None:
    """Change a household's fields (origin, displacement date, shelter, consent)."""
    data = changes_from(HouseholdUpdate, sets, file)
    with unit_of_work() as db:
        actor = _actor(db, as_user)
        hid = service.household_id_for(db, actor=actor, registration_number=registration_number)
        household = service.update_household(db, actor=actor, household_id=hid, data=data)
        console.print(f"{household.registration_number} updated: "
                      + ", ".join(sorted(data.model_fields_set)), highlight=False)


@app.command("update-member")
@handle_errors
def update_member(individual_id: int, as_user: str = typer.Option(..., "--as"),
                  sets: list[str] = SET, file: Path | None = CHANGES_FILE) -> None:
    """Change an individual's fields (names, relationship, sex, birth, needs, phone,
    document); the id is the one `havens people show` lists."""
    data = changes_from(IndividualUpdate, sets, file)
    with unit_of_work() as db:
        person = service.update_individual(db, actor=_actor(db, as_user),
                                           individual_id=individual_id, data=data)
        console.print(f"individual {person.id} updated: "
                      + ", ".join(sorted(data.model_fields_set)), highlight=False)


def _print_report(report: ImportReport) -> None:
    if report.already_imported:
        console.print(f"{report.filename} was imported before (same fingerprint): nothing "
                      "to do.")
        return
    if report.problems:
        table = Table("row", "column", "reason", title=f"{len(report.problems)} problem(s)")
        for problem in report.problems[:200]:
            table.add_row(str(problem.row), problem.column, problem.reason)
        console.print(table)
        if len(report.problems) > 200:
            console.print(f"… and {len(report.problems) - 200} more (use --json)")
    if report.ignored_columns:
        console.print("ignored columns: " + ", ".join(report.ignored_columns), highlight=False)
    if report.written:
        console.print(f"imported {report.individuals_created} individuals in "
                      f"{report.households_created} new households"
                      + (f"; {report.rows_already_present} rows were already imported"
                         if report.rows_already_present else "")
                      + (f"; skipped rows: {', '.join(map(str, report.skipped_rows))}"
                         if report.skipped_rows else ""))
    else:
        console.print(f"nothing written: {len(report.problems)} problem(s) in "
                      f"{report.rows - report.valid_rows} row(s) of {report.rows}"
                      " (fix them, or use --skip-invalid)")


@app.command("import")
@handle_errors
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="CSV, XLSX, or an ODK Central/Briefcase CSV .zip"),
    site: str | None = typer.Option(None, help="Site code for rows without site_code"),
    org: str | None = ORG, as_user: str | None = AS_USER,
    skip_invalid: bool = typer.Option(False, help="Import the valid rows, skip the others"),
    mapping: Path | None = typer.Option(None, exists=True, dir_okay=False,
                                        help="JSON: file header -> canonical column"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
    consent_recorded: bool = typer.Option(
        False, help="The registration form recorded every household's consent (for a file "
                    "without a consent column, or blank consent cells); audited"),
) -> None:
    """Import a registration file (all rows checked first; one transaction)."""
    data = file.read_bytes()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=as_json) as progress:
        tasks: dict[str, TaskID] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage.capitalize(), total=total)
                if stage == "writing":  # a line that tests and log readers can wait for
                    err_console.print(f"writing {total} rows", highlight=False)
                    err_console.file.flush()
            progress.update(tasks[stage], completed=done, total=total)

        with unit_of_work() as db:
            report = importing.import_file(
                db, actor=_actor(db, as_user), data=data, filename=file.name, site_code=site,
                organisation=org, mapping=mapping.read_bytes() if mapping else None,
                skip_invalid=skip_invalid, on_progress=on_progress,
                consent_recorded=consent_recorded)
            if report.written:
                progress.update(tasks["writing"], description="Committing")
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        _print_report(report)
    if report.problems and not report.written:
        raise typer.Exit(1)


@app.command("template")
def template(hxl: bool = typer.Option(False, help="Add a row of HXL hashtags")) -> None:
    """Write the import template (canonical columns) as CSV to standard output."""
    from havens.people.records import COLUMNS, HXL_TAGS

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(list(COLUMNS))
    if hxl:
        tags = {column: tag + "".join(f"+{a}" for a in sorted(attrs))
                for tag, attrs, column in HXL_TAGS}
        writer.writerow([tags.get(column, "") for column in COLUMNS])


@app.command("columns")
def columns() -> None:
    """Describe the import columns."""
    from havens.people.records import COLUMNS

    table = Table("column", "content")
    for name, description in COLUMNS.items():
        table.add_row(name, description)
    console.print(table)


@app.command("xlsform")
@handle_errors
def xlsform(output: Path | None = typer.Option(None, "--output", "-o")) -> None:
    """Write the registration XLSForm (KoboToolbox/ODK) to a file or standard output."""
    from havens.people.xlsform import build_xlsform

    data = build_xlsform()
    if output:
        output.write_bytes(data)
        console.print(f"wrote {output}")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@app.command("rotate-keys")
@handle_errors
def rotate_keys() -> None:
    """Re-encrypt phone and document numbers under the newest key of HAVENS_FIELD_KEYS."""
    with unit_of_work() as db:
        count = keys.rotate_keys(db, actor=operator())
        console.print(f"re-encrypted {count} individual(s)")


@app.command("occupancy")
@handle_errors
def occupancy(zone: str = typer.Argument(..., help="Zone code"),
              as_user: str | None = AS_USER) -> None:
    """Present population of a zone by site, sex and age group."""
    from sqlalchemy import select

    from havens.people import occupancy as occ
    from havens.zones.models import Zone

    with unit_of_work() as db:
        zone_id = db.scalar(select(Zone.id).where(Zone.code == zone))
        if zone_id is None:
            raise NotFound(f"No zone {zone}.", field="zone")
        result = occ.zone_occupancy(db, actor=_actor(db, as_user), zone_id=zone_id)
        groups = [g for g, _l, _h in occ.AGE_GROUPS]
        table = Table("site", "households", "individuals",
                      *[f"F {g}" for g in groups], *[f"M {g}" for g in groups], "capacity use")
        rows = [(s.site_code, s.population, s.capacity_use) for s in result.sites]
        rows.append(("total", result.population, result.capacity_use))
        for code, pop, use in rows:
            table.add_row(code, str(pop.households), str(pop.individuals),
                          *[str(pop.by_sex_age["F"][g]) for g in groups],
                          *[str(pop.by_sex_age["M"][g]) for g in groups],
                          "" if use is None else f"{use:.0%}")
        console.print(table)


@app.command("subject-report")
@handle_errors
def subject_report(
    registration_number: str,
    as_user: str = typer.Option(..., "--as", help="A user of the registering organisation "
                                                  "with personal-data rights"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write JSON here (else stdout)"),
) -> None:
    """Everything held on one household and who accessed it (subject access; audited)."""

    from havens.people import subject_access

    with unit_of_work() as db:
        result = subject_access.report(db, actor=_actor(db, as_user),
                                       registration_number=registration_number)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if out is None:
        sys.stdout.write(text + "\n")
        return
    # The report holds personal data: readable by its owner only.
    out.touch(mode=0o600, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    err_console.print(f"wrote {out} ({len(result['accesses'])} access(es) listed)")
