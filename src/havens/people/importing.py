"""Bulk import of registration files: check every row, then write all in one transaction.

Nothing is written unless every row is valid, or, with ``skip_invalid``, only the valid rows
(the report names the skipped ones). The file's SHA-256 makes importing the same file twice a
no-op, and each row's key (household_ref + content) makes overlapping files safe. The caller's
unit of work holds the whole import: a process killed midway leaves none of it.

The rows stay in columns from the file to the database (``tabular.read_columns``,
``columns.check_columns``, ``writer.write_columns``): each distinct cell value is checked and
converted once, and no object is made per row.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import compress, filterfalse, repeat
from operator import is_, is_not, ne
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.database import refresh_statistics
from havens.exceptions import Conflict, ValidationFailed
from havens.geo.models import AdminArea
from havens.orgs.permissions import Principal
from havens.orgs.ratelimit import IMPORTS
from havens.orgs.uploads import check_upload
from havens.people.checker import RowChecker
from havens.people.columns import CheckedColumns, check_columns
from havens.people.crypto import FieldCipher, cipher_for
from havens.people.fields import HOUSEHOLD_FIELDS, Problems
from havens.people.models import HouseholdStatus, PeopleImport, Relationship
from havens.people.schemas import ImportProblem, ImportReport
from havens.people.service import acting_organisation
from havens.people.tabular import load_mapping, read_columns
from havens.people.writer import existing_row_keys, known_households, write_columns
from havens.zones.models import Site, SiteStatus

#: The kinds of file an import reads (by name; ``orgs.uploads.check_upload`` checks content).
IMPORT_TYPES = (".csv", ".xlsx", ".xlsm", ".zip")  # .zip: ODK Central/Briefcase CSV exports
#: A mapping file (JSON of file header -> column) is small: a few hundred headers at most.
MAX_MAPPING_BYTES = 20_000
#: on_progress(stage, done, total): stages are "checking" and "writing".
Progress = Callable[[str, int, int], None]

#: Rows checked at a time: small enough for a slice's columns to stay in the CPU's caches
#: (a whole file's at once is slower by half), large enough for the C-level loops to pay.
_CHECK_STEP = 2_000
#: Imports creating at least this many individuals refresh the planner's statistics.
ANALYZE_AFTER = 1_000

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


def check_upload_for_import(actor: Principal, filename: str, data: bytes, *, max_bytes: int,
                            mapping: bytes | str | None = None) -> None:
    """An uploaded import before it is read, as the API and the page take it: the caller's
    rate of imports, the file's size and kind (``orgs.uploads.check_upload``), the mapping's
    size. ``data`` read up to ``max_bytes + 1``, so that a larger file is told apart."""
    IMPORTS.check(actor, "import")
    check_upload(filename, data, allowed=IMPORT_TYPES, max_bytes=max_bytes)
    if mapping is not None and len(mapping) > MAX_MAPPING_BYTES:
        raise ValidationFailed(f"The mapping is larger than {MAX_MAPPING_BYTES // 1000} kB.",
                               field="mapping")


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_file(
    db: Session, *, actor: Principal, data: bytes, filename: str,
    site_code: str | None = None, organisation: str | None = None,
    mapping: bytes | str | dict[str, str] | None = None, skip_invalid: bool = False,
    cipher: FieldCipher | None = None, on_progress: Progress | None = None,
    today: dt.date | None = None, consent_recorded: bool = False,
) -> ImportReport:
    """Check and import one file; returns the report (also when nothing was written).

    Each household needs its consent to registration: a ``consent`` cell (yes), or
    ``consent_recorded``, the importer's statement that the registration form recorded it
    (kept in the import's audit record).
    """
    with _collector_paused():
        return _import_file(db, actor=actor, data=data, filename=filename, site_code=site_code,
                            organisation=organisation, mapping=mapping,
                            skip_invalid=skip_invalid, cipher=cipher, on_progress=on_progress,
                            today=today, consent_recorded=consent_recorded)


def _import_file(
    db: Session, *, actor: Principal, data: bytes, filename: str, site_code: str | None,
    organisation: str | None, mapping: bytes | str | dict[str, str] | None,
    skip_invalid: bool, cipher: FieldCipher | None, on_progress: Progress | None,
    today: dt.date | None, consent_recorded: bool,
) -> ImportReport:
    org = acting_organisation(db, actor=actor, action="people.import", organisation=organisation)
    columns = load_mapping(mapping)
    digest = fingerprint(data)
    previous = _previous_import(db, organisation_id=org.id, digest=digest, filename=filename)
    if previous is not None:
        return previous
    default_site = site_code.strip().upper() if site_code else None
    if default_site and db.scalar(select(Site.id).where(Site.code == default_site)) is None:
        raise ValidationFailed(f"No site with code {site_code}.", field="site_code")
    read = read_columns(data, filename, columns)
    if not read.numbers:
        raise ValidationFailed("The file has no data rows.", field="file")
    if not consent_recorded and not any(read.cells.get("consent", ())):
        raise ValidationFailed(
            "The file records no consent to registration. Add a 'consent' column (yes for "
            "each household that consented), or confirm that your registration form recorded "
            "every household's consent (--consent-recorded).", field="consent")

    today = today or dt.date.today()
    batch = check_cells(read.cells, default_site=default_site, today=today,
                        on_progress=on_progress, consent_recorded=consent_recorded)
    batch, numbers, already_present = _new_rows(db, batch, read.numbers, organisation_id=org.id)
    sites = check_file(db, batch, numbers, organisation_id=org.id)
    bad = sorted(batch.problems)
    problems = [ImportProblem(row=numbers[index], column=column, reason=reason)
                for index in bad for column, reason in batch.problems[index]]
    bad_rows = [numbers[index] for index in bad]
    report = ImportReport(filename=filename, fingerprint=digest, rows=len(read),
                          valid_rows=len(read) - len(bad_rows), problems=problems,
                          skipped_rows=bad_rows if skip_invalid else [], written=False,
                          ignored_columns=read.ignored, mapping=read.mapping)
    if (problems and not skip_invalid) or report.valid_rows == 0:
        return report

    if bad:
        batch = batch.take(list(filterfalse(batch.problems.__contains__, range(len(batch)))))
    record = PeopleImport(organisation_id=org.id, fingerprint=digest, filename=filename[:300],
                          rows=len(read), households_created=0, individuals_created=0,
                          skipped_rows=report.skipped_rows, imported_by_user_id=actor.user_id)
    try:
        with db.begin_nested():
            db.add(record)
            db.flush()
    except IntegrityError:  # the same file, imported at the same moment by another session
        previous = _previous_import(db, organisation_id=org.id, digest=digest,
                                    filename=filename)
        if previous is None:
            raise
        return previous
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if on_progress:
            on_progress("writing", done, len(batch) + already_present)

    if on_progress:
        on_progress("writing", 0, len(batch) + already_present)
    if already_present:
        advance(already_present)
    try:
        result = write_columns(db, batch=batch, organisation_id=org.id, sites=sites,
                               cipher=cipher or cipher_for(), import_id=record.id,
                               on_progress=advance, known_keys=set(), joined_on=today)
    except IntegrityError as exc:  # another import wrote some of these rows meanwhile
        raise Conflict("Another import wrote some of these households or rows at the same "
                       "moment; nothing of this file was written. Import it again.",
                       field="file") from exc
    result.rows_already_present += already_present
    record.households_created = result.households_created
    record.individuals_created = result.individuals_created
    report.written = True
    report.households_created = result.households_created
    report.individuals_created = result.individuals_created
    report.rows_already_present = result.rows_already_present
    record.report = {"problems": len(problems), "rows_already_present":
                     result.rows_already_present, "consent_recorded": consent_recorded}
    db.flush()
    audit.record(db, actor=actor, action="people.import", object_type="people_import",
                 object_id=record.id, detail={
                     "organisation": org.acronym, "filename": filename[:300],
                     "fingerprint": digest, "rows": len(read),
                     "skipped_rows": len(report.skipped_rows),
                     "households_created": result.households_created,
                     "individuals_created": result.individuals_created,
                     "rows_already_present": result.rows_already_present,
                     # The importer's word for the consent of households without a consent cell.
                     "consent_recorded": consent_recorded})
    if result.individuals_created >= ANALYZE_AFTER:
        # The planner would otherwise plan the people counts for the tables as they were.
        refresh_statistics(db, ["households", "individuals", "movements"])
    return report


def _previous_import(db: Session, *, organisation_id: int, digest: str, filename: str
                     ) -> ImportReport | None:
    """The report of this file's import by the organisation, if it was imported before."""
    previous = db.scalar(select(PeopleImport).where(
        PeopleImport.organisation_id == organisation_id, PeopleImport.fingerprint == digest))
    if previous is None:
        return None
    return ImportReport(filename=filename, fingerprint=digest, rows=previous.rows,
                        valid_rows=previous.rows - len(previous.skipped_rows), problems=[],
                        skipped_rows=list(previous.skipped_rows), written=False,
                        already_imported=True)


def check_cells(cells: dict[str, list[str]], *, default_site: str | None, today: dt.date,
                on_progress: Progress | None = None, consent_recorded: bool = False
                ) -> CheckedColumns:
    """Every row checked on its own (column by column, a slice of rows at a time)."""
    count = len(next(iter(cells.values()), []))
    checker = RowChecker(today=today, default_site=default_site,
                         consent_recorded=consent_recorded)
    batch = CheckedColumns.empty()
    step = _CHECK_STEP
    for start in range(0, count, step):
        if on_progress:
            on_progress("checking", start, count)
        batch.extend(check_columns(checker, {name: values[start:start + step]
                                             for name, values in cells.items()}))
    if on_progress:
        on_progress("checking", count, count)
    return batch


def _new_rows(db: Session, batch: CheckedColumns, numbers: list[int], *, organisation_id: int
              ) -> tuple[CheckedColumns, list[int], int]:
    """The rows not yet in the database, their row numbers, and how many rows already are.

    A later export of a form holds every earlier submission again: rows already imported are
    set aside before the file's rules, which may have changed since they were written (a site
    closed, consent required), so that only the new rows are judged.
    """
    keys = list(filter(None, batch.row_keys))
    known = existing_row_keys(db, organisation_id=organisation_id, keys=keys) if keys else set()
    if not known:
        return batch, numbers, 0
    keep = [index for index, key in enumerate(batch.row_keys) if key not in known]
    return batch.take(keep), [numbers[index] for index in keep], len(batch) - len(keep)


def check_file(db: Session, batch: CheckedColumns, numbers: list[int], *,
               organisation_id: int) -> dict[str, Site]:
    """The rules across rows and against the database; returns the sites named by code.

    Their problems are added to ``batch.problems`` after each row's own, in this order: a
    row repeated exactly, unknown or closed site and unknown P-code, a household the
    organisation registered before that the row cannot join (see ``_joining_problems``),
    then (for rows without problems so far) household fields that differ from the
    household's first row, a second head, and a new household whose rows name no head.
    """
    problems = batch.problems
    refs, households, keys = batch.refs, batch.households, batch.row_keys
    rows = range(len(batch))

    def add(index: int, column: str, reason: str) -> None:
        problems.setdefault(index, []).append((column, reason))

    first_with_key = _first_rows(keys, rows)
    for index in compress(rows, map(ne, map(first_with_key.__getitem__, keys), rows)):
        if keys[index]:
            add(index, "household_ref",
                f"row repeats row {numbers[first_with_key[keys[index]]]} exactly")

    # One dict per distinct household cells: each checked once.
    distinct = dict(zip(map(id, households), households, strict=True))
    site_codes = {h["site_code"] for h in distinct.values() if h["site_code"]}
    sites = {s.code: s for s in db.scalars(select(Site).where(Site.code.in_(site_codes)))}
    pcodes = {h["origin_pcode"] for h in distinct.values() if h["origin_pcode"]}
    levels: dict[str, int] = {pcode: level for pcode, level in db.execute(
        select(AdminArea.pcode, AdminArea.level).where(AdminArea.pcode.in_(pcodes)))}
    faults = {key: found for key, household in distinct.items()
              if (found := _place_problems(household, sites, levels))}
    if faults:
        for index in compress(rows, map(faults.__contains__, map(id, households))):
            problems.setdefault(index, []).extend(faults[id(households[index])])
    registered = _joining_problems(db, batch, organisation_id=organisation_id)

    eligible = list(filterfalse(problems.__contains__, rows))
    eligible_refs = list(map(refs.__getitem__, eligible))
    first_of = _first_rows(eligible_refs, eligible)
    firsts = map(households.__getitem__, map(first_of.__getitem__, eligible_refs))
    for index in compress(eligible, map(is_not, map(households.__getitem__, eligible), firsts)):
        ref, household = refs[index], households[index]
        first = households[first_of[ref]]
        for name in _SHARED:
            if household[name] != first[name] and household[name]:
                add(index, name, f"differs from row {numbers[first_of[ref]]} of household {ref}")

    kin = batch.members["relationship"]
    heads = list(compress(eligible, map(is_, map(kin.__getitem__, eligible),
                                        repeat(Relationship.head))))
    head_refs = list(map(refs.__getitem__, heads))
    head_of = _first_rows(head_refs, heads)
    for index in compress(heads, map(ne, map(head_of.__getitem__, head_refs), heads)):
        add(index, "relationship", f"household {refs[index]} already has a head "
                                   f"(row {numbers[head_of[refs[index]]]})")

    # A new household needs its head. A row whose relationship could not be read may be the
    # head: its household is left to that row's own problem.
    headed = {refs[index] for index in rows if kin[index] is Relationship.head}
    unread = {refs[index] for index in rows if kin[index] is None}
    headless = set(refs) - headed - unread - registered
    for index in compress(eligible, map(headless.__contains__, map(refs.__getitem__, eligible))):
        add(index, "relationship", f"household {refs[index]} has no head: one member's "
                                   "relationship is head")
    return sites


def _joining_problems(db: Session, batch: CheckedColumns, *, organisation_id: int
                      ) -> set[str]:
    """Rows that would join a household the organisation registered before, and may not.

    A later export of the same form brings new members of households already registered;
    they join them. A row may not join one at another site (a move is recorded, not
    imported), one no longer present, one merged into another registration, or bring a
    second head. Returns the households' refs that are registered already.
    """
    problems, refs = batch.problems, batch.refs
    new_rows = [index for index in range(len(batch)) if index not in problems]
    known = known_households(db, organisation_id=organisation_id,
                             refs=list({refs[index] for index in new_rows}))
    if not known:
        return set()
    kin = batch.members["relationship"]
    for index in new_rows:
        household = known.get(refs[index])
        if household is None:
            continue
        ref, number = refs[index], household.registration_number
        site = batch.households[index]["site_code"]
        if household.merged:
            found = [("household_ref", f"household {ref} ({number}) was merged into another "
                                       "registration; add members there")]
        elif household.status != HouseholdStatus.present.value:
            found = [("household_ref", f"household {ref} ({number}) is {household.status}, "
                                       "no longer at its site")]
        elif site != household.site_code:
            found = [("site_code", f"household {ref} ({number}) is registered at site "
                                   f"{household.site_code}; a move is recorded, not imported")]
        elif kin[index] is Relationship.head and household.has_head:
            found = [("relationship", f"household {ref} ({number}) already has a head")]
        else:
            continue
        problems.setdefault(index, []).extend(found)
    return set(known)


def _first_rows(keys: Sequence[str], rows: Sequence[int]) -> dict[str, int]:
    """Each key's first row (of ``rows``, the rows the keys are of)."""
    return dict(zip(reversed(keys), reversed(rows), strict=True))


def _place_problems(household: dict[str, Any], sites: dict[str, Site],
                    levels: dict[str, int]) -> Problems:
    """A household's site and P-code of origin, against the database."""
    found: Problems = []
    code, pcode = household["site_code"], household["origin_pcode"]
    if code and code not in sites:
        found.append(("site_code", f"no site with code {code}"))
    elif code and sites[code].status != SiteStatus.open:
        found.append(("site_code", f"site {code} is {sites[code].status.value}, not open"))
    if pcode and pcode not in levels:
        found.append(("origin_pcode", f"unknown P-code {pcode}"))
    elif pcode and levels[pcode] != 3:
        found.append(("origin_pcode", f"{pcode} is not an admin3 (sub-district) "
                                      f"P-code (level {levels[pcode]})"))
    return found
