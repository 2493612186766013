"""``havens assistance``: 3W activities, measurements, standards, indicators, gaps and
commitments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from havens.assistance import (
    activities,
    activity_import,
    commitments,
    gaps,
    indicators,
    service,
)
from havens.assistance.models import ActivityStatus, CommitmentState, Sector
from havens.assistance.schemas import (
    ActivityCreate,
    AttestIn,
    MeasurementsIn,
    OverrideIn,
)
from havens.assistance.standards import metrics, standards
from havens.cli.common import console, err_console, handle_errors, operator, unit_of_work
from havens.exceptions import ValidationFailed

app = typer.Typer(help="Services against the standards: 3W, measurements, indicators, gaps, "
                       "commitments.", no_args_is_help=True)
activities_app = typer.Typer(help="3W activities: who does what where.", no_args_is_help=True)
standards_app = typer.Typer(help="The minimum standards and the cluster's overrides.",
                            no_args_is_help=True)
commitments_app = typer.Typer(help="Commitments of the agreements in force.",
                              no_args_is_help=True)
app.add_typer(activities_app, name="activities")
app.add_typer(standards_app, name="standards")
app.add_typer(commitments_app, name="commitments")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _date(text: str | None) -> dt.date:
    if not text:
        return _today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{text!r} is not a date (YYYY-MM-DD).", field="on") from None


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


STATUS_STYLE = {"met": "green", "not_met": "red", "unknown": "yellow", "kept": "green",
                "partly_kept": "yellow", "broken": "red", "pending": "dim", "waived": "blue"}


def _styled(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


# --- activities ------------------------------------------------------------------------------

@activities_app.command("list")
@handle_errors
def list_activities(
    zone: str | None = typer.Option(None, "--zone", help="zone code"),
    sector: Sector | None = typer.Option(None, "--sector"),
    org: str | None = typer.Option(None, "--org", help="implementing or funding acronym"),
    on: str | None = typer.Option(None, "--on", help="running on this date (YYYY-MM-DD)"),
) -> None:
    """3W activities, newest first."""
    with unit_of_work() as db:
        found = activities.list_activities(db, actor=operator(), zone=zone, sector=sector,
                                           organisation=org, on=_date(on) if on else None)
        codes = activities.zone_codes(db)
        rows = [activities.read(a, codes) for a in found]
    table = Table("id", "zone", "sector", "activity", "by", "funded by", "from", "to",
                  "quantity", "reached", "status")
    for r in rows:
        table.add_row(str(r.id), r.zone_code, r.sector.value, r.activity_label,
                      r.implementing_org, r.funding_org or "-", str(r.start_date),
                      str(r.end_date or "-"),
                      f"{_num(r.quantity)} {r.unit or ''}".strip(),
                      _num(r.reached["total"]), r.status.value)
    console.print(table if rows else "no activities")


@activities_app.command("add")
@handle_errors
def add_activity(
    org: str = typer.Option(..., "--org", help="implementing organisation (acronym)"),
    sector: Sector = typer.Option(..., "--sector"),
    activity_type: str = typer.Option(..., "--type", help="code or label, see `standards`"),
    zone: str = typer.Option(..., "--zone"),
    start: str = typer.Option(..., "--start", help="YYYY-MM-DD"),
    end: str | None = typer.Option(None, "--end"),
    funder: str | None = typer.Option(None, "--funder", help="acronym or donor name"),
    site: str | None = typer.Option(None, "--site"),
    quantity: float | None = typer.Option(None, "--quantity"),
    unit: str | None = typer.Option(None, "--unit"),
    reached: int | None = typer.Option(None, "--reached", help="people reached (total)"),
    girls: int | None = typer.Option(None, "--girls"),
    boys: int | None = typer.Option(None, "--boys"),
    women: int | None = typer.Option(None, "--women"),
    men: int | None = typer.Option(None, "--men"),
    status: ActivityStatus = typer.Option(ActivityStatus.ongoing, "--status"),
) -> None:
    """Record one activity."""
    split = {"total": reached, "girls": girls, "boys": boys, "women": women, "men": men}
    data = ActivityCreate.model_validate({
        "implementing_org": org, "funding_org": funder, "sector": sector,
        "activity_type": activity_type, "zone": zone, "site": site,
        "start_date": _date(start), "end_date": _date(end) if end else None,
        "quantity": quantity, "unit": unit,
        "reached": {k: v for k, v in split.items() if v is not None}, "status": status},
        strict=False)
    with unit_of_work() as db:
        activity = activities.create(db, actor=operator(), data=data)
        activity_id = activity.id
    console.print(f"activity {activity_id} recorded")


@activities_app.command("import")
@handle_errors
def import_activities(path: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                  help="CSV or XLSX, plain or HXL")) -> None:
    """Import a 3W sheet: every row, or none when a row has errors."""
    try:
        with unit_of_work() as db:
            report = activity_import.import_activities(db, actor=operator(),
                                                       data=path.read_bytes(),
                                                       filename=path.name)
    except ValidationFailed as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        if details.get("errors"):
            table = Table("row", "column", "problem", title=exc.message)
            for e in details["errors"]:
                table.add_row(str(e["row"]), e["column"] or "-", e["reason"])
            err_console.print(table)
            raise typer.Exit(2) from exc
        raise
    if report.already_imported:
        console.print(f"{path.name} was imported before: nothing to do")
        return
    console.print(f"{report.created} activities imported from {report.rows} rows")
    if report.ignored_columns:
        console.print(f"ignored columns: {', '.join(report.ignored_columns)}")


# --- measurements ----------------------------------------------------------------------------

@app.command("measure")
@handle_errors
def measure(
    zone: str = typer.Argument(..., help="zone code"),
    values: list[str] = typer.Argument(..., help="metric=value ..., e.g. toilets_functional=180"),
    on: str | None = typer.Option(None, "--on", help="day measured (default today)"),
    source: str | None = typer.Option(None, "--source", help="survey, monitoring round..."),
) -> None:
    """Record facility counts and measurements of a zone (`metrics` lists the names)."""
    parsed: dict[str, float] = {}
    for item in values:
        name, sep, text = item.partition("=")
        try:
            parsed[name.strip()] = float(text.replace(",", ""))
        except ValueError:
            raise ValidationFailed(f"{item!r}: write metric=number.", field="values") from None
        if not sep:
            raise ValidationFailed(f"{item!r}: write metric=number.", field="values")
    data = MeasurementsIn(zone=zone, measured_on=_date(on), values=parsed, source=source)
    with unit_of_work() as db:
        rows = service.record_measurements(db, actor=operator(), data=data)
    console.print(f"{len(rows)} measurement(s) of {zone.upper()} on {data.measured_on} recorded")


@app.command("metrics")
def list_metrics() -> None:
    """The metrics that can be measured."""
    table = Table("metric", "unit", "sector", "what")
    for code, spec in metrics().items():
        table.add_row(code, spec["unit"], spec["sector"], spec["label"])
    console.print(table)


# --- indicators and gaps ---------------------------------------------------------------------

@app.command("indicators")
@handle_errors
def show_indicators(
    zone: str | None = typer.Argument(None, help="zone code (default: every zone)"),
    on: str | None = typer.Option(None, "--on"),
) -> None:
    """Every standard per zone on a date: value, threshold, met / not met / unknown."""
    day = _date(on)
    with unit_of_work() as db:
        if zone:
            found = [indicators.zone_indicators(db, actor=operator(),
                                                zone_id=service.find_zone(db, zone).id, on=day)]
        else:
            found = indicators.all_indicators(db, actor=operator(), on=day)
    for facts, results in found:
        population = (f"{facts.population:,} people ({facts.population_source})"
                      if facts.population else "no population")
        table = Table("standard", "value", "threshold", "status", "gap / why",
                      title=f"{facts.zone_code} {facts.zone_name} on {day} — {population}")
        for r in results:
            table.add_row(r.name, f"{_num(r.value)} {r.unit}",
                          f"{r.direction} {_num(r.threshold)}"
                          + ("*" if r.threshold_source != "handbook" else ""),
                          _styled(r.status), r.reason)
        console.print(table)
    console.print("* threshold adapted (override or first phase of an emergency)")


@app.command("gaps")
@handle_errors
def show_gaps(on: str | None = typer.Option(None, "--on"),
              sector: Sector | None = typer.Option(None, "--sector")) -> None:
    """Unmet standards across zones, the largest share of need missing first."""
    with unit_of_work() as db:
        ranked = gaps.gaps(db, actor=operator(), on=_date(on),
                           sector=sector.value if sector else None)
    table = Table("#", "zone", "sector", "standard", "value", "gap", "missing")
    for g in ranked:
        table.add_row(str(g.rank), g.zone_code, g.sector, g.name,
                      f"{_num(g.value)} {g.unit}", g.text, f"{g.share_missing:.0%}")
    console.print(table if ranked else "no gaps")


# --- standards -------------------------------------------------------------------------------

@standards_app.command("list")
def list_standards() -> None:
    """The standards, their source and threshold."""
    table = Table("code", "standard", "threshold", "source")
    for s in standards().values():
        phases = "".join(f" ({p}: {_num(v)})" for p, v in s.phase_thresholds.items())
        table.add_row(s.code, s.name, f"{s.direction} {_num(s.threshold)} {s.unit}{phases}",
                      s.citation)
    console.print(table)


@standards_app.command("override")
@handle_errors
def override(
    code: str = typer.Argument(..., help="standard code"),
    threshold: float | None = typer.Option(None, "--threshold",
                                           help="new threshold; omit to restore the handbook"),
    reason: str = typer.Option(..., "--reason", help="why (shown beside every result)"),
    zone: str | None = typer.Option(None, "--zone", help="one zone (default: all zones)"),
    phase: str | None = typer.Option(None, "--phase", help="emergency or stabilised"),
    valid_from: str | None = typer.Option(None, "--from", help="YYYY-MM-DD (default today)"),
) -> None:
    """Adapt a threshold for the cluster (or one zone), with the reason recorded."""
    data = OverrideIn.model_validate({"standard": code, "threshold": threshold,
                                      "reason": reason, "zone": zone, "phase": phase,
                                      "valid_from": _date(valid_from)}, strict=False)
    with unit_of_work() as db:
        service.set_override(db, actor=operator(), data=data)
    console.print(f"{code}: threshold {'restored' if threshold is None else threshold} "
                  f"for {zone or 'all zones'} from {data.valid_from}")


# --- commitments -----------------------------------------------------------------------------

@commitments_app.command("list")
@handle_errors
def list_commitments(zone: str | None = typer.Option(None, "--zone"),
                     on: str | None = typer.Option(None, "--on")) -> None:
    """Status of each commitment of the agreements in force."""
    day = _date(on)
    with unit_of_work() as db:
        zone_id = service.find_zone(db, zone).id if zone else None
        rows = commitments.statuses(db, actor=operator(), on=day, zone_id=zone_id)
    table = Table("zone", "agreement", "ref", "party", "commitment", "due", "status", "why",
                  "since")
    for r in rows:
        table.add_row(r.zone_code, str(r.agreement_id), r.ref, r.party, r.what,
                      str(r.due_date or "-"), _styled(r.status.value), r.reason,
                      str(r.since or "-"))
    console.print(table if rows else "no agreement in force")


@commitments_app.command("refresh")
@handle_errors
def refresh(on: str | None = typer.Option(None, "--on")) -> None:
    """Record the commitments whose status changed (history + audit)."""
    with unit_of_work() as db:
        changed = commitments.refresh(db, actor=operator(), on=_date(on))
    for r in changed:
        console.print(f"{r.zone_code} {r.ref} ({r.party}): {_styled(r.status.value)} — "
                      f"{r.reason}")
    console.print(f"{len(changed)} status change(s) recorded")


@commitments_app.command("attest")
@handle_errors
def attest(
    agreement_id: int = typer.Argument(...), ref: str = typer.Argument(...),
    status: CommitmentState = typer.Option(..., "--status"),
    evidence: str = typer.Option(..., "--evidence", help="what shows it"),
    url: str | None = typer.Option(None, "--url", help="link to the evidence"),
    on: str | None = typer.Option(None, "--on"),
) -> None:
    """Attest a commitment's status with evidence (or waive it)."""
    data = AttestIn.model_validate({"status": status, "evidence": evidence,
                                    "evidence_url": url, "effective_on": _date(on)},
                                   strict=False)
    with unit_of_work() as db:
        commitments.attest(db, actor=operator(), agreement_id=agreement_id, ref=ref, data=data)
    console.print(f"{ref}: {status.value} from {data.effective_on}")


@commitments_app.command("compliance")
@handle_errors
def compliance(on: str | None = typer.Option(None, "--on")) -> None:
    """Per party: commitments kept, partly kept, broken, pending, waived."""
    with unit_of_work() as db:
        report = commitments.compliance(db, actor=operator(), on=_date(on))
    table = Table("party", *[s.value for s in CommitmentState], "broken since")
    for party in report:
        broken = [f"{c.zone_code} {c.ref} ({c.since or '?'})" for c in party.commitments
                  if c.status == CommitmentState.broken]
        table.add_row(party.party, *[str(party.counts[s.value]) for s in CommitmentState],
                      ", ".join(broken) or "-")
    console.print(table if report else "no agreement in force")
