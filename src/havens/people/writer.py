"""Writing checked rows in bulk: households, members and arrival movements.

Used by the single registration, the file import and the demo alike, so that one set of rules
fills the columns. Encryption, keyed hashes and name keys are computed in Python beforehand, and
rows go to the database with executemany-style bulk inserts (no per-row ORM objects): this is
what lets an import write tens of thousands of rows per second.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    Enum,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from havens.database import UTCDateTime, utcnow
from havens.people.crypto import FieldCipher
from havens.people.models import (
    DocumentType,
    Household,
    HouseholdStatus,
    Individual,
    Movement,
    MovementKind,
    RegistrationSequence,
    Relationship,
    Sex,
)
from havens.people.records import CheckedRow
from havens.zones.models import Site

# Core tables, not ORM entities: a list of dicts then becomes one executemany (the ORM's bulk
# path splits rows into many statements).
_HOUSEHOLDS: Table = Household.__table__  # type: ignore[assignment]
_INDIVIDUALS: Table = Individual.__table__  # type: ignore[assignment]
_MOVEMENTS: Table = Movement.__table__  # type: ignore[assignment]
_CHUNK = 5_000  # keys per IN (SQLite takes up to 32,766 parameters)
_INSERT_BATCH = 5_000


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


def _marker(db: Session) -> str:
    return "?" if db.connection().dialect.paramstyle == "qmark" else "%s"


def _converter(column: Column[Any], sqlite: bool) -> Callable[[Any], Any] | None:
    """How a column's Python values become what the driver takes (None: as they are)."""
    kind = column.type
    if isinstance(kind, Enum):
        return lambda v: None if v is None else getattr(v, "value", v)
    if isinstance(kind, JSON):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    if not sqlite:
        return None
    if isinstance(kind, Boolean):
        return lambda v: None if v is None else int(v)
    if isinstance(kind, UTCDateTime):
        return lambda v: None if v is None else v.astimezone(dt.UTC).replace(
            tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(kind, Date):
        return lambda v: None if v is None else v.isoformat()
    return None


def insert_rows(db: Session, table: Table, rows: list[dict[str, Any]], *,
                on_progress: Callable[[int], None] | None = None) -> None:
    """Insert many rows of the same columns with the driver's executemany.

    SQLAlchemy's per-value type processing costs more than the database's own work on a large
    import, so each column's values are converted here (dates, JSON, enums, booleans) and sent
    as plain tuples; columns, their order and types come from the table definition.
    """
    if not rows:
        return
    connection = db.connection()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # room for the indexes of a large import, for this connection
        connection.exec_driver_sql("PRAGMA cache_size=-131072")
    columns = [c for c in table.columns if c.name in rows[0]]
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) "
                 f"VALUES ({', '.join([marker] * len(columns))})")
    plan = [(c.name, _converter(c, sqlite)) for c in columns]
    copy = None if sqlite else _copier(connection, table, [c.name for c in columns])
    # Column by column, each distinct value converted once (timestamps, dates, enums repeat).
    columns_values: list[list[Any]] = []
    for name, convert in plan:
        column = [row[name] for row in rows]
        if convert is not None:
            try:
                converted = {value: convert(value) for value in set(column)}
            except TypeError:  # unhashable values (JSON lists and objects)
                column = [convert(value) for value in column]
            else:
                column = [converted[value] for value in column]
        columns_values.append(column)
    values = list(zip(*columns_values, strict=True))
    _send(connection, statement, copy, values, on_progress)


def _send(connection: Connection, statement: str,
          copy: Callable[[list[tuple[Any, ...]]], None] | None,
          values: list[tuple[Any, ...]], on_progress: Callable[[int], None] | None) -> None:
    """Rows as driver tuples, in batches (for the progress bar): COPY or executemany."""
    for start in range(0, len(values), _INSERT_BATCH):
        batch = values[start:start + _INSERT_BATCH]
        if copy is not None:
            copy(batch)
        else:
            connection.exec_driver_sql(statement, batch)
        if on_progress:
            on_progress(len(batch))


def _copier(connection: Connection, table: Table, names: list[str]
            ) -> Callable[[list[tuple[Any, ...]]], None] | None:
    """PostgreSQL's COPY through psycopg, many times faster than INSERTs for large batches."""
    cursor = connection.connection.cursor()
    if not hasattr(cursor, "copy"):
        return None
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"

    def copy(values: list[tuple[Any, ...]]) -> None:
        with cursor.copy(statement) as stream:
            for value in values:
                stream.write_row(value)

    return copy


def individual_columns(row: CheckedRow, cipher: FieldCipher) -> dict[str, Any]:
    """The encrypted and hashed columns of one member, beside its plain checked fields."""
    values = dict(row.member)
    values["row_key"] = row.row_key or None
    values["phone_enc"] = values["phone_hash"] = None
    values["document_number_enc"] = values["document_number_hash"] = None
    if row.phone:
        values["phone_enc"] = cipher.encrypt(row.phone, field_name="phone")
        values["phone_hash"] = cipher.blind_index(row.phone, field_name="phone")
    if row.document_number:
        values["document_number_enc"] = cipher.encrypt(row.document_number,
                                                       field_name="document_number")
        values["document_number_hash"] = cipher.blind_index(row.document_number,
                                                            field_name="document_number")
    return values


#: Columns of a member row, in the order ``insert_members`` builds them.
_MEMBER_COLUMNS = (
    "household_id", "organisation_id", "site_id", "present", "relationship",
    "given_name_ar", "given_name_en", "father_name_ar", "father_name_en",
    "grandfather_name_ar", "grandfather_name_en", "family_name_ar", "family_name_en",
    "name_key_ar", "name_key_en", "sex", "date_of_birth", "dob_estimated", "specific_needs",
    "phone_enc", "phone_hash", "document_type", "document_number_enc", "document_number_hash",
    "row_key", "created_at", "updated_at",
)
_ENUM_VALUES: dict[Any, str | None] = {
    None: None, **{m: m.value for kind in (Relationship, Sex, DocumentType) for m in kind}}


def insert_members(db: Session, members: list[tuple[tuple[int, int, bool], CheckedRow]], *,
                   organisation_id: int, cipher: FieldCipher, now: dt.datetime,
                   on_progress: Callable[[int], None] | None = None) -> None:
    """Insert checked members ((household id, site id, present), row) as driver tuples.

    ``individual_columns`` and ``insert_rows`` row by row give the same rows; this builds the
    tuples directly (values that repeat, dates and needs lists, are converted once), and
    encrypts and hashes each secret column in one pass.
    """
    if not members:
        return
    connection = db.connection()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA cache_size=-131072")
    phones = [row.phone for _h, row in members if row.phone]
    documents = [row.document_number for _h, row in members if row.document_number]
    phone_enc = iter(cipher.encrypt_many(phones, field_name="phone"))
    phone_hash = iter(cipher.blind_index_many(phones, field_name="phone"))
    doc_enc = iter(cipher.encrypt_many(documents, field_name="document_number"))
    doc_hash = iter(cipher.blind_index_many(documents, field_name="document_number"))
    enum = _ENUM_VALUES
    days: dict[Any, Any] = {None: None}
    needs_json: dict[tuple[str, ...], str] = {}
    to_driver = _converter(_INDIVIDUALS.c.created_at, sqlite)
    stamp = to_driver(now) if to_driver else now
    values = []
    for (household_id, site_id, present), row in members:
        m = row.member
        born = m["date_of_birth"]
        day = days.get(born)
        if day is None:
            day = days[born] = born.isoformat() if sqlite else born
        needs = tuple(m["specific_needs"])
        needs_text = needs_json.get(needs)
        if needs_text is None:
            needs_text = needs_json[needs] = json.dumps(list(needs), ensure_ascii=False)
        phone, document = row.phone, row.document_number
        values.append((
            household_id, organisation_id, site_id, present, enum[m["relationship"]],
            m["given_name_ar"], m["given_name_en"], m["father_name_ar"], m["father_name_en"],
            m["grandfather_name_ar"], m["grandfather_name_en"], m["family_name_ar"],
            m["family_name_en"], m["name_key_ar"], m["name_key_en"], enum[m["sex"]], day,
            m["dob_estimated"], needs_text,
            next(phone_enc) if phone else None, next(phone_hash) if phone else None,
            enum[m["document_type"]],
            next(doc_enc) if document else None, next(doc_hash) if document else None,
            row.row_key or None, stamp, stamp))
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {_INDIVIDUALS.name} ({', '.join(_MEMBER_COLUMNS)}) "
                 f"VALUES ({', '.join([marker] * len(_MEMBER_COLUMNS))})")
    copy = None if sqlite else _copier(connection, _INDIVIDUALS, list(_MEMBER_COLUMNS))
    _send(connection, statement, copy, values, on_progress)


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
    """Insert the rows' households (new ones) and members; rows already imported are skipped."""
    result = WriteResult()
    rows = list(rows)
    keys = [row.row_key for row in rows if row.row_key]
    known_keys = existing_row_keys(db, organisation_id=organisation_id, keys=keys)
    fresh = [row for row in rows if not (row.row_key and row.row_key in known_keys)]
    result.rows_already_present = len(rows) - len(fresh)
    if on_progress and result.rows_already_present:
        on_progress(result.rows_already_present)

    groups: dict[str, list[CheckedRow]] = {}
    for row in fresh:
        groups.setdefault(row.household_ref, []).append(row)
    households = existing_households(db, organisation_id=organisation_id, refs=list(groups))
    now = utcnow()
    new_refs = [ref for ref in groups if ref not in households]
    by_site: dict[str, list[str]] = {}
    for ref in new_refs:
        by_site.setdefault(groups[ref][0].household["site_code"], []).append(ref)

    for site_code, refs in by_site.items():
        site = sites[site_code]
        first = allocate_numbers(db, site_id=site.id, count=len(refs))
        values = []
        for offset, ref in enumerate(refs):
            head = groups[ref][0].household
            values.append({
                "registration_number": registration_number(site.code, first + offset),
                "household_ref": ref, "site_id": site.id, "organisation_id": organisation_id,
                "origin_pcode": head["origin_pcode"], "origin_locality": head["origin_locality"],
                "displacement_date": head["displacement_date"],
                "arrival_date": head["arrival_date"], "status": HouseholdStatus.present,
                "consent_registration": head["consent_registration"],
                "consent_sharing": head["consent_sharing"],
                "consent_purposes": head["consent_purposes"],
                "consent_given_by": head["consent_given_by"], "consent_at": consent_at or now,
                "import_id": import_id, "created_at": now, "updated_at": now,
            })
        insert_rows(db, _HOUSEHOLDS, values)
        # Read the new ids back by the organisation's keys (RETURNING with executemany is
        # row-at-a-time on SQLite when the order must be kept).
        created: dict[str, tuple[int, int, bool]]
        if import_id is not None:  # one query for the whole file
            created = {str(ref): (hid, site.id, True) for hid, ref in db.execute(
                select(Household.id, Household.household_ref).where(
                    Household.import_id == import_id, Household.site_id == site.id))}
        else:
            created = existing_households(db, organisation_id=organisation_id, refs=refs)
        for ref in refs:
            households[ref] = created[ref]
            result.household_ids.append(created[ref][0])
        movements = [{
            "household_id": households[ref][0], "kind": MovementKind.arrival,
            "moved_on": groups[ref][0].household["arrival_date"], "site_id": site.id,
            "individuals": len(groups[ref]), "recorded_by_org_id": organisation_id,
            "created_at": now,
        } for ref in refs]
        insert_rows(db, _MOVEMENTS, movements)
        result.households_created += len(refs)

    members = [(households[ref], row) for ref, group in groups.items() for row in group]
    insert_members(db, members, organisation_id=organisation_id, cipher=cipher, now=now,
                   on_progress=on_progress)
    result.individuals_created = len(members)
    return result
