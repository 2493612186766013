"""Reading registration lists (CSV, plain headers or HXL hashtags) into DuckDB, and the pairs of
their records known to be different people (``load_cannot_link``); clear errors."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from havens.exceptions import ValidationFailed
from havens.linkage.duck import one, rows, run

FIELDS = ["record_id", "given_name", "father_name", "grandfather_name", "family_name", "sex",
          "date_of_birth", "origin_pcode", "phone", "document_number"]
REQUIRED = ["record_id"]

# Header spellings field users actually send (case-insensitive, spaces/hyphens as underscores).
_ALIASES: dict[str, list[str]] = {
    "record_id": ["record_id", "id", "recordid", "_id", "_uuid"],
    "given_name": ["given_name", "first_name", "givenname", "name_first"],
    "father_name": ["father_name", "fathers_name", "father_s_name", "fathername"],
    "grandfather_name": ["grandfather_name", "grandfathers_name", "grandfather_s_name"],
    "family_name": ["family_name", "last_name", "surname", "familyname"],
    "sex": ["sex", "gender"],
    "date_of_birth": ["date_of_birth", "dob", "birth_date", "birthdate"],
    "origin_pcode": ["origin_pcode", "pcode", "origin", "origin_p_code"],
    "phone": ["phone", "phone_number", "mobile", "telephone"],
    "document_number": ["document_number", "document", "id_number", "national_id"],
}
# HXL hashtags with attributes in any order (compared as sorted sets).
_HXL: dict[str, list[str]] = {
    "record_id": ["#indiv+id", "#beneficiary+id", "#id", "#indiv+code", "#x_record_id"],
    "given_name": ["#indiv+name+given", "#indiv+name+first", "#beneficiary+name+first"],
    "father_name": ["#indiv+name+father", "#beneficiary+name+father"],
    "grandfather_name": ["#indiv+name+grandfather", "#beneficiary+name+grandfather"],
    "family_name": ["#indiv+name+family", "#indiv+name+last", "#beneficiary+name+last"],
    "sex": ["#indiv+sex", "#indiv+gender", "#beneficiary+sex", "#sex"],
    "date_of_birth": ["#indiv+date+birth", "#date+birth", "#beneficiary+date+birth"],
    "origin_pcode": ["#adm3+code+origin", "#adm2+code+origin", "#geo+code+origin",
                     "#indiv+origin+code", "#adm3+code", "#adm4+code+origin"],
    "phone": ["#contact+phone", "#indiv+phone", "#contact+phone+mobile"],
    "document_number": ["#indiv+id+document", "#indiv+document", "#beneficiary+id+document"],
}
_DATE_RE = r"^\d{4}(-\d{2}-\d{2})?$"
_SEX = {"m": "M", "male": "M", "ذكر": "M", "f": "F", "female": "F", "انثى": "F", "أنثى": "F"}


@dataclass(frozen=True, slots=True)
class InputFile:
    """Where each field is in a file, and whether a HXL hashtag row follows the header."""

    path: Path
    columns: dict[str, str]  # field -> column name in the file
    hxl: bool
    delimiter: str = ","


def _hxl_key(tag: str) -> tuple[str, frozenset[str]]:
    parts = re.split(r"\s*\+\s*", tag.strip().lower())
    return parts[0], frozenset(p for p in parts[1:] if p)


def inspect(path: Path) -> InputFile:
    """Find the columns of a registration list by header or HXL hashtag."""
    if not path.is_file():
        raise ValidationFailed(f"{path}: no such file", field="file")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
        # Spreadsheets saved in some locales use ";" (or tabs): take the most frequent separator.
        delimiter = max([",", ";", "\t"], key=first.count)
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, None)
        second = next(reader, None)
    if not header:
        raise ValidationFailed(f"{path}: the file is empty", field="file")
    hxl = bool(second) and any(c.strip().startswith("#") for c in second or [])
    columns: dict[str, str] = {}
    if hxl and second:
        tags = {_hxl_key(t): header[i] for i, t in enumerate(second) if t.strip().startswith("#")}
        for field, options in _HXL.items():
            for option in options:
                if _hxl_key(option) in tags:
                    columns[field] = tags[_hxl_key(option)]
                    break
    lowered = {re.sub(r"[\s\-'’.]+", "_", h.strip().lower()): h for h in header}
    for field, options in _ALIASES.items():
        if field in columns:
            continue
        for option in options:
            if option in lowered:
                columns[field] = lowered[option]
                break
    for field in REQUIRED:
        if field not in columns:
            raise ValidationFailed(
                f"{path.name}: no '{field}' column (header or HXL hashtag #indiv+id); "
                f"columns found: {', '.join(header)}", field=field)
    return InputFile(path=path, columns=columns, hxl=hxl, delimiter=delimiter)


def load(con: duckdb.DuckDBPyConnection, spec: InputFile, table: str, src: int = 0) -> int:
    """Load one file into ``table`` with the standard columns; returns the number of records.

    Adds ``rid`` (a dense integer id over all loaded files), ``src`` and ``line`` (file line).
    """
    cols = []
    for field in FIELDS:
        name = spec.columns.get(field)
        cols.append(f'nullif(trim("{_q(name)}"), \'\') AS {field}' if name
                    else f"CAST(NULL AS VARCHAR) AS {field}")
    offset = _count(con, table) if _exists(con, table) else 0
    # n is the data row number; the header is line 1, so row n is line n + 1.
    skip = 1 if spec.hxl else 0
    # rid numbers the data rows from ``offset`` (the row number less the skipped HXL row: no
    # second, sorting window over the file).
    select = f"""
        SELECT {offset - 1 - skip} + n AS rid, {src} AS src, n + 1 AS line, {', '.join(cols)}
        FROM (SELECT *, row_number() OVER () AS n
              FROM read_csv(?, all_varchar = true, header = true, comment = '',
                            delim = '{spec.delimiter}'))
        WHERE n > {skip}
    """
    # Line numbers come from the scan order: keep it for the load (the engine relaxes it after).
    run(con, "SET preserve_insertion_order = true")
    try:
        if offset:
            run(con, f"INSERT INTO {table} {select}", [str(spec.path)])
        else:
            run(con, f"CREATE OR REPLACE TABLE {table} AS {select}", [str(spec.path)])
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValidationFailed(f"{spec.path.name}: cannot be read as CSV ({first})",
                               field="file") from exc
    finally:
        run(con, "SET preserve_insertion_order = false")
    _validate(con, table, spec, src)
    return _count(con, f"{table} WHERE src = {src}")


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    return bool(one(con, q, [table]))


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(one(con, f"SELECT count(*) FROM {table}") or 0)


def _first(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...] | None:
    found = rows(con, sql)
    return found[0] if found else None


def _q(name: str) -> str:
    return name.replace('"', '""')


def _validate(con: duckdb.DuckDBPyConnection, table: str, spec: InputFile, src: int) -> None:
    name = spec.path.name
    col = spec.columns
    row = _first(con, f"SELECT line FROM {table} WHERE src = {src} AND record_id IS NULL "
                 "ORDER BY line LIMIT 1")
    if row:
        raise ValidationFailed(f"{name} line {row[0]}: empty {col['record_id']}", field="record_id")
    row = _first(con, f"""
        SELECT record_id, list(line ORDER BY line) FROM {table} WHERE src = {src}
        GROUP BY record_id HAVING count(*) > 1 ORDER BY min(line) LIMIT 1""")
    if row:
        lines = ", ".join(str(x) for x in row[1][:5])
        raise ValidationFailed(f"{name}: record id '{row[0]}' appears more than once "
                               f"(lines {lines})", field="record_id")
    row = _first(con, f"""
        SELECT line, date_of_birth FROM {table}
        WHERE src = {src} AND date_of_birth IS NOT NULL
          AND (NOT regexp_matches(date_of_birth, '{_DATE_RE}')
               OR (length(date_of_birth) = 10 AND try_cast(date_of_birth AS DATE) IS NULL))
        ORDER BY line LIMIT 1""")
    if row:
        raise ValidationFailed(
            f"{name} line {row[0]}: {col.get('date_of_birth')} '{row[1]}' is not a date "
            "(expected YYYY-MM-DD or YYYY)", field="date_of_birth")
    sexes = ", ".join(f"'{k}'" for k in _SEX)
    row = _first(con, f"""
        SELECT line, sex FROM {table} WHERE src = {src} AND sex IS NOT NULL
          AND lower(sex) NOT IN ({sexes}) ORDER BY line LIMIT 1""")
    if row:
        raise ValidationFailed(f"{name} line {row[0]}: {col.get('sex')} '{row[1]}' is not M or F",
                               field="sex")
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _SEX.items())
    run(con, f"UPDATE {table} SET sex = CASE lower(sex) {cases} END WHERE src = {src}")


#: The pairs file's record id columns (``dedupe --pairs`` writes them): a reviewed pairs file,
#: cut down to the rows a reviewer rejected, is read back as it is.
CANNOT_LINK_COLUMNS = ("record_id_l", "record_id_r")


def load_cannot_link(con: duckdb.DuckDBPyConnection, path: Path, records: str = "rec",
                     table: str = "cannot_link", source: str = "the list") -> int:
    """Read pairs of records that are different people into ``table`` (``rid_l, rid_r``).

    Every row of ``path`` is such a pair, named by ``record_id_l`` and ``record_id_r`` (other
    columns are ignored); each id must be a record of ``records`` (read from ``source``, named in
    the error). Returns the number of rows.
    """
    if not path.is_file():
        raise ValidationFailed(f"{path}: no such file", field="cannot_link")
    found: list[tuple[int, str, str]] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        delimiter = max([",", ";", "\t"], key=fh.readline().count)
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in CANNOT_LINK_COLUMNS if c not in header]
        if missing:
            raise ValidationFailed(
                f"{path.name}: no '{missing[0]}' column (expected {', '.join(CANNOT_LINK_COLUMNS)}"
                f", as in the --pairs file); columns found: {', '.join(header)}",
                field="cannot_link")
        at = [header.index(c) for c in CANNOT_LINK_COLUMNS]
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # a blank line, as spreadsheets leave at the end
            ids = [row[i].strip() if i < len(row) else "" for i in at]
            for column, value in zip(CANNOT_LINK_COLUMNS, ids, strict=True):
                if not value:
                    raise ValidationFailed(f"{path.name} line {reader.line_num}: empty {column}",
                                           field="cannot_link")
            if ids[0] == ids[1]:
                raise ValidationFailed(f"{path.name} line {reader.line_num}: record id "
                                       f"'{ids[0]}' is paired with itself", field="cannot_link")
            found.append((reader.line_num, ids[0], ids[1]))
    con.register("cannot_link_t", pa.table({
        "line": [f[0] for f in found], "id_l": [f[1] for f in found],
        "id_r": [f[2] for f in found]}, schema=pa.schema([
            ("line", pa.int64()), ("id_l", pa.string()), ("id_r", pa.string())])))
    try:
        run(con, f"""CREATE OR REPLACE TABLE {table} AS
            SELECT c.line, c.id_l, c.id_r, l.rid AS rid_l, r.rid AS rid_r FROM cannot_link_t c
            LEFT JOIN {records} l ON l.record_id = c.id_l
            LEFT JOIN {records} r ON r.record_id = c.id_r""")
    finally:
        con.unregister("cannot_link_t")
    unknown = _first(con, f"""SELECT line, CASE WHEN rid_l IS NULL THEN id_l ELSE id_r END,
        CASE WHEN rid_l IS NULL THEN 'record_id_l' ELSE 'record_id_r' END FROM {table}
        WHERE rid_l IS NULL OR rid_r IS NULL ORDER BY line LIMIT 1""")
    if unknown:
        line, value, column = unknown
        raise ValidationFailed(f"{path.name} line {line}: {column} '{value}' is not a record "
                               f"of {source}", field="cannot_link")
    return len(found)
