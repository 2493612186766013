"""Bulk import of registration files: check every row, then write all in one transaction.

Nothing is written unless every row is valid, or, with ``skip_invalid``, only the valid rows
(the report names the skipped ones). The file's SHA-256 makes importing the same file twice a
no-op, and each row's key (household_ref + content) makes overlapping files safe. The caller's
unit of work holds the whole import: a process killed midway leaves none of it.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import ValidationFailed
from havens.geo.models import AdminArea
from havens.orgs.permissions import Principal
from havens.people.crypto import FieldCipher, cipher_for
from havens.people.models import PeopleImport, Relationship
from havens.people.records import HOUSEHOLD_FIELDS, CheckedRow, RowChecker
from havens.people.schemas import ImportProblem, ImportReport
from havens.people.service import acting_organisation
from havens.people.tabular import load_mapping, read_rows
from havens.people.writer import write_rows
from havens.zones.models import Site

#: on_progress(stage, done, total): stages are "checking" and "writing".
Progress = Callable[[str, int, int], None]

#: Household fields that must agree between the rows of one household.
_SHARED = tuple(f for f in HOUSEHOLD_FIELDS if f not in ("consent_given_by",))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file's rows are held.

    An import keeps hundreds of thousands of row objects alive (none of them in cycles), and
    the collector would walk all of them again and again: about a fifth of the import's time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_file(
    db: Session, *, actor: Principal, data: bytes, filename: str,
    site_code: str | None = None, organisation: str | None = None,
    mapping: bytes | str | dict[str, str] | None = None, skip_invalid: bool = False,
    cipher: FieldCipher | None = None, on_progress: Progress | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Check and import one file; returns the report (also when nothing was written)."""
    with _collector_paused():
        return _import_file(db, actor=actor, data=data, filename=filename, site_code=site_code,
                            organisation=organisation, mapping=mapping,
                            skip_invalid=skip_invalid, cipher=cipher, on_progress=on_progress,
                            today=today)


def _import_file(
    db: Session, *, actor: Principal, data: bytes, filename: str, site_code: str | None,
    organisation: str | None, mapping: bytes | str | dict[str, str] | None,
    skip_invalid: bool, cipher: FieldCipher | None, on_progress: Progress | None,
    today: dt.date | None,
) -> ImportReport:
    org = acting_organisation(db, actor=actor, action="people.import", organisation=organisation)
    columns = load_mapping(mapping)
    digest = fingerprint(data)
    previous = db.scalar(select(PeopleImport).where(PeopleImport.organisation_id == org.id,
                                                    PeopleImport.fingerprint == digest))
    if previous is not None:
        return ImportReport(filename=filename, fingerprint=digest, rows=previous.rows,
                            valid_rows=previous.rows - len(previous.skipped_rows), problems=[],
                            skipped_rows=list(previous.skipped_rows), written=False,
                            already_imported=True)
    default_site = site_code.strip().upper() if site_code else None
    if default_site and db.scalar(select(Site.id).where(Site.code == default_site)) is None:
        raise ValidationFailed(f"No site with code {site_code}.", field="site_code")
    read = read_rows(data, filename, columns)
    if not read.rows:
        raise ValidationFailed("The file has no data rows.", field="file")

    checked, problems, sites = check_rows(db, read.rows, default_site=default_site,
                                          today=today or dt.date.today(),
                                          on_progress=on_progress)
    bad_rows = sorted({p.row for p in problems})
    report = ImportReport(filename=filename, fingerprint=digest, rows=len(read.rows),
                          valid_rows=len(read.rows) - len(bad_rows), problems=problems,
                          skipped_rows=bad_rows if skip_invalid else [], written=False,
                          ignored_columns=read.ignored, mapping=read.mapping)
    if (problems and not skip_invalid) or report.valid_rows == 0:
        return report

    bad = set(bad_rows)
    valid = [row for number, row in checked if number not in bad]
    record = PeopleImport(organisation_id=org.id, fingerprint=digest, filename=filename[:300],
                          rows=len(read.rows), households_created=0, individuals_created=0,
                          skipped_rows=report.skipped_rows, imported_by_user_id=actor.user_id)
    db.add(record)
    db.flush()
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if on_progress:
            on_progress("writing", done, len(valid))

    if on_progress:
        on_progress("writing", 0, len(valid))
    result = write_rows(db, rows=valid, organisation_id=org.id, sites=sites,
                        cipher=cipher or cipher_for(), import_id=record.id, on_progress=advance)
    record.households_created = result.households_created
    record.individuals_created = result.individuals_created
    report.written = True
    report.households_created = result.households_created
    report.individuals_created = result.individuals_created
    report.rows_already_present = result.rows_already_present
    record.report = {"problems": len(problems), "rows_already_present":
                     result.rows_already_present}
    db.flush()
    audit.record(db, actor=actor, action="people.import", object_type="people_import",
                 object_id=record.id, detail={
                     "organisation": org.acronym, "filename": filename[:300],
                     "fingerprint": digest, "rows": len(read.rows),
                     "skipped_rows": len(report.skipped_rows),
                     "households_created": result.households_created,
                     "individuals_created": result.individuals_created,
                     "rows_already_present": result.rows_already_present})
    return report


def check_rows(
    db: Session, rows: list[tuple[int, dict[str, Any]]], *, default_site: str | None,
    today: dt.date, on_progress: Progress | None = None,
) -> tuple[list[tuple[int, CheckedRow]], list[ImportProblem], dict[str, Site]]:
    """Every row checked on its own, then against the database and the rest of the file."""
    checked: list[tuple[int, CheckedRow]] = []
    check = RowChecker(today=today, default_site=default_site).check_all
    step = max(len(rows) // 50, 1)
    for start in range(0, len(rows), step):
        if on_progress:
            on_progress("checking", start, len(rows))
        chunk = rows[start:start + step]
        checked += zip([number for number, _raw in chunk],
                       check([raw for _number, raw in chunk]), strict=True)
    if on_progress:
        on_progress("checking", len(rows), len(rows))

    site_codes = {r.household["site_code"] for _n, r in checked if r.household["site_code"]}
    sites = {s.code: s for s in db.scalars(select(Site).where(Site.code.in_(site_codes)))}
    pcodes = {r.household["origin_pcode"] for _n, r in checked if r.household["origin_pcode"]}
    levels: dict[str, int] = {pcode: level for pcode, level in db.execute(
        select(AdminArea.pcode, AdminArea.level).where(AdminArea.pcode.in_(pcodes)))}

    first_of: dict[str, tuple[int, CheckedRow]] = {}
    head_of: dict[str, int] = {}
    row_of_key: dict[str, int] = {}
    for number, row in checked:
        if row.row_key:
            same = row_of_key.setdefault(row.row_key, number)
            if same != number:
                row.problems.append(("household_ref", f"row repeats row {same} exactly"))
        household = row.household
        code = household["site_code"]
        if code and code not in sites:
            row.problems.append(("site_code", f"no site with code {code}"))
        pcode = household["origin_pcode"]
        if pcode and pcode not in levels:
            row.problems.append(("origin_pcode", f"unknown P-code {pcode}"))
        elif pcode and levels[pcode] != 3:
            row.problems.append(("origin_pcode", f"{pcode} is not an admin3 (sub-district) "
                                                 f"P-code (level {levels[pcode]})"))
        if not row.household_ref or row.problems:
            continue
        first = first_of.setdefault(row.household_ref, (number, row))
        if first[0] != number and household is not first[1].household:  # same cells: same
            for name in _SHARED:
                if household[name] != first[1].household[name] and household[name]:
                    row.problems.append((name, f"differs from row {first[0]} of household "
                                               f"{row.household_ref}"))
        if row.member["relationship"] == Relationship.head:
            if row.household_ref in head_of:
                row.problems.append(("relationship", f"household {row.household_ref} already "
                                                     f"has a head (row "
                                                     f"{head_of[row.household_ref]})"))
            else:
                head_of[row.household_ref] = number
    problems = [ImportProblem(row=number, column=column, reason=reason)
                for number, row in checked for column, reason in row.problems]
    return checked, problems, sites
