"""CSV with an HXL hashtag row under the header (https://hxlstandard.org/standard/1-1final/).

The file is UTF-8 with a byte-order mark so that Excel shows Arabic names correctly; libhxl, the
HXL Proxy and the importers of Havens all read it.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from havens.interop.registry import Column

CHUNK_ROWS = 2_000


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: ISO dates, enums by value, lists joined by spaces."""
    kind = type(value)
    if kind is str or kind is int:  # most cells: the fast path (a million rows go through)
        return value
    if value is None:
        return ""
    if kind is float:
        return round(value, 4)
    if kind is bool:
        return "yes" if value else "no"
    if kind is dt.date:
        return value.isoformat()
    if kind is dt.datetime:
        return value.isoformat(timespec="seconds")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return value


def write_csv(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV in chunks of bytes: header, hashtags, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([c.name for c in columns])
    writer.writerow([c.hashtag for c in columns])
    pending = 0
    for row in rows:
        writer.writerow([cell(v) for v in row])
        pending += 1
        if pending >= CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")
