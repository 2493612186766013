"""The column-wise import path against row-by-row references.

A file is read into columns (``tabular.read_columns``), checked a slice of rows at a time
(``importing.check_cells``), checked across rows (``importing.check_file``) and written from the
columns. Each step is compared here with a row-by-row way of doing the same: ``read_rows``,
``check_row`` on every row, and the file rules written out as a plain loop over the rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.geo.models import AdminArea
from havens.people import importing, records, tabular
from havens.people.crypto import FieldCipher
from havens.people.generator import CSV_COLUMNS, Generator, to_csv
from havens.people.models import Household, Individual, Relationship
from havens.zones.models import Site
from tests.people.conftest import World

TODAY = dt.date(2026, 6, 1)
_SHARED = [f for f in records.HOUSEHOLD_FIELDS if f != "consent_given_by"]


def generated(count: int, seed: int = 4) -> list[dict[str, str]]:
    return [dict(r) for r in Generator(seed=seed, origins=["SY070000", "SY070001"], today=TODAY,
                                       ref_prefix="C").rows(count)]


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    columns = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def assert_read_alike(data: bytes, filename: str, mapping: dict[str, str] | None = None
                      ) -> tabular.ReadColumns:
    """``read_columns`` gives the rows ``read_rows`` gives, as columns of stripped text."""
    by_rows = tabular.read_rows(data, filename, mapping)
    by_columns = tabular.read_columns(data, filename, mapping)
    assert by_columns.numbers == [number for number, _row in by_rows.rows]
    expected = records.cells_of([row for _number, row in by_rows.rows])
    assert by_columns.cells == {name: expected.get(name, [""] * len(by_rows.rows))
                                for name in by_columns.cells}
    assert set(expected) <= set(by_columns.cells)
    assert (by_columns.mapping, by_columns.ignored) == (by_rows.mapping, by_rows.ignored)
    return by_columns


def test_csv_read_as_columns_as_rows() -> None:
    rows = generated(4_500)
    lines = as_csv(rows).decode().splitlines()
    lines.insert(3, "")                            # an empty line
    lines.insert(7, ",, ,\t,")                     # cells of spaces only: a blank row
    lines[9] = " " + lines[9] + ",extra"           # a cell to strip, a cell past the header
    lines[3_010] = lines[3_010].rsplit(",", 5)[0]  # a short row, in a later slice of rows
    data = ("\n".join(lines) + "\n").encode()
    read = assert_read_alike(data, "f.csv")
    assert read.numbers[:4] == [2, 3, 5, 6] and len(read) == len(rows)
    assert read.cells["household_ref"][6] == read.cells["household_ref"][6].strip() != ""
    short = read.numbers.index(3_011)  # line 3,011 of the file
    assert read.cells["date_of_birth"][short] == ""  # past the short row's end: blank


def test_hxl_mapped_and_spreadsheet_files_read_as_columns_as_rows() -> None:
    hxl = ("Household,Relation,Prénom,Naissance\n"
           "#beneficiary+household+code,#beneficiary+relationship,"
           "#beneficiary+name+given+i_en,#date+birth\nH1,head,Omar,1980-01-01\nH1,child,Sara\n")
    assert assert_read_alike(hxl.encode(), "h.csv").numbers == [3, 4]
    assert_read_alike(b"Famille,Nom\nF1,Lina\n", "m.csv",
                      {"Famille": "household_ref", "Nom": "given_name"})

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["household_ref", "relationship", "given_name", "date_of_birth", "phone"])
    sheet.append(["X1", "head", "Ali", dt.datetime(1990, 1, 2), 944123456])
    sheet.append([None, None, None, None, None])
    sheet.append(["X1", " child ", "Reem", 2015.0, None])
    sheet.append(["X2", "head", "Omar", "1970-03-04", "+963 944"])
    out = io.BytesIO()
    book.save(out)
    read = assert_read_alike(out.getvalue(), "x.xlsx")
    assert read.numbers == [2, 4, 5]
    assert read.cells["date_of_birth"] == ["1990-01-02", "2015", "1970-03-04"]
    assert read.cells["phone"] == ["944123456", "", "+963 944"]


def test_kobo_export_reads_as_columns_as_rows() -> None:
    book = Workbook()
    main = book.active
    assert main is not None
    main.append(["household/arrival_date", "_uuid", "_index"])
    main.append([dt.datetime(2026, 5, 1), "uuid-a", 1])
    members = book.create_sheet("member")
    members.append(["household/member/given_name", "household/member/sex", "_index",
                    "_parent_index"])
    members.append(["Khaled", "M", 1, 1])
    members.append(["Reem", "F", 2, 1])
    out = io.BytesIO()
    book.save(out)
    read = assert_read_alike(out.getvalue(), "k.xlsx")
    assert read.cells["household_ref"] == ["uuid-a", "uuid-a"]
    assert read.cells["arrival_date"] == ["2026-05-01", "2026-05-01"]


def reference_problems(db: Session, raws: list[dict[str, str]], *, default_site: str | None
                       ) -> list[tuple[int, str, str]]:
    """Every row checked alone, then the file rules as a plain loop over the rows."""
    checked = [(number, records.check_row(dict(raw), today=TODAY, default_site=default_site))
               for number, raw in enumerate(raws, start=2)]
    sites = set(db.scalars(select(Site.code)))
    levels = {pcode: level for pcode, level in db.execute(
        select(AdminArea.pcode, AdminArea.level))}
    first_of: dict[str, tuple[int, records.CheckedRow]] = {}
    head_of: dict[str, int] = {}
    eligible: list[records.CheckedRow] = []
    row_of_key: dict[str, int] = {}
    for number, row in checked:
        if row.row_key:
            same = row_of_key.setdefault(row.row_key, number)
            if same != number:
                row.problems.append(("household_ref", f"row repeats row {same} exactly"))
        code, pcode = row.household["site_code"], row.household["origin_pcode"]
        if code and code not in sites:
            row.problems.append(("site_code", f"no site with code {code}"))
        if pcode and pcode not in levels:
            row.problems.append(("origin_pcode", f"unknown P-code {pcode}"))
        elif pcode and levels[pcode] != 3:
            row.problems.append(("origin_pcode", f"{pcode} is not an admin3 (sub-district) "
                                                 f"P-code (level {levels[pcode]})"))
        if not row.household_ref or row.problems:
            continue
        eligible.append(row)
        first_number, first = first_of.setdefault(row.household_ref, (number, row))
        for name in _SHARED:
            if row.household[name] != first.household[name] and row.household[name]:
                row.problems.append((name, f"differs from row {first_number} of household "
                                           f"{row.household_ref}"))
        if row.member["relationship"] == Relationship.head:
            if row.household_ref in head_of:
                row.problems.append(("relationship", f"household {row.household_ref} already "
                                                     f"has a head (row "
                                                     f"{head_of[row.household_ref]})"))
            else:
                head_of[row.household_ref] = number
    # A household none of whose rows is the head, nor could be (a relationship unread).
    kin = [row.member["relationship"] for _number, row in checked]
    refs = [row.household_ref for _number, row in checked]
    headless = set(refs) - {r for r, k in zip(refs, kin, strict=True)
                            if k in (Relationship.head, None)}
    for row in eligible:
        if row.household_ref in headless:
            row.problems.append(("relationship", f"household {row.household_ref} has no head: "
                                                 "one member's relationship is head"))
    return [(number, column, reason) for number, row in checked
            for column, reason in row.problems]


def faulty_file(world: World, seed: int) -> list[dict[str, str]]:
    """Generated rows, shuffled, with faults within rows and across rows."""
    rnd = random.Random(seed)
    rows = generated(600, seed=seed)
    rnd.shuffle(rows)
    faults: list[dict[str, str]] = [
        {"relationship": "head"}, {"arrival_date": "2026-01-09"}, {"origin_pcode": "SY0700"},
        {"origin_pcode": "SY999999"}, {"site_code": "CP999999"},
        {"site_code": world.sites[1].code}, {"consent_sharing": "no"}, {"sex": "?"},
        {"date_of_birth": "2030-01-01"}, {"phone": "12"}, {"displacement_date": ""},
        {"consent_purposes": "statistics"}, {"household_ref": ""}, {"specific_needs": "ZZ"}]
    for row in rows:
        if rnd.random() < 0.15:
            row.update(rnd.choice(faults))
    rows += [dict(rows[3]), dict(rows[40]), dict(rows[41])]  # repeated exactly
    return rows


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("step", [7, 2_000])
def test_file_rules_as_the_row_by_row_reference(
        db: Session, world: World, monkeypatch: pytest.MonkeyPatch, seed: int, step: int
) -> None:
    rows = faulty_file(world, seed)
    monkeypatch.setattr(importing, "_CHECK_STEP", step)  # slices of rows: 7 or the file
    for site in (world.sites[0].code, None):
        read = tabular.read_columns(as_csv(rows), "f.csv")
        progress: list[int] = []

        def on_progress(_stage: str, done: int, _total: int, seen: list[int] = progress) -> None:
            seen.append(done)

        batch = importing.check_cells(read.cells, default_site=site, today=TODAY,
                                      on_progress=on_progress)
        importing.check_file(db, batch, read.numbers, organisation_id=world.unhcr.id)
        found = [(read.numbers[index], column, reason) for index in sorted(batch.problems)
                 for column, reason in batch.problems[index]]
        expected = reference_problems(db, rows, default_site=site)
        assert found == expected
        if site:  # without one, only rows naming their site get to the rules across rows
            assert {column for _n, column, _r in found} >= {
                "household_ref", "relationship", "origin_pcode", "site_code", "arrival_date"}
        assert progress[0] == 0 and progress[-1] == len(rows) == len(batch)
        assert progress == sorted(progress)


def test_checked_columns_give_back_their_rows() -> None:
    raws = generated(30)
    checker = records.RowChecker(today=TODAY, default_site="CP001001")
    rows = [checker.check(raw) for raw in raws]
    batch = records.CheckedColumns.from_rows(rows)
    assert [batch.row(index) for index in range(len(rows))] == rows
    picked = batch.take([5, 0, 29])
    assert [picked.row(index) for index in range(3)] == [rows[5], rows[0], rows[29]]
    whole = records.CheckedColumns.empty()
    whole.extend(batch.take(range(10)))  # type: ignore[arg-type]
    whole.extend(batch.take(range(10, len(rows))))  # type: ignore[arg-type]
    assert [whole.row(index) for index in range(len(rows))] == rows


def test_interleaved_households_are_written_household_by_household(
        db: Session, world: World, cipher: FieldCipher) -> None:
    rows = generated(200)
    order = list(range(len(rows)))
    random.Random(8).shuffle(order)
    shuffled = [rows[index] for index in order]
    report = importing.import_file(db, actor=world.p(world.registrar), data=to_csv(shuffled),
                                   filename="s.csv", site_code=world.sites[0].code,
                                   cipher=cipher, today=TODAY)
    assert report.written and report.individuals_created == len(rows)
    refs = list(dict.fromkeys(row["household_ref"] for row in shuffled))
    households = list(db.scalars(select(Household).order_by(Household.registration_number)))
    assert [h.household_ref for h in households] == refs  # numbered by first row
    people = db.execute(select(Individual.household_id, Individual.row_key)
                        .order_by(Individual.id)).all()
    id_of = {h.household_ref: h.id for h in households}
    expected = [(id_of[ref], records.row_key(ref, {c: row.get(c, "") for c in CSV_COLUMNS}))
                for ref in refs for row in shuffled if row["household_ref"] == ref]
    assert [tuple(person) for person in people] == expected
