"""``havens incidents``: report, list and import security incidents; zone safety.

Sensitive incidents (gender-based violence, child protection, and those marked sensitive) are
shown in full only to protection officers of the reporting organisation: act as one with
``--as EMAIL``. Everyone else, the operator included, sees them only as counts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from havens.cli.common import console, err_console, handle_errors, operator, unit_of_work
from havens.exceptions import NotFound, ValidationFailed
from havens.orgs.permissions import Principal
from havens.safety import importing, service
from havens.safety.incident_types import SEVERITY, parse_type
from havens.safety.schemas import Casualties, CasualtyCounts, IncidentCreate
from havens.zones import service as zone_service

app = typer.Typer(help="Security incidents in and near the zones, and zone safety.",
                  no_args_is_help=True)

AS_USER = typer.Option(None, "--as", help="Act as this user (email)")
ORG = typer.Option(None, "--org", help="Reporting organisation (acronym) when the operator "
                                       "acts without --as")
_STATUS_STYLE = {"safe": "green", "at_risk": "yellow", "unsafe": "bold red"}


def acting_user(db: Session, email: str | None) -> Principal:
    """The operator, or the named active user (whose rights then apply)."""
    if not email:
        return operator()
    from havens.orgs import service as org_service

    user = org_service.get_user_by_email(db, email=email)
    if user is None or not user.is_active:
        raise NotFound(f"No active user {email}.", field="as")
    return org_service.principal_for(user)


def _moment(text: str, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{text!r} is not a date or time (YYYY-MM-DD[THH:MM]).",
                               field=field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@app.command("report")
@handle_errors
def report(
    incident_type: str = typer.Option(..., "--type", help="e.g. shelling, armed_presence, gbv"),
    severity: int = typer.Option(..., "--severity", min=1, max=4,
                                 help="1 minor, 2 moderate, 3 serious, 4 critical"),
    at: str = typer.Option(..., "--at", help="when: YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"),
    zone: str | None = typer.Option(None, "--zone", help="zone code"),
    lon: float | None = typer.Option(None, "--lon"),
    lat: float | None = typer.Option(None, "--lat"),
    pcode: str | None = typer.Option(None, "--pcode", help="admin P-code near a zone"),
    killed: int = typer.Option(0, "--killed", min=0, help="killed (sex/age unknown)"),
    injured: int = typer.Option(0, "--injured", min=0, help="injured (sex/age unknown)"),
    narrative: str = typer.Option("", "--narrative"),
    sensitive: bool | None = typer.Option(None, "--sensitive/--not-sensitive"),
    ref: str | None = typer.Option(None, "--ref", help="your own reference"),
    as_user: str | None = AS_USER, org: str | None = ORG,
) -> None:
    """Report one incident."""
    kind = parse_type(incident_type)
    if kind is None:
        raise ValidationFailed(f"{incident_type!r} is not an incident type.", field="type")
    data = IncidentCreate(
        zone=zone, lon=lon, lat=lat, pcode=pcode, occurred_at=_moment(at, "at"),
        incident_type=kind, severity=severity, narrative=narrative, sensitive=sensitive,
        organisation=org, external_ref=ref,
        casualties=Casualties(killed=CasualtyCounts(unknown=killed),
                              injured=CasualtyCounts(unknown=injured)))
    with unit_of_work() as db:
        actor = acting_user(db, as_user)
        incident = service.create_incident(db, actor=actor, data=data)
        where = "inside" if incident.inside_zone else "near"
        console.print(f"Incident [bold]{incident.id}[/] recorded {where} zone "
                      f"{incident.zone.code}: {kind.value}, severity {severity} "
                      f"({SEVERITY[severity]}){' · sensitive' if incident.sensitive else ''}",
                      highlight=False)
        if incident.breach:
            read = service.to_read(db, incident, actor=actor)
            broken = (f"commitment {read.breach_commitment_ref}: {read.breach_commitment}"
                      if read.breach_commitment_ref else f"security flag {read.breach_flag}")
            console.print(f"[bold red]Breach of the agreement[/] (version "
                          f"{read.breach_agreement_version}): {broken}", highlight=False)


@app.command("list")
@handle_errors
def list_incidents(
    zone: str | None = typer.Option(None, "--zone", help="zone code"),
    since: str | None = typer.Option(None, "--since", help="YYYY-MM-DD"),
    incident_type: list[str] | None = typer.Option(None, "--type"),
    min_severity: int | None = typer.Option(None, "--min-severity", min=1, max=4),
    breaches: bool = typer.Option(False, "--breaches", help="only breaches of an agreement"),
    limit: int = typer.Option(200, "--limit", min=1),
    as_user: str | None = AS_USER,
) -> None:
    """Incidents, newest first (sensitive ones you may not see only as counts)."""
    types = []
    for text in incident_type or []:
        kind = parse_type(text)
        if kind is None:
            raise ValidationFailed(f"{text!r} is not an incident type.", field="type")
        types.append(kind)
    with unit_of_work() as db:
        actor = acting_user(db, as_user)
        zone_id = zone_service.get_zone_by_code(db, actor=actor, code=zone).id if zone else None
        result = service.list_incidents(
            db, actor=actor, zone_id=zone_id, since=_moment(since, "since") if since else None,
            types=types, min_severity=min_severity, breaches_only=breaches, limit=limit)
    table = Table("id", "when (UTC)", "zone", "type", "sev.", "killed", "injured", "org",
                  "breach", "narrative")
    for item in result.items:
        table.add_row(
            str(item.id), item.occurred_at.strftime("%Y-%m-%d %H:%M"),
            item.zone_code + ("" if item.inside_zone else " (near)"), item.incident_type.value,
            str(item.severity), str(item.killed or 0), str(item.injured or 0), item.organisation,
            (item.breach_commitment_ref or item.breach_flag or "yes") if item.breach else "",
            (item.narrative or "")[:60])
    console.print(table)
    if result.restricted:
        console.print("Sensitive incidents you may not see (counts):")
        for count in result.restricted:
            console.print(f"  {count.zone_code} · {count.incident_type.value}: {count.count}",
                          highlight=False)


@app.command("import")
@handle_errors
def import_incidents(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or XLSX"),
    as_user: str | None = AS_USER, org: str | None = ORG,
) -> None:
    """Import an incident list: every row or none."""
    try:
        with unit_of_work() as db:
            actor = acting_user(db, as_user)
            result = importing.import_incidents(db, actor=actor, data=file.read_bytes(),
                                                filename=file.name, organisation=org)
    except ValidationFailed as exc:
        if not exc.details:
            raise
        table = Table("row", "column", "problem")
        for problem in exc.details:
            table.add_row(str(problem["row"]), problem["column"] or "", problem["reason"])
        err_console.print(table)
        raise
    console.print(f"{result.created} incident(s) imported from {result.rows} row(s); "
                  f"{result.skipped_existing} imported before; {result.breaches} breach(es).")


@app.command("safety")
@handle_errors
def safety(at: str | None = typer.Option(None, "--at", help="evaluate at this time (UTC)"),
           as_user: str | None = AS_USER) -> None:
    """The safety status of every zone."""
    with unit_of_work() as db:
        statuses = service.zones_safety(db, actor=acting_user(db, as_user),
                                        now=_moment(at, "at") if at else None)
    table = Table("zone", "status", "why", "breaches (30 d)")
    for item in statuses.values():
        style = _STATUS_STYLE[item.status.value]
        table.add_row(item.zone_code, f"[{style}]{item.status.value}[/]", "; ".join(item.reasons),
                      str(item.breaches_30d))
    console.print(table)
