"""Reading registration files: CSV and XLSX, Kobo/ODK exports, HXL hashtags, mapping files.

The result is the member rows under canonical column names (``havens.people.records``) with
the row number a spreadsheet would show (the header is row 1): as columns of stripped text
(``read_columns``, what the import checks) or as one dict per row (``read_rows``). Columns are
recognised by:

1. an explicit mapping (file header -> canonical name), when given;
2. HXL hashtags in the header row or in the row under it (``fields.HXL_TAGS``);
3. the header itself, without Kobo/ODK group prefixes (``household/member/given_name``,
   ODK Central's ``household-member-given_name``), case and spacing, or a known alias.

A KoboToolbox XLSX export keeps each repeat group on its own sheet, linked to the submission by
``_parent_index``, an ODK ZIP export in a CSV file linked by ``PARENT_KEY`` to the submission's
``KEY`` (``havens.people.odk_zip``); the member rows are joined with their household's here.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter
from typing import Any

from havens.exceptions import ValidationFailed
from havens.people.columns import cells_of
from havens.people.fields import COLUMNS, EXTRA_COLUMNS, HXL_TAGS, text_of
from havens.people.odk_zip import csv_members

KNOWN_COLUMNS: frozenset[str] = frozenset(COLUMNS) | frozenset(EXTRA_COLUMNS)

#: Other headers field teams use for the same thing.
ALIASES: dict[str, str] = {
    "household_id": "household_ref", "hh_ref": "household_ref", "hh_id": "household_ref",
    "site": "site_code", "gender": "sex", "dob": "date_of_birth", "birth_date": "date_of_birth",
    "year_of_birth": "birth_year", "mobile": "phone", "phone_number": "phone",
    "id_type": "document_type", "id_number": "document_number", "needs": "specific_needs",
    "first_name": "given_name", "surname": "family_name", "last_name": "family_name",
}

#: A Kobo/ODK submission's ids as ``header_key`` gives them (``meta/instanceID``: ``instanceid``),
#: in order of preference: ODK's KEY names the submission across its edits, while each edit
#: gets a new instanceID (a household edited in Central must not come back as a new one).
SUBMISSION_KEYS = ("_uuid", "_submission__uuid", "parent_key", "key", "instanceid")
#: (submission's id, repeat's pointer at it) of a Kobo XLSX export, of an ODK CSV export.
_LINKS = (("_index", "_parent_index"), ("key", "parent_key"))

_HXL_TAG = re.compile(r"^\s*#[a-z][a-z0-9_]*(\s*\+\s*[a-z][a-z0-9_]*)*\s*$", re.IGNORECASE)


@dataclass
class Table:
    """One sheet: headers, the rows under them, and the spreadsheet number of the first."""

    name: str
    headers: list[str]
    rows: list[Sequence[Any]]
    first_row_number: int
    hxl: list[str] | None = None


@dataclass
class ReadResult:
    rows: list[tuple[int, dict[str, Any]]]
    mapping: dict[str, str]
    ignored: list[str] = field(default_factory=list)


def read_tables(data: bytes, filename: str) -> list[Table]:
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm", ".zip")):
        members = csv_members(data, filename)  # None: an XLSX workbook
        if members is None:
            return _read_xlsx(data)
        return [_read_csv(content, name, f"{name} in {filename}") for name, content in members]
    return [_read_csv(data)]


def _read_csv(data: bytes, name: str = "csv", where: str = "The file") -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1256")  # Arabic Windows, what older Excel saves (any byte)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows = list(reader)
    if not rows:
        raise ValidationFailed(f"{where} is empty.", field="file")
    return _table(name, rows)


def _read_xlsx(data: bytes) -> list[Table]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ValidationFailed(f"Not a readable XLSX file ({type(exc).__name__}).",
                               field="file") from exc
    tables = []
    try:
        for sheet in book.worksheets:
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            if rows:
                tables.append(_table(sheet.title, rows))
    except ValidationFailed:
        raise
    except Exception as exc:  # a damaged part found only while reading rows (lazy parsing)
        raise ValidationFailed(f"A sheet of this XLSX file is damaged ({type(exc).__name__}).",
                               field="file") from exc
    book.close()
    if not tables:
        raise ValidationFailed("The workbook has no data.", field="file")
    return tables


def _is_hxl_row(row: Sequence[Any]) -> bool:
    cells = [text_of(c) for c in row if text_of(c)]
    return bool(cells) and all(_HXL_TAG.match(c) for c in cells)


def _table(name: str, rows: Sequence[Sequence[Any]]) -> Table:
    headers = [text_of(c) for c in rows[0]]
    if _is_hxl_row(rows[0]):
        return Table(name, headers, list(rows[1:]), 2, hxl=headers)
    if len(rows) > 1 and _is_hxl_row(rows[1]):
        return Table(name, headers, list(rows[2:]), 3, hxl=[text_of(c) for c in rows[1]])
    return Table(name, headers, list(rows[1:]), 2)


def header_key(header: str) -> str:
    """A header without group prefixes, lower case, spaces as underscores."""
    last = re.split(r"[/:]", header.strip())[-1]
    key = re.sub(r"\s+", "_", last.strip().lower())
    if key not in KNOWN_COLUMNS and key not in ALIASES and "-" in key:
        key = key.rsplit("-", 1)[-1]  # ODK Central joins groups with '-'
    return ALIASES.get(key, key)


def hxl_column(tagspec: str) -> str | None:
    parts = [p.strip().lower() for p in tagspec.replace(" ", "").split("+")]
    tag, attributes = parts[0], frozenset(parts[1:])
    best: tuple[int, str] | None = None
    for want_tag, want_attributes, column in HXL_TAGS:
        if tag == want_tag and want_attributes <= attributes and (
                best is None or len(want_attributes) > best[0]):
            best = (len(want_attributes), column)
    return best[1] if best else None


def load_mapping(data: bytes | str | dict[str, str] | None) -> dict[str, str]:
    """A mapping file: JSON object of file header -> canonical column."""
    if data is None:
        return {}
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        mapping = text if isinstance(text, dict) else json.loads(text)
    except UnicodeDecodeError as exc:
        raise ValidationFailed("The mapping file is not UTF-8 text: save it as UTF-8.",
                               field="mapping") from exc
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"The mapping is not JSON: {exc.msg}.", field="mapping") from exc
    except RecursionError as exc:  # brackets nested thousands deep
        raise ValidationFailed("The mapping is not a flat JSON object.",
                               field="mapping") from exc
    if isinstance(mapping, dict) and isinstance(mapping.get("columns"), dict):
        mapping = mapping["columns"]
    if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ValidationFailed("The mapping must be a JSON object of header -> column.",
                               field="mapping")
    unknown = sorted(v for v in mapping.values() if v not in KNOWN_COLUMNS)
    if unknown:
        raise ValidationFailed(f"The mapping names unknown column(s): {', '.join(unknown)}.",
                               field="mapping")
    return {k.strip(): v for k, v in mapping.items()}


def _columns(table: Table, mapping: dict[str, str]) -> dict[int, str]:
    """Column index -> canonical name, for the columns recognised."""
    found: dict[int, str] = {}
    for index, header in enumerate(table.headers):
        name: str | None = mapping.get(header)
        if name is None and table.hxl and index < len(table.hxl) and table.hxl[index]:
            name = hxl_column(table.hxl[index])
        if name is None and header:
            key = header_key(header)
            name = key if key in KNOWN_COLUMNS or key in _IDS else None
        if name is not None and name not in found.values():
            found[index] = name
    return found


@dataclass
class ReadColumns:
    """A file's member rows as columns: canonical name -> stripped text, one item a row."""

    numbers: list[int]  #: each row's number as a spreadsheet shows it
    cells: dict[str, list[str]]
    mapping: dict[str, str]
    ignored: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.numbers)


@dataclass
class _Layout:
    """Which table holds the members, and which of its columns are recognised."""

    main: Table
    main_columns: dict[int, str]
    members: tuple[Table, dict[int, str]] | None
    names: set[str]
    mapping: dict[str, str]
    ignored: list[str]

    @property
    def submissions(self) -> bool:
        """A Kobo/ODK export: rows identified by submission ids (joined, keys filled in)."""
        return self.members is not None or bool(self.names.intersection(_IDS))


_IDS = (*SUBMISSION_KEYS, "_index", "_parent_index")
_PARENTS = frozenset(parent for _own, parent in _LINKS)


def _layout(data: bytes, filename: str, mapping: dict[str, str] | None) -> _Layout:
    mapping = mapping or {}
    tables = read_tables(data, filename)
    resolved = [(t, _columns(t, mapping)) for t in tables]
    # Submissions: the table with no parent; members: the repeat with most recognised columns.
    main, main_columns = next(((t, c) for t, c in resolved if not _PARENTS & {*c.values()}),
                              resolved[0])
    members = max(((t, c) for t, c in resolved if t is not main and _PARENTS & {*c.values()}),
                  key=lambda tc: len(KNOWN_COLUMNS & {*tc[1].values()}), default=None)
    if members is None:
        used = main_columns
        ignored = [h for i, h in enumerate(main.headers) if h and i not in main_columns]
    else:
        used = {**main_columns, **{-1 - k: v for k, v in members[1].items()}}
        ignored = [h for i, h in enumerate(members[0].headers) if h and i not in members[1]]
    names = set(used.values())
    if "household_ref" not in names and not names & set(SUBMISSION_KEYS):
        raise ValidationFailed(
            "No household_ref column (nor a Kobo/ODK submission id): members cannot be "
            "grouped into households. Recognised columns: "
            + (", ".join(sorted(names - set(SUBMISSION_KEYS))) or "none") + ".",
            field="household_ref")
    header_of = {v: (main.headers[k] if k >= 0 else members[0].headers[-1 - k])  # type: ignore[index]
                 for k, v in used.items()}
    return _Layout(main, main_columns, members, names,
                   {h: c for c, h in header_of.items() if c in KNOWN_COLUMNS}, ignored)


def read_columns(data: bytes, filename: str, mapping: dict[str, str] | None = None
                 ) -> ReadColumns:
    """The file's member rows as columns (what the import checks), with their row numbers.

    A plain sheet goes from its cells to columns directly; a Kobo/ODK export through
    ``read_rows`` (its sheets joined row by row), then into columns.
    """
    layout = _layout(data, filename, mapping)
    if layout.submissions:
        rows = _member_rows(layout)
        numbers = [number for number, _row in rows]
        cells = cells_of([row for _number, row in rows])
    else:
        numbers, cells = _table_cells(layout.main, layout.main_columns)
    return ReadColumns(numbers=numbers, cells=cells, mapping=layout.mapping,
                       ignored=layout.ignored)


def read_rows(data: bytes, filename: str, mapping: dict[str, str] | None = None) -> ReadResult:
    """The file's member rows as canonical dicts, with their spreadsheet row numbers."""
    layout = _layout(data, filename, mapping)
    if layout.submissions:
        rows = _member_rows(layout)
    else:
        rows = _dict_rows(layout.main, layout.main_columns)
    return ReadResult(rows=rows, mapping=layout.mapping, ignored=layout.ignored)


def _member_rows(layout: _Layout) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a Kobo/ODK export: repeat sheet joined, household_ref from the submission id."""
    if layout.members is None:
        rows = _dict_rows(layout.main, layout.main_columns)
    else:
        rows = _join_repeat(layout.main, layout.main_columns, *layout.members)
    for _number, row in rows:
        if not text_of(row.get("household_ref")):
            for key in SUBMISSION_KEYS:
                if text_of(row.get(key)):
                    row["household_ref"] = text_of(row[key])
                    break
        for key in _IDS:
            row.pop(key, None)
    return rows


def _table_cells(table: Table, columns: dict[int, str]
                 ) -> tuple[list[int], dict[str, list[str]]]:
    """Row numbers and recognised columns (stripped text) of a sheet's non-blank rows.

    Column-wise, with C-level loops: a row is blank when all its cells are (as text), a short
    row's missing cells are blank.
    """
    rows = table.rows
    try:  # text cells (CSV): blank when the joined cells are
        keep: list[Any] = list(map(str.strip, map("".join, rows)))
    except TypeError:  # spreadsheet cells: numbers, dates, empty
        keep = [any(text_of(c) for c in row) for row in rows]
    numbers = list(range(table.first_row_number, table.first_row_number + len(rows)))
    if not all(keep):
        rows = list(compress(rows, keep))
        numbers = list(compress(numbers, keep))
    indexes, names = list(columns), list(columns.values())
    if not rows or not indexes:
        return numbers, {name: [] for name in names}
    width = max(indexes) + 1
    if min(map(len, rows)) < width:
        rows = [row if len(row) >= width else [*row, *[None] * (width - len(row))]
                for row in rows]
    pick = itemgetter(*indexes) if len(indexes) > 1 else _one(indexes[0])
    cells: dict[str, list[str]] = {name: [] for name in names}
    targets = list(cells.values())
    # A slice of rows at a time: its cells stay in the CPU's caches from reading to stripping.
    for start in range(0, len(rows), _SLICE):
        for target, values in zip(targets, zip(*map(pick, rows[start:start + _SLICE]),
                                                strict=True), strict=True):
            try:
                target += map(str.strip, values)
            except TypeError:  # not text only: spreadsheet cells, or a short row's missing
                del target[start:]
                target += map(text_of, values)
    return numbers, cells


def _dict_rows(table: Table, columns: dict[int, str]) -> list[tuple[int, dict[str, Any]]]:
    out = []
    items = list(columns.items())
    names = [name for _i, name in items]
    pick = itemgetter(*[i for i, _name in items]) if len(items) > 1 else None
    width = max(columns) + 1 if columns else 0
    for offset, row in enumerate(table.rows):
        length = len(row)
        try:  # text cells (CSV): blank when the joined cells are
            blank = not "".join(row).strip()
        except TypeError:  # spreadsheet cells: numbers, dates, empty
            blank = not any(text_of(c) for c in row)
        if blank:
            continue
        if pick is not None and length >= width:
            out.append((table.first_row_number + offset, dict(zip(names, pick(row), strict=True))))
        else:
            out.append((table.first_row_number + offset,
                        {name: row[i] if i < length else None for i, name in items}))
    return out


_SLICE = 2_000


def _one(index: int) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A getter of one cell as a 1-tuple (``itemgetter`` of one index gives the cell)."""
    return lambda row: (row[index],)


def _join_repeat(main: Table, main_columns: dict[int, str], repeat: Table,
                 repeat_columns: dict[int, str]) -> list[tuple[int, dict[str, Any]]]:
    own, parent_key = next(link for link in _LINKS if link[1] in repeat_columns.values())
    submissions = {text_of(row.get(own)): row for _n, row in _dict_rows(main, main_columns)}
    joined = []
    for number, row in _dict_rows(repeat, repeat_columns):
        parent = submissions.get(text_of(row.get(parent_key)), {})
        merged = {k: v for k, v in parent.items() if text_of(v)}
        merged.update({k: v for k, v in row.items() if text_of(v) or k not in merged})
        joined.append((number, merged))
    return joined
