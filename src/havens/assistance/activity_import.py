"""Import of a 3W sheet (CSV or XLSX, plain headers or HXL hashtags), all or nothing.

Columns are recognised by their HXL hashtag (in the header row or the row under it) or by their
header; see :data:`HXL` and :data:`HEADERS`. Where the activity is: a zone code (``zone``,
``#loc+code`` when not a site code), a site code (``site``, ``#loc+code`` of the CP+6 digits
form) or the zone's English or Arabic name (``#loc+name``); ``#adm1+code`` when given must be the
governorate of that zone. Every problem is reported with its row number (as a spreadsheet shows
it), the column's header and the reason; if there is any, nothing is saved. The same file
imported twice (same bytes) is recognised and not imported again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.assistance.activities import Lookups, build
from havens.assistance.models import Activity, ActivityStatus, Sector
from havens.assistance.schemas import ActivityCreate, ImportErrorRow, ImportReport
from havens.audit import service as audit
from havens.exceptions import HavensError, ValidationFailed
from havens.orgs.permissions import Principal, require
from havens.people.tabular import Table, read_tables

#: (hashtag, attributes it must have, canonical column); the most specific match wins.
HXL: tuple[tuple[str, frozenset[str], str], ...] = (
    ("#org", frozenset(), "implementing_org"),
    ("#org", frozenset({"impl"}), "implementing_org"),
    ("#org", frozenset({"funder"}), "funding_org"),
    ("#org", frozenset({"donor"}), "funding_org"),
    ("#sector", frozenset(), "sector"),
    ("#activity", frozenset(), "activity_type"),
    ("#adm1", frozenset({"code"}), "admin1_pcode"),
    ("#loc", frozenset({"name"}), "location"),
    ("#loc", frozenset({"code"}), "location_code"),
    ("#reached", frozenset(), "reached_total"),
    ("#reached", frozenset({"ind"}), "reached_total"),
    ("#reached", frozenset({"f", "children"}), "girls"),
    ("#reached", frozenset({"m", "children"}), "boys"),
    ("#reached", frozenset({"f", "adults"}), "women"),
    ("#reached", frozenset({"m", "adults"}), "men"),
    ("#reached", frozenset({"f", "elderly"}), "older_women"),
    ("#reached", frozenset({"m", "elderly"}), "older_men"),
    ("#date", frozenset({"start"}), "start_date"),
    ("#date", frozenset({"end"}), "end_date"),
    ("#output", frozenset(), "quantity"),
    ("#output", frozenset({"num"}), "quantity"),
    ("#output", frozenset({"unit"}), "unit"),
    ("#status", frozenset(), "status"),
    ("#description", frozenset(), "notes"),
    ("#meta", frozenset({"notes"}), "notes"),
)

HEADERS: dict[str, str] = {
    **{h: "implementing_org" for h in ("implementing_org", "implementing_organisation",
                                       "implementing_organization", "organisation",
                                       "organization", "org", "partner", "implementing_partner")},
    **{h: "funding_org" for h in ("funding_org", "funding_organisation", "donor", "funder")},
    **{h: "sector" for h in ("sector", "cluster")},
    **{h: "activity_type" for h in ("activity_type", "activity", "type")},
    **{h: "zone" for h in ("zone", "zone_code", "safe_zone")},
    **{h: "site" for h in ("site", "site_code", "camp_code")},
    **{h: "admin1_pcode" for h in ("admin1_pcode", "adm1_pcode", "admin1", "governorate_pcode")},
    **{h: "location" for h in ("location", "location_name", "zone_name")},
    **{h: "start_date" for h in ("start_date", "start", "date_start", "from")},
    **{h: "end_date" for h in ("end_date", "end", "date_end", "to")},
    **{h: "quantity" for h in ("quantity", "qty", "output")},
    "unit": "unit",
    **{h: "reached_total" for h in ("reached_total", "reached", "people_reached",
                                    "beneficiaries", "individuals_reached")},
    **{h: h for h in ("girls", "boys", "women", "men", "older_women", "older_men")},
    "elderly_women": "older_women", "elderly_men": "older_men",
    "status": "status",
    **{h: "notes" for h in ("notes", "comments", "remarks", "description")},
}

SECTORS: dict[str, Sector] = {
    **{k: Sector.wash for k in ("wash", "water, sanitation and hygiene",
                                "water sanitation hygiene")},
    **{k: Sector.shelter for k in ("shelter", "shelter/nfi", "shelter and nfi", "snfi", "nfi")},
    **{k: Sector.food_security for k in ("food security", "food_security", "fsl", "fsa",
                                         "food security and agriculture", "food")},
    "health": Sector.health,
    **{k: Sector.education for k in ("education", "edu")},
    **{k: Sector.protection for k in ("protection", "child protection", "gbv",
                                      "gender-based violence")},
    **{k: Sector.site_management for k in ("site management", "site_management", "cccm",
                                           "camp management", "camp coordination and camp "
                                           "management")},
}

STATUSES: dict[str, ActivityStatus] = {
    **{s.value: s for s in ActivityStatus},
    "in progress": ActivityStatus.ongoing, "active": ActivityStatus.ongoing,
    "done": ActivityStatus.completed, "complete": ActivityStatus.completed,
    "finished": ActivityStatus.completed, "canceled": ActivityStatus.cancelled,
    "planning": ActivityStatus.planned,
}

_SITE_CODE = re.compile(r"^CP\d{6}$", re.IGNORECASE)
_INTEGERS = ("reached_total", "girls", "boys", "women", "men", "older_women", "older_men")


class RowError(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def _hxl_column(tagspec: str) -> str | None:
    parts = [p.strip().lower() for p in tagspec.replace(" ", "").split("+")]
    tag, attributes = parts[0], frozenset(parts[1:])
    best: tuple[int, str] | None = None
    for want_tag, want, column in HXL:
        if tag == want_tag and want <= attributes and (best is None or len(want) > best[0]):
            best = (len(want), column)
    return best[1] if best else None


def map_columns(table: Table) -> tuple[dict[int, str], list[str]]:
    """Column index -> canonical name, and the headers that were not recognised."""
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(table.headers):
        tag = table.hxl[index] if table.hxl and index < len(table.hxl) else ""
        name = _hxl_column(tag) if tag else None
        if name is None:
            name = HEADERS.get(re.sub(r"[\s\-]+", "_", (header or "").strip().lower()))
        if name is None or name in columns.values():
            if header or tag:
                ignored.append(header or tag)
            continue
        columns[index] = name
    return columns, ignored


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: Any, column: str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text[:10], pattern).date()
        except ValueError:
            continue
    raise RowError(column, f"{text!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def _number(value: Any, column: str, *, integer: bool) -> float | int | None:
    text = _text(value).replace(",", "").replace(" ", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise RowError(column, f"{_text(value)!r} is not a number") from None
    if number < 0:
        raise RowError(column, "must be 0 or more")
    if integer:
        if not number.is_integer():
            raise RowError(column, f"{_text(value)} is not a whole number of people")
        return int(number)
    return number


def _zone_ref(row: dict[str, Any], lookups: Lookups, header: dict[str, str]) -> tuple[str, str]:
    """(zone code, site code or "") of a row."""
    site_code = _text(row.get("site"))
    zone_code = _text(row.get("zone"))
    code = _text(row.get("location_code"))
    if code:
        if _SITE_CODE.match(code):
            site_code = site_code or code
        else:
            zone_code = zone_code or code
    if site_code and not zone_code:
        site = lookups.sites.get(site_code.upper())
        if site is None or site.zone_id is None:
            raise RowError(header.get("site") or header.get("location_code"),
                           f"site {site_code} is not in any zone")
        zone_code = next(z.code for z in lookups.zones.values() if z.id == site.zone_id)
    name = _text(row.get("location"))
    if not zone_code and name:
        wanted = name.casefold()
        found = [z for z in lookups.zones.values()
                 if wanted in (z.name_en.casefold(), (z.name_ar or "").casefold(),
                               z.code.casefold())]
        if not found:
            raise RowError(header.get("location"), f"no zone is called {name!r}")
        zone_code = found[0].code
    if not zone_code:
        raise RowError(None, "no zone: give a zone code, a site code or the zone's name")
    return zone_code, site_code


def _row_to_create(row: dict[str, Any], lookups: Lookups, header: dict[str, str]
                   ) -> ActivityCreate:
    def need(name: str) -> str:
        text = _text(row.get(name))
        if not text:
            raise RowError(header.get(name, name), "is required")
        return text

    sector_text = need("sector")
    sector = SECTORS.get(sector_text.lower())
    if sector is None:
        raise RowError(header.get("sector"), f"unknown sector {sector_text!r}")
    zone_code, site_code = _zone_ref(row, lookups, header)
    adm1 = _text(row.get("admin1_pcode")).upper()
    if adm1:
        zone = lookups.zone(zone_code)
        if not any(p.upper().startswith(adm1) for p in zone.admin_pcodes or []):
            raise RowError(header.get("admin1_pcode"),
                           f"zone {zone.code} is not in governorate {adm1}")
    start = _date(row.get("start_date"), header.get("start_date", "start_date"))
    if start is None:
        raise RowError(header.get("start_date", "start_date"), "is required")
    reached = {k if k != "reached_total" else "total":
               _number(row.get(k), header.get(k, k), integer=True) for k in _INTEGERS}
    status_text = _text(row.get("status")).lower()
    status = STATUSES.get(status_text) if status_text else ActivityStatus.ongoing
    if status is None:
        raise RowError(header.get("status"), f"unknown status {status_text!r}")
    return ActivityCreate.model_validate({
        "implementing_org": need("implementing_org"),
        "funding_org": _text(row.get("funding_org")) or None,
        "sector": sector, "activity_type": need("activity_type"), "zone": zone_code,
        "site": site_code or None, "start_date": start,
        "end_date": _date(row.get("end_date"), header.get("end_date", "end_date")),
        "quantity": _number(row.get("quantity"), header.get("quantity", "quantity"),
                            integer=False),
        "unit": _text(row.get("unit")) or None,
        "reached": {k: v for k, v in reached.items() if v is not None},
        "status": status, "notes": _text(row.get("notes")) or None}, strict=False)


def import_activities(db: Session, *, actor: Principal, data: bytes, filename: str
                      ) -> ImportReport:
    """Import every row or none: raises ValidationFailed with the row errors as details."""
    require(actor, "assistance.write")
    fingerprint = hashlib.sha256(data).hexdigest()
    table = read_tables(data, filename)[0]
    columns, ignored = map_columns(table)
    header = {name: (table.headers[i] or (table.hxl[i] if table.hxl else name))
              for i, name in columns.items()}
    mapping = {header[name]: name for name in columns.values()}
    rows = [(table.first_row_number + n, raw) for n, raw in enumerate(table.rows)
            if any(_text(c) for c in raw)]
    if db.scalar(select(Activity.id).where(Activity.import_fingerprint == fingerprint)):
        return ImportReport(rows=len(rows), created=0, errors=[], columns=mapping,
                            ignored_columns=ignored, already_imported=True)
    missing = {"implementing_org", "sector", "activity_type", "start_date"} - set(
        columns.values())
    if missing:
        raise ValidationFailed(f"The file has no column for: {', '.join(sorted(missing))}.",
                               field="file", details={"columns": mapping, "ignored": ignored})
    lookups = Lookups.load(db)
    errors: list[ImportErrorRow] = []
    built: list[Activity] = []
    for number, raw in rows:
        row = {name: raw[i] if i < len(raw) else None for i, name in columns.items()}
        try:
            activity = build(actor, _row_to_create(row, lookups, header), lookups)
        except RowError as exc:
            errors.append(ImportErrorRow(row=number, column=exc.column, reason=exc.reason))
            continue
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else None
            errors.append(ImportErrorRow(row=number, column=header.get(name or "", name),
                                         reason=first["msg"]))
            continue
        except HavensError as exc:
            name = {"reached": "reached_total", "zone": "location_code"}.get(
                exc.field or "", exc.field or "")
            errors.append(ImportErrorRow(row=number, column=header.get(name) or header.get(
                exc.field or "") or exc.field, reason=exc.message))
            continue
        activity.import_fingerprint = fingerprint
        built.append(activity)
    report = ImportReport(rows=len(rows), created=0, errors=errors, columns=mapping,
                          ignored_columns=ignored)
    if errors:
        raise ValidationFailed(
            f"{len(errors)} row(s) of {filename} have errors; nothing was imported.",
            field="file", details=report.model_dump())
    db.add_all(built)
    db.flush()
    report.created = len(built)
    audit.record(db, actor=actor, action="assistance.activity.import", object_type="activity",
                 detail={"file": filename, "sha256": fingerprint, "rows": len(rows),
                         "created": len(built)})
    return report
