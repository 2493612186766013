"""Bulk inserts through the driver: columns of Python values in, executemany or COPY out.

SQLAlchemy's per-value type processing costs more than the database's own work on a large
import, so each column's values are converted here (dates, JSON, enums, booleans, timestamps),
each distinct value once, and rows go to the driver as plain tuples: ``executemany`` on SQLite,
``COPY`` on PostgreSQL (psycopg). Columns, their order and types come from the table definition.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from itertools import islice, repeat
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Connection, Date, Enum, Table
from sqlalchemy.orm import Session

from havens.database import UTCDateTime

_INSERT_BATCH = 5_000  # rows per executemany / COPY (and per progress step)


class Constant:
    """A value the same on every row (organisation, timestamps): converted once."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def converter(column: Column[Any], sqlite: bool) -> Callable[[Any], Any] | None:
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


def _converted(values: Sequence[Any] | Constant, convert: Callable[[Any], Any] | None,
               count: int) -> Sequence[Any] | Iterator[Any]:
    """A column's driver values: each distinct value converted once (they repeat)."""
    if isinstance(values, Constant):
        return repeat(values.value if convert is None else convert(values.value), count)
    if convert is None:
        return values
    try:
        table = {value: convert(value) for value in set(values)}
    except TypeError:  # unhashable values (JSON lists and objects)
        return [convert(value) for value in values]
    return list(map(table.__getitem__, values))


def insert_columns(db: Session, table: Table, columns: dict[str, Sequence[Any] | Constant],
                   count: int, *, on_progress: Callable[[int], None] | None = None) -> None:
    """Insert ``count`` rows given column by column (a sequence, or a ``Constant``)."""
    if not count:
        return
    connection = db.connection()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # room for the indexes of a large import, for this connection
        connection.exec_driver_sql("PRAGMA cache_size=-131072")
    chosen = [c for c in table.columns if c.name in columns]
    names = [c.name for c in chosen]
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {table.name} ({', '.join(names)}) "
                 f"VALUES ({', '.join([marker] * len(names))})")
    values = zip(*[_converted(columns[c.name], converter(c, sqlite), count) for c in chosen],
                 strict=True)
    copy = None if sqlite else _copier(connection, table, names)
    while batch := list(islice(values, _INSERT_BATCH)):
        if copy is not None:
            copy(batch)
        else:
            connection.exec_driver_sql(statement, batch)
        if on_progress:
            on_progress(len(batch))


def insert_rows(db: Session, table: Table, rows: list[dict[str, Any]], *,
                on_progress: Callable[[int], None] | None = None) -> None:
    """Insert many rows of the same columns (dicts) with ``insert_columns``."""
    if rows:
        insert_columns(db, table, {name: [row[name] for row in rows] for name in rows[0]},
                       len(rows), on_progress=on_progress)


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
