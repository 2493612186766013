"""Import of CCCM/DTM-style site lists (``havens sites import FILE``).

Every row is checked before anything is written: a bad row is reported by its row number and
column, and nothing is written unless ``skip_invalid`` is asked for (then the bad rows are
left out). Sites are matched by code (rows without a code by name and point), so importing the
same file again changes nothing. A row without coordinates is kept, placed at the centroid of
its admin area and flagged ``location_estimated`` (the ISIMM list has 22 such sites).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import ValidationFailed
from havens.orgs.permissions import Principal, require
from havens.zones.models import ReportedPopulation, Site
from havens.zones.placement import ZoneIndex
from havens.zones.site_columns import (
    POPULATION_FIELDS,
    RowProblem,
    SiteImportReport,
    map_columns,
    score_table,
)
from havens.zones.site_rows import Row, RowChecker, RowError
from havens.zones.site_rules import GENERATED_PREFIX, next_generated_codes
from havens.zones.site_table import Table, read_table
from havens.zones.sites import apply_record

#: (phase, done, total): "checking" then "writing".
ProgressCallback = Callable[[str, int, int], None]

_REQUIRED = {
    "name": "a site name (e.g. 'Site Name', '#loc+name')",
    "site_type": "a site type (e.g. 'Type_of_Location', '#loc+type')",
}


def import_sites(
    db: Session, *, actor: Principal, path: Path, dry_run: bool = False,
    skip_invalid: bool = False, reported_on: dt.date | None = None, sheet: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> SiteImportReport:
    """Import a site list file; see the module docstring for the rules."""
    require(actor, "sites.write")
    table = read_table(path, sheet=sheet, score=score_table)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return import_table(db, actor=actor, table=table, label=path.name, sha256=digest,
                        dry_run=dry_run, skip_invalid=skip_invalid, reported_on=reported_on,
                        on_progress=on_progress)


def import_table(
    db: Session, *, actor: Principal, table: Table, label: str, sha256: str | None = None,
    dry_run: bool = False, skip_invalid: bool = False, reported_on: dt.date | None = None,
    on_progress: ProgressCallback | None = None,
) -> SiteImportReport:
    require(actor, "sites.write")
    report = SiteImportReport(file=label, rows=len(table.rows), sheet=table.sheet,
                              encoding=table.encoding, hxl=table.hxl, dry_run=dry_run)
    mapping = _check_columns(table, report)
    has_population = any(f in mapping for f in POPULATION_FIELDS)
    if has_population and reported_on is None and "reported_on" not in mapping:
        report.warnings.append(RowProblem(0, None, (
            "The file has population figures but no date column: they were not imported. "
            "Give the date of the monitoring round (--reported-on YYYY-MM-DD).")))
        has_population = False
    checker = RowChecker(db, table, mapping, reported_on if has_population else None, report)
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for done, (number, cells) in enumerate(table.rows, start=1):
        try:
            row = checker.check(number, cells)
            code = row.record.get("code")
            if code in seen:
                raise RowError(checker.column("code"),
                                f"site code {code} is also on row {seen[code]}")
            if code:
                seen[code] = number
            rows.append(row)
        except RowError as exc:
            report.errors.append(RowProblem(number, exc.column, exc.message))
        if on_progress:
            on_progress("checking", done, len(table.rows))
    if report.errors:
        report.skipped_rows = [p.row for p in report.errors]
        if not skip_invalid and not dry_run:
            raise ValidationFailed(
                f"{label}: {len(report.errors)} row(s) with errors; nothing was imported "
                f"(first: row {report.errors[0].row}"
                f"{', column ' + report.errors[0].column if report.errors[0].column else ''}: "
                f"{report.errors[0].message}).", field="file",
                details=[p.as_dict() for p in report.errors])
    if dry_run:
        # The real writes, undone: the report tells exactly what an import would change.
        savepoint = db.begin_nested()
        try:
            _write(db, rows, report, on_progress)
        finally:
            savepoint.rollback()
        return report
    _write(db, rows, report, on_progress)
    audit.record(db, actor=actor, action="sites.import", object_type="site_list",
                 object_id=label[:64], detail={
                     "file": label, "sha256": sha256, "sheet": table.sheet, "rows": report.rows,
                     "created": report.created, "updated": report.updated,
                     "unchanged": report.unchanged, "skipped_rows": report.skipped_rows,
                     "population_written": report.population_written,
                     "reported_on": reported_on})
    return report


def _check_columns(table: Table, report: SiteImportReport) -> dict[str, int]:
    mapping = map_columns(table)
    if "name_en" in mapping and "name" not in mapping:
        mapping["name"] = mapping["name_en"]
    missing = [text for name, text in _REQUIRED.items() if name not in mapping]
    if not ({"lat", "lon"} <= mapping.keys() or "coord" in mapping):
        missing.append("coordinates (Latitude and Longitude columns, or one 'lat,lon' column "
                       "such as '#geo+coord')")
    if missing:
        raise ValidationFailed(f"{report.file}: no column for {'; '.join(missing)}. Columns "
                               f"found: {', '.join(h for h in table.headers if h) or 'none'}.",
                               field="file")
    report.columns = {name: table.column_name(i) for name, i in sorted(mapping.items())}
    used = set(mapping.values())
    report.ignored_columns = [table.column_name(i) for i in range(len(table.headers))
                              if i not in used and (table.headers[i] or table.tags[i])]
    return mapping


def _write(db: Session, rows: list[Row], report: SiteImportReport,
           on_progress: ProgressCallback | None) -> None:
    codes = [r.record["code"] for r in rows if r.record.get("code")]
    existing = {s.code: s for s in db.scalars(select(Site).where(Site.code.in_(codes)))}
    # Rows without a code match the site generated for them by an earlier import.
    generated = {(s.name_en.lower(), round(s.lon, 5), round(s.lat, 5)): s for s in db.scalars(
        select(Site).where(Site.code.like(f"{GENERATED_PREFIX}%")))}
    uncoded = [r for r in rows if not r.record.get("code")]
    fresh = iter(next_generated_codes(db, len(uncoded)))
    for row in uncoded:
        key = (row.record["name_en"].lower(), round(row.record["lon"], 5),
               round(row.record["lat"], 5))
        match = generated.get(key)
        row.record["code"] = match.code if match else next(fresh)
        if match:
            existing[match.code] = match
    index = ZoneIndex.load(db)
    sites: list[tuple[Row, Site]] = []
    for done, row in enumerate(rows, start=1):
        site = existing.get(row.record["code"])
        if site is None:
            site = Site()
            apply_record(db, site, row.record, index)
            db.add(site)
            report.created.append(row.record["code"])
        elif apply_record(db, site, row.record, index):
            report.updated.append(site.code)
        else:
            report.unchanged += 1
        sites.append((row, site))
        if on_progress:
            on_progress("writing", done, len(rows))
    db.flush()
    _write_population(db, sites, report)


def _write_population(db: Session, sites: list[tuple[Row, Site]],
                      report: SiteImportReport) -> None:
    wanted = [(site.id, row.population) for row, site in sites if row.population]
    if not wanted:
        return
    dates = {p["reported_on"] for _id, p in wanted}
    current = {(r.site_id, r.reported_on): r for r in db.scalars(select(ReportedPopulation).where(
        ReportedPopulation.site_id.in_([i for i, _p in wanted]),
        ReportedPopulation.reported_on.in_(dates)))}
    for site_id, population in wanted:
        row = current.get((site_id, population["reported_on"]))
        if row is None:
            db.add(ReportedPopulation(site_id=site_id, source=report.file[:200], **population))
            report.population_written += 1
            continue
        changed = False
        for name, value in population.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        report.population_written += changed
    db.flush()
