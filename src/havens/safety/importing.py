"""Importing incident lists from CSV or XLSX, all or nothing.

One row per incident. Headers are matched without case, spacing or Kobo/ODK group prefixes
(``incident/severity``); the columns (aliases in brackets):

- where: ``zone`` (zone_code), ``lon``/``lat`` (longitude/latitude), ``pcode`` (admin_pcode) —
  at least one;
- ``occurred_at`` (date, incident_date, datetime) and optionally ``time``: ISO dates
  (2026-11-20, 2026-11-20 14:30), day/month/year, or Excel dates; UTC;
- ``type`` (incident_type): a code or label from :mod:`havens.safety.incident_types`;
- ``severity``: 1–4 or minor/moderate/serious/critical;
- casualties: ``killed`` and ``injured`` (counted as sex/age unknown) and/or the detailed
  ``killed_female_child`` … ``injured_male_older``, ``killed_unknown``, ``injured_unknown``;
- ``narrative`` (description), ``sensitive`` (yes/no), ``ref`` (external_ref, incident_id) and,
  for the operator, ``organisation`` (reporting_org).

Every row is checked; if any row is wrong nothing is imported and every problem is reported as
(row, column, reason), the header being row 1. A row whose ``ref`` the organisation imported
before is skipped, so a list can be imported again after it grew.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.exceptions import HavensError, ValidationFailed
from havens.orgs.permissions import Principal, require
from havens.people.records import text_of
from havens.people.tabular import read_tables
from havens.safety import service
from havens.safety.incident_types import CASUALTY_KEYS, SEVERITY, parse_type
from havens.safety.models import SecurityIncident
from havens.safety.schemas import ImportProblem, IncidentCreate, IncidentImportReport

ALIASES: dict[str, str] = {
    "zone_code": "zone", "longitude": "lon", "lng": "lon", "latitude": "lat",
    "admin_pcode": "pcode", "p_code": "pcode", "date": "occurred_at",
    "incident_date": "occurred_at", "datetime": "occurred_at", "date_time": "occurred_at",
    "incident_type": "type", "category": "type", "description": "narrative",
    "details": "narrative", "external_ref": "ref", "incident_id": "ref", "reference": "ref",
    "reporting_org": "organisation", "organization": "organisation", "org": "organisation",
    "total_killed": "killed", "total_injured": "injured", "deaths": "killed",
}
CASUALTY_COLUMNS = tuple(f"{kind}_{key}" for kind in ("killed", "injured")
                         for key in CASUALTY_KEYS)
COLUMNS: frozenset[str] = frozenset({
    "zone", "lon", "lat", "pcode", "occurred_at", "time", "type", "severity", "killed",
    "injured", "narrative", "sensitive", "ref", "organisation", *CASUALTY_COLUMNS})
_YES = {"yes", "y", "true", "1", "نعم", "x"}
_NO = {"no", "n", "false", "0", "لا", ""}
_SEVERITY_WORDS = {label: number for number, label in SEVERITY.items()}


def column_of(header: str) -> str | None:
    key = re.sub(r"\s+", "_", re.split(r"[/:]", header.strip())[-1].strip().lower())
    key = ALIASES.get(key, key)
    return key if key in COLUMNS else None


class RowProblem(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def _number(value: Any, column: str) -> float | None:
    text = text_of(value)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise RowProblem(column, f"{text!r} is not a number") from None


def _count(value: Any, column: str) -> int:
    number = _number(value, column)
    if number is None:
        return 0
    if number < 0 or not number.is_integer():
        raise RowProblem(column, f"{text_of(value)!r} is not a count (0, 1, 2…)")
    return int(number)


def _when(day: Any, time: Any) -> dt.datetime:
    if isinstance(day, dt.datetime):
        moment = day
    else:
        text = text_of(day)
        if not text:
            raise RowProblem("occurred_at", "the date is missing")
        moment = _parse_moment(text)
    time_text = text_of(time)
    if isinstance(time, dt.time):
        moment = dt.datetime.combine(moment.date(), time)
    elif time_text:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", time_text)
        if not match:
            raise RowProblem("time", f"{time_text!r} is not a time (HH:MM)")
        hours, minutes = int(match[1]), int(match[2])
        if hours > 23 or minutes > 59:
            raise RowProblem("time", f"{time_text!r} is not a time (HH:MM)")
        moment = moment.replace(hour=hours, minute=minutes, second=int(match[3] or 0))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _parse_moment(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?", text)
    if match:
        try:
            return dt.datetime(int(match[3]), int(match[2]), int(match[1]),
                               int(match[4] or 0), int(match[5] or 0))
        except ValueError:
            pass
    raise RowProblem("occurred_at", f"{text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def _severity(value: Any) -> int:
    text = text_of(value).lower()
    if text in _SEVERITY_WORDS:
        return _SEVERITY_WORDS[text]
    number = _number(value, "severity")
    if number is None:
        raise RowProblem("severity", "the severity is missing (1–4)")
    if not number.is_integer() or not 1 <= number <= 4:
        raise RowProblem("severity", f"{text!r} is not a severity from 1 to 4")
    return int(number)


def _sensitive(value: Any) -> bool | None:
    text = text_of(value).lower()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise RowProblem("sensitive", f"{text!r} is not yes or no")


def _casualties(row: dict[str, Any]) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for kind in ("killed", "injured"):
        detail = {key: _count(row.get(f"{kind}_{key}"), f"{kind}_{key}")
                  for key in CASUALTY_KEYS}
        total = _count(row.get(kind), kind)
        detailed = sum(detail.values())
        if total and detailed and total != detailed:
            raise RowProblem(kind, f"{kind} is {total} but the detailed columns add up to "
                                   f"{detailed}")
        if total and not detailed:
            detail["unknown"] = total
        result[kind] = detail
    return result


def incident_from_row(row: dict[str, Any], *, organisation: str | None) -> IncidentCreate:
    """The row as an incident to create (problems raised as ``RowProblem``)."""
    kind_text = text_of(row.get("type"))
    kind = parse_type(kind_text)
    if kind is None:
        raise RowProblem("type", f"{kind_text!r} is not an incident type" if kind_text
                         else "the incident type is missing")
    data = {
        "zone": text_of(row.get("zone")) or None,
        "lon": _number(row.get("lon"), "lon"), "lat": _number(row.get("lat"), "lat"),
        "pcode": text_of(row.get("pcode")) or None,
        "occurred_at": _when(row.get("occurred_at"), row.get("time")),
        "incident_type": kind, "severity": _severity(row.get("severity")),
        "casualties": _casualties(row), "narrative": text_of(row.get("narrative")),
        "sensitive": _sensitive(row.get("sensitive")),
        "organisation": text_of(row.get("organisation")) or organisation,
        "external_ref": text_of(row.get("ref")) or None,
    }
    try:
        return IncidentCreate.model_validate(data, strict=False)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = str(error["loc"][0]) if error["loc"] else None
        column = {"incident_type": "type", "external_ref": "ref"}.get(location or "", location)
        raise RowProblem(column, error["msg"].removeprefix("Value error, ")) from None


@dataclass
class _Outcome:
    created: list[SecurityIncident] = field(default_factory=list)
    skipped: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


def import_incidents(db: Session, *, actor: Principal, data: bytes, filename: str,
                     organisation: str | None = None, now: dt.datetime | None = None
                     ) -> IncidentImportReport:
    """Import every row or none: any problem raises ``ValidationFailed`` with all of them in
    ``details`` as ``{"row", "column", "reason"}``."""
    require(actor, "incidents.report")
    table = read_tables(data, filename)[0]
    columns = {i: c for i, h in enumerate(table.headers) if h and (c := column_of(h))}
    if "type" not in columns.values() or "occurred_at" not in columns.values():
        raise ValidationFailed("The file needs at least the columns type, occurred_at (or "
                               "date), severity and a place (zone, lon/lat or pcode).",
                               field="file")
    outcome = _Outcome()
    seen: dict[str, int] = {}
    rows = [(table.first_row_number + n, raw) for n, raw in enumerate(table.rows)
            if any(text_of(c) for c in raw)]
    savepoint = db.begin_nested()
    for number, raw in rows:
        row = {name: raw[i] if i < len(raw) else None for i, name in columns.items()}
        try:
            incident = incident_from_row(row, organisation=organisation)
            ref = incident.external_ref
            if ref:
                if ref in seen:
                    raise RowProblem("ref", f"reference {ref} is also on row {seen[ref]}")
                seen[ref] = number
                if _imported_before(db, actor, incident, ref):
                    outcome.skipped += 1
                    continue
            outcome.created.append(service.create_incident(db, actor=actor, data=incident,
                                                           now=now))
        except RowProblem as problem:
            outcome.problems.append(ImportProblem(row=number, column=problem.column,
                                                  reason=problem.reason))
        except HavensError as exc:
            outcome.problems.append(ImportProblem(row=number, column=_column(exc.field),
                                                  reason=exc.message))
    if outcome.problems:
        savepoint.rollback()
        raise ValidationFailed(
            f"{len(outcome.problems)} problem(s) in {filename}: nothing was imported.",
            field="file", details=[p.model_dump() for p in outcome.problems])
    savepoint.commit()
    return IncidentImportReport(
        rows=len(rows), created=len(outcome.created), skipped_existing=outcome.skipped,
        breaches=sum(i.breach for i in outcome.created),
        incident_ids=[i.id for i in outcome.created])


def _column(field_name: str | None) -> str | None:
    return {"incident_type": "type", "external_ref": "ref", "code": "zone"}.get(
        field_name or "", field_name)


def _imported_before(db: Session, actor: Principal, incident: IncidentCreate, ref: str) -> bool:
    organisation_id = actor.organisation_id
    if organisation_id is None:
        from havens.orgs import service as org_service

        org = org_service.get_organisation_by_acronym(
            db, acronym=incident.organisation or "", missing_ok=True)
        if org is None:
            return False
        organisation_id = org.id
    return db.scalar(select(SecurityIncident.id).where(
        SecurityIncident.organisation_id == organisation_id,
        SecurityIncident.external_ref == ref)) is not None
