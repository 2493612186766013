"""Reading a site list as a table: XLSX or CSV, UTF-8 or Windows-1252, HXL-tagged or not.

The result keeps each row's number as the user sees it in Excel (header rows included), so
errors can point at the cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from havens.exceptions import ValidationFailed

#: How many rows may precede the hashtag row (the HXL standard allows a few title rows).
_HXL_SEARCH_ROWS = 25


@dataclass
class Table:
    headers: list[str]
    tags: list[str | None]
    rows: list[tuple[int, list[Any]]] = field(repr=False)
    sheet: str | None = None
    encoding: str | None = None
    hxl: bool = False

    def column_name(self, index: int) -> str:
        """How to name a column to a user: its header, its hashtag, and (XLSX) its letter."""
        name = self.headers[index] or self.tags[index] or f"column {index + 1}"
        if self.sheet is not None:
            from openpyxl.utils import get_column_letter

            return f"{name} ({get_column_letter(index + 1)})"
        return name


def is_hashtag_row(cells: Iterable[Any]) -> bool:
    values = [str(c).strip() for c in cells if c is not None and str(c).strip()]
    return bool(values) and all(v.startswith("#") for v in values)


def make_table(raw_rows: Iterable[list[Any]], *, sheet: str | None = None,
               encoding: str | None = None) -> Table:
    """Find the header (and hashtag) row, then keep the non-empty data rows with numbers."""
    numbered = [(number, row) for number, row in enumerate(raw_rows, start=1)]
    non_empty = [(n, r) for n, r in numbered if any(_present(c) for c in r)]
    if not non_empty:
        raise ValidationFailed("The file has no rows.", field="file")
    tag_at = next((i for i, (_n, r) in enumerate(non_empty[:_HXL_SEARCH_ROWS])
                   if is_hashtag_row(r)), None)
    if tag_at is not None:
        tags_row = non_empty[tag_at][1]
        header_row = non_empty[tag_at - 1][1] if tag_at > 0 else []
        data = non_empty[tag_at + 1:]
    else:
        tags_row, header_row, data = [], non_empty[0][1], non_empty[1:]
    width = max(len(header_row), len(tags_row), *(len(r) for _n, r in data)) if data else max(
        len(header_row), len(tags_row))
    headers = [_text(header_row[i]) if i < len(header_row) else "" for i in range(width)]
    tags = [(_text(tags_row[i]) or None) if i < len(tags_row) else None for i in range(width)]
    rows = [(n, list(r) + [None] * (width - len(r))) for n, r in data]
    return Table(headers=headers, tags=tags, rows=rows, sheet=sheet, encoding=encoding,
                 hxl=tag_at is not None)


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _text(value: Any) -> str:
    # Header cells often hold line breaks ("Site Name\nاسم الموقع").
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


def read_table(path: Path, *, sheet: str | None = None,
               score: Callable[[Table], int] | None = None) -> Table:
    """The site table of an .xlsx or .csv file. Without ``sheet``, the sheet whose columns
    ``score`` best (most recognised columns) is read."""
    if not path.exists():
        raise ValidationFailed(f"{path}: no such file.", field="file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet=sheet, score=score)
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv_bytes(path.read_bytes())
    raise ValidationFailed(f"{path.name}: use an .xlsx or .csv file.", field="file")


def _read_xlsx(path: Path, *, sheet: str | None, score: Callable[[Table], int] | None) -> Table:
    import openpyxl

    try:
        # Cached values, not formulas: P-code cells are often formulas to other workbooks.
        # keep_links=False: the cached copies of linked workbooks are not needed (and slow).
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, key) on a damaged file
        raise ValidationFailed(f"{path.name}: not a readable Excel workbook "
                               f"({type(exc).__name__}).", field="file") from exc
    try:
        return _choose_sheet(book, path=path, sheet=sheet, score=score)
    except ValidationFailed:
        raise
    except Exception as exc:  # a damaged part found only while reading rows (lazy parsing)
        raise ValidationFailed(f"{path.name}: a sheet of this workbook is damaged "
                               f"({type(exc).__name__}).", field="file") from exc
    finally:
        book.close()


def _choose_sheet(book: Any, *, path: Path, sheet: str | None,
                  score: Callable[[Table], int] | None) -> Table:
    if sheet is not None:
        if sheet not in book.sheetnames:
            raise ValidationFailed(f"{path.name} has no sheet {sheet!r} (sheets: "
                                   f"{', '.join(book.sheetnames)}).", field="sheet")
        names = [sheet]
    else:
        names = list(book.sheetnames)
    best: tuple[int, str] | None = None
    if len(names) > 1 and score is not None:
        for name in names:
            head = [list(r) for r in book[name].iter_rows(max_row=_HXL_SEARCH_ROWS + 1,
                                                          values_only=True)]
            try:
                value = score(make_table(head, sheet=name))
            except ValidationFailed:
                continue
            if best is None or value > best[0]:
                best = (value, name)
    chosen = best[1] if best else names[0]
    rows = [list(r) for r in book[chosen].iter_rows(values_only=True)]
    return make_table(rows, sheet=chosen)


def read_csv_bytes(content: bytes) -> Table:
    """Decode UTF-8 (with or without BOM), else Windows-1252; sniff , ; or tab."""
    try:
        text, encoding = content.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # Excel "CSV" on Western-European Windows; every byte decodes except five unused ones.
        try:
            text, encoding = content.decode("cp1252"), "windows-1252"
        except UnicodeDecodeError as exc:
            raise ValidationFailed("The file is neither UTF-8 nor Windows-1252 text.",
                                   field="file") from exc
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    return make_table(rows, encoding=encoding)
