"""XLSX exports: an openpyxl write-only workbook, written row by row to a temporary file.

Write-only mode keeps one row in memory at a time; the finished file is then read back in
chunks, so a million rows take the same memory as ten. The first sheet holds the header and the
HXL hashtag row; a second sheet, ``about``, documents the columns.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from havens.interop.hxl import cell
from havens.interop.registry import XLSX_MAX_ROWS as MAX_ROWS
from havens.interop.registry import Column, Export

CHUNK_BYTES = 256 * 1024


def write_xlsx(export: Export, rows: Iterable[Sequence[Any]], target: IO[bytes]) -> int:
    """Write the workbook to ``target``; returns the number of data rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(export.name[:31])
    sheet.freeze_panes = "A3"
    bold = Font(bold=True)
    sheet.append([_styled(sheet, c.name, bold) for c in export.columns])
    sheet.append([_styled(sheet, c.hashtag, Font(italic=True, color="555555"))
                  for c in export.columns])
    count = 0
    for row in rows:
        count += 1
        if count > MAX_ROWS:
            raise OverflowError(f"More than {MAX_ROWS:,} rows: use CSV for this export.")
        sheet.append([cell(v) for v in row])
    about = book.create_sheet("about")
    about.append([_styled(about, h, bold) for h in ("column", "hashtag", "meaning")])
    for column in export.columns:
        about.append([column.name, column.hashtag, column.description])
    about.append([])
    about.append([export.title, "", export.description])
    book.save(target)
    return count


def stream_xlsx(export: Export, rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The workbook's bytes in chunks (built in a temporary file first: a zip is written at its
    end)."""
    with tempfile.TemporaryFile(suffix=".xlsx") as spool:
        write_xlsx(export, rows, spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


def _styled(sheet: Any, value: str, font: Font) -> WriteOnlyCell:
    result = WriteOnlyCell(sheet, value=value)
    result.font = font
    return result


__all__ = ["Column", "stream_xlsx", "write_xlsx"]
