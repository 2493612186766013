"""Writing checked rows in bulk: households, members and arrival movements.

Used by the single registration, the file import and the demo alike, so that one set of rules
fills the columns. Rows are written from columns (``havens.people.columns.CheckedColumns``):
secrets encrypted and hashed in batches, values converted once per distinct value, and rows sent
through the driver (``havens.people.bulk``), no object per row: this is what lets an import
write tens of thousands of rows per second.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, islice
from operator import le
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from havens.database import utcnow
from havens.people.bulk import Constant, insert_columns, insert_rows
from havens.people.columns import CheckedColumns
from havens.people.crypto import FieldCipher
from havens.people.fields import MEMBER_FIELDS, CheckedRow
from havens.people.models import (
    Household,
    HouseholdStatus,
    Individual,
    Movement,
    MovementKind,
    RegistrationSequence,
    Relationship,
)
from havens.zones.models import Site

__all__ = ["KnownHousehold", "WriteResult", "allocate_numbers", "existing_households",
           "existing_row_keys", "insert_rows", "known_households", "registration_number",
           "write_columns", "write_rows"]

# Core tables, not ORM entities: columns of values become one executemany or COPY (the ORM's
# bulk path splits rows into many statements).
_HOUSEHOLDS: Table = Household.__table__  # type: ignore[assignment]
_INDIVIDUALS: Table = Individual.__table__  # type: ignore[assignment]
_MOVEMENTS: Table = Movement.__table__  # type: ignore[assignment]
_CHUNK = 5_000  # keys per IN (SQLite takes up to 32,766 parameters)


@dataclass
class WriteResult:
    households_created: int = 0
    individuals_created: int = 0
    rows_already_present: int = 0
    household_ids: list[int] = field(default_factory=list)


def registration_number(site_code: str, number: int) -> str:
    return f"{site_code}-{number:06d}"


def allocate_numbers(db: Session, *, site_id: int, count: int) -> int:
    """Reserve ``count`` consecutive registration numbers at a site; returns the first.

    The UPDATE locks the site's sequence row until the transaction ends, so concurrent
    registrations at one site queue instead of taking the same number.
    """
    step = update(RegistrationSequence).where(RegistrationSequence.site_id == site_id).values(
        last_number=RegistrationSequence.last_number + count)
    if db.execute(step).rowcount == 0:  # type: ignore[attr-defined]
        try:
            with db.begin_nested():
                db.execute(insert(RegistrationSequence).values(site_id=site_id, last_number=count))
        except IntegrityError:  # another transaction created it first
            db.execute(step)
    last = db.scalar(select(RegistrationSequence.last_number).where(
        RegistrationSequence.site_id == site_id))
    return int(last or 0) - count + 1


def _matching(db: Session, sql: str, fixed: tuple[Any, ...], values: Sequence[str]
              ) -> Iterator[Any]:
    """Rows of ``sql`` whose ``{match}`` column is any of ``values``, in few statements.

    A file's keys are looked up by the thousand: plain driver SQL (PostgreSQL takes them as
    one array) instead of compiling an expanding IN per few hundred keys.
    """
    db.flush()
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        yield from connection.exec_driver_sql(sql.format(match="= ANY(%s)"),
                                              (*fixed, list(values)))
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    for start in range(0, len(values), _CHUNK):
        chunk = values[start:start + _CHUNK]
        yield from connection.exec_driver_sql(
            sql.format(match=f"IN ({', '.join([marker] * len(chunk))})"), (*fixed, *chunk))


def existing_row_keys(db: Session, *, organisation_id: int, keys: Sequence[str]) -> set[str]:
    marker = _marker(db)
    return {key for (key,) in _matching(
        db, f"SELECT row_key FROM {_INDIVIDUALS.name} WHERE organisation_id = {marker} "
        "AND row_key {match}", (organisation_id,), keys)}


def existing_households(db: Session, *, organisation_id: int, refs: Sequence[str]
                        ) -> dict[str, tuple[int, int, bool]]:
    """household_ref -> (id, site id, present) of the organisation's known households."""
    marker = _marker(db)
    return {ref: (hid, site_id, status == HouseholdStatus.present.value)
            for hid, ref, site_id, status in _matching(
                db, f"SELECT id, household_ref, site_id, status FROM {_HOUSEHOLDS.name} "
                f"WHERE organisation_id = {marker} AND household_ref {{match}}",
                (organisation_id,), refs) if ref is not None}


@dataclass(frozen=True)
class KnownHousehold:
    """A household an organisation registered before, as a new file's rows meet it."""

    registration_number: str
    site_code: str
    status: str
    merged: bool
    has_head: bool


def known_households(db: Session, *, organisation_id: int, refs: Sequence[str]
                     ) -> dict[str, KnownHousehold]:
    """household_ref -> its state, for the organisation's households among ``refs``."""
    marker = _marker(db)
    return {ref: KnownHousehold(number, code, status, merged is not None, bool(heads))
            for ref, number, code, status, merged, heads in _matching(
                db, "SELECT h.household_ref, h.registration_number, s.code, h.status, "
                "h.merged_into_id, (SELECT COUNT(*) FROM individuals i WHERE i.household_id = "
                f"h.id AND i.relationship = '{Relationship.head.value}' "
                "AND i.merged_into_id IS NULL) "
                f"FROM {_HOUSEHOLDS.name} h JOIN sites s ON s.id = h.site_id "
                f"WHERE h.organisation_id = {marker} AND h.household_ref {{match}}",
                (organisation_id,), refs)}


def _marker(db: Session) -> str:
    return "?" if db.connection().dialect.paramstyle == "qmark" else "%s"


def write_rows(
    db: Session,
    *,
    rows: Iterable[CheckedRow],
    organisation_id: int,
    sites: dict[str, Site],
    cipher: FieldCipher,
    import_id: int | None = None,
    consent_at: dt.datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> WriteResult:
    """``write_columns`` of rows checked one by one (a registration, the demo)."""
    return write_columns(db, batch=CheckedColumns.from_rows(list(rows)),
                         organisation_id=organisation_id, sites=sites, cipher=cipher,
                         import_id=import_id, consent_at=consent_at, on_progress=on_progress)


def write_columns(
    db: Session,
    *,
    batch: CheckedColumns,
    organisation_id: int,
    sites: dict[str, Site],
    cipher: FieldCipher,
    import_id: int | None = None,
    consent_at: dt.datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
    known_keys: set[str] | None = None,
    joined_on: dt.date | None = None,
) -> WriteResult:
    """Insert the rows' households (new ones) and members; rows already imported are skipped.

    Members are written household by household (households in the order of their first row),
    each household's members in the rows' order. Members joining a household registered
    before arrive at its site on ``joined_on`` (today by default): the day the registration
    learnt of them, not a rewrite of the household's arrival, which may be published already.
    ``known_keys``: the row keys already in the database, when the caller has looked them up.
    """
    result = WriteResult()
    count = len(batch)
    keys = list(filter(None, batch.row_keys))
    known = known_keys if known_keys is not None else (
        existing_row_keys(db, organisation_id=organisation_id, keys=keys) if keys else set())
    if known:
        batch = batch.take([index for index, key in enumerate(batch.row_keys)
                            if not (key and key in known)])
    result.rows_already_present = count - len(batch)
    if on_progress and result.rows_already_present:
        on_progress(result.rows_already_present)
    batch = _grouped(batch)
    refs = batch.refs
    distinct = list(dict.fromkeys(refs))  # in the order of their first row
    first_row = _first_rows(refs)
    households = existing_households(db, organisation_id=organisation_id, refs=distinct)
    sizes = Counter(refs)
    now = utcnow()
    by_site: dict[str, list[str]] = {}
    for ref in distinct:
        if ref not in households:
            by_site.setdefault(batch.households[first_row[ref]]["site_code"], []).append(ref)

    for site_code, site_refs in by_site.items():
        site = sites[site_code]
        heads = [batch.households[first_row[ref]] for ref in site_refs]
        _insert_households(db, site, site_refs, heads, organisation_id=organisation_id,
                           import_id=import_id, consent_at=consent_at or now, now=now)
        # Read the new ids back by the organisation's keys (RETURNING with executemany is
        # row-at-a-time on SQLite when the order must be kept).
        created: dict[str, tuple[int, int, bool]]
        if import_id is not None:  # one query for the whole file
            created = {str(ref): (hid, site.id, True) for hid, ref in db.execute(
                select(Household.id, Household.household_ref).where(
                    Household.import_id == import_id, Household.site_id == site.id))}
        else:
            created = existing_households(db, organisation_id=organisation_id, refs=site_refs)
        for ref in site_refs:
            households[ref] = created[ref]
            result.household_ids.append(created[ref][0])
        insert_columns(db, _MOVEMENTS, {
            "household_id": [households[ref][0] for ref in site_refs],
            "kind": Constant(MovementKind.arrival),
            "moved_on": [head["arrival_date"] for head in heads], "site_id": Constant(site.id),
            "individuals": list(map(sizes.__getitem__, site_refs)),
            "recorded_by_org_id": Constant(organisation_id), "created_at": Constant(now),
        }, len(site_refs))
        result.households_created += len(site_refs)

    _insert_members(db, batch, list(map(households.__getitem__, refs)),
                    organisation_id=organisation_id, cipher=cipher, now=now,
                    on_progress=on_progress)
    new_refs = {ref for refs_at_site in by_site.values() for ref in refs_at_site}
    joining = [ref for ref in distinct if ref not in new_refs]
    insert_columns(db, _MOVEMENTS, {
        "household_id": [households[ref][0] for ref in joining],
        "kind": Constant(MovementKind.arrival), "moved_on": Constant(joined_on or dt.date.today()),
        "site_id": [households[ref][1] for ref in joining],
        "individuals": list(map(sizes.__getitem__, joining)),
        "details": Constant("members joining a registered household"),
        "recorded_by_org_id": Constant(organisation_id), "created_at": Constant(now),
    }, len(joining))
    result.individuals_created = len(batch)
    return result


def _grouped(batch: CheckedColumns) -> CheckedColumns:
    """The rows household by household, households in the order of their first row."""
    refs = batch.refs
    order = list(map(_first_rows(refs).__getitem__, refs))
    if all(map(le, order, islice(order, 1, None))):  # already grouped (files usually are)
        return batch
    return batch.take(sorted(range(len(refs)), key=order.__getitem__))


def _first_rows(refs: list[str]) -> dict[str, int]:
    """Each household's first row (the dict's order is not the rows')."""
    return dict(zip(reversed(refs), range(len(refs) - 1, -1, -1), strict=True))


def _insert_households(db: Session, site: Site, refs: list[str], heads: list[dict[str, Any]],
                       *, organisation_id: int, import_id: int | None,
                       consent_at: dt.datetime, now: dt.datetime) -> None:
    """New households at one site, with the fields of each one's first row."""
    first = allocate_numbers(db, site_id=site.id, count=len(refs))

    def field_of(name: str) -> list[Any]:
        return [head[name] for head in heads]

    insert_columns(db, _HOUSEHOLDS, {
        "registration_number": [registration_number(site.code, first + offset)
                                for offset in range(len(refs))],
        "household_ref": refs, "site_id": Constant(site.id),
        "organisation_id": Constant(organisation_id),
        **{name: field_of(name) for name in (
            "origin_pcode", "origin_locality", "displacement_date", "arrival_date",
            "consent_registration", "consent_sharing", "consent_given_by")},
        "consent_purposes": [tuple(purposes) for purposes in field_of("consent_purposes")],
        "status": Constant(HouseholdStatus.present), "consent_at": Constant(consent_at),
        "import_id": Constant(import_id), "created_at": Constant(now),
        "updated_at": Constant(now),
    }, len(refs))


def _insert_members(db: Session, batch: CheckedColumns, homes: list[tuple[int, int, bool]], *,
                    organisation_id: int, cipher: FieldCipher, now: dt.datetime,
                    on_progress: Callable[[int], None] | None) -> None:
    """The members of ``batch``, row ``i`` in household ``homes[i]`` (id, site id, present)."""
    count = len(batch)
    if not count:
        return
    household_ids, site_ids, present = map(list, zip(*homes, strict=True))
    keys = batch.row_keys
    columns: dict[str, Sequence[Any] | Constant] = {
        **{name: batch.members[name] for name in MEMBER_FIELDS},
        "household_id": household_ids, "site_id": site_ids, "present": present,
        "organisation_id": Constant(organisation_id),
        "row_key": [key or None for key in keys] if "" in keys else keys,
        "created_at": Constant(now), "updated_at": Constant(now),
    }
    for name, values in (("phone", batch.phones), ("document_number", batch.documents)):
        columns[f"{name}_enc"], columns[f"{name}_hash"] = _secrets(cipher, name, values)
    insert_columns(db, _INDIVIDUALS, columns, count, on_progress=on_progress)


def _secrets(cipher: FieldCipher, name: str, values: list[str | None]
             ) -> tuple[list[str | None], list[str | None]]:
    """Encrypted values and keyed hashes of a secret column; blank where the value is."""
    rows = list(compress(range(len(values)), values))
    plain: list[str] = [values[row] for row in rows]  # type: ignore[misc]
    sealed: list[str | None] = [None] * len(values)
    hashed: list[str | None] = [None] * len(values)
    for row, enc, mac in zip(rows, cipher.encrypt_many(plain, field_name=name),
                             cipher.blind_index_many(plain, field_name=name), strict=True):
        sealed[row] = enc
        hashed[row] = mac
    return sealed, hashed
