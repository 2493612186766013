"""ODK exports: Central/Briefcase ZIPs of CSV files joined by KEY/PARENT_KEY, instanceID as key."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.exceptions import ValidationFailed
from havens.people import importing, odk_zip
from havens.people.crypto import FieldCipher
from havens.people.models import Household, Individual
from havens.people.tabular import read_columns
from tests.people.conftest import World

TODAY = dt.date(2026, 6, 1)
FORM = "havens_registration"
UUID_A = "uuid:6f1c2b7e-0d4a-4b8e-9a51-aaaaaaaaaaaa"
UUID_B = "uuid:6f1c2b7e-0d4a-4b8e-9a51-bbbbbbbbbbbb"


def run(db: Session, world: World, cipher: FieldCipher, data: bytes, name: str,
        **options: object) -> importing.ImportReport:
    return importing.import_file(db, actor=world.p(world.registrar), data=data, filename=name,
                                 cipher=cipher, today=TODAY, **options)  # type: ignore[arg-type]


def csv_bytes(rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode(encoding)


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def central_export(world: World, members: list[list[str]] | None = None) -> dict[str, bytes]:
    """An ODK Central "CSV (.zip)" download: group paths joined by '-', a repeat file a group."""
    site_a, site_b = world.sites[0].code, world.sites[1].code
    main = [["SubmissionDate", "household-site_code", "household-origin_pcode",
             "household-arrival_date", "household-consent", "meta-instanceID", "SET-OF-member",
             "KEY", "SubmitterID", "SubmitterName", "ReviewState"],
            ["2026-05-02T09:10:00.000Z", site_a, "SY070001", "2026-05-01", "yes", UUID_A,
             f"{UUID_A}/member", UUID_A, "5", "enumerator1", ""],
            ["2026-05-02T10:20:00.000Z", site_b, "SY070000", "2026-04-28", "yes", UUID_B,
             f"{UUID_B}/member", UUID_B, "5", "enumerator1", ""]]
    header = ["member-relationship", "member-given_name_ar", "member-given_name_en",
              "member-sex", "member-birth_year", "member-specific_needs", "PARENT_KEY", "KEY"]
    rows = members or [
        ["head", "خالد", "Khaled", "M", "1970", "DS", UUID_A, f"{UUID_A}/member[1]"],
        ["spouse", "سلمى", "Salma", "F", "1975", "", UUID_A, f"{UUID_A}/member[2]"],
        ["head", "عمر", "Omar", "M", "1980", "", UUID_B, f"{UUID_B}/member[1]"],
        ["child", "ريم", "Reem", "F", "2015", "", UUID_B, f"{UUID_B}/member[2]"],
        ["child", "سامي", "Sami", "M", "2018", "", UUID_B, f"{UUID_B}/member[3]"]]
    assistance = [["assistance-kind", "PARENT_KEY", "KEY"],
                  ["blankets", UUID_A, f"{UUID_A}/assistance[1]"]]
    # Repeat files first: the main file is told by its columns, not by where it is stored.
    return {f"{FORM}-member.csv": csv_bytes([header, *rows]),
            f"{FORM}-assistance.csv": csv_bytes(assistance),
            f"{FORM}.csv": csv_bytes(main),
            "media/1715000000000.jpg": b"\xff\xd8\xff\xe0 not read"}


def test_central_zip_joins_members_to_their_households(db: Session, world: World,
                                                       cipher: FieldCipher) -> None:
    report = run(db, world, cipher, zipped(central_export(world)), f"{FORM}.zip")
    assert report.written, report.problems
    assert report.households_created == 2 and report.individuals_created == 5
    sizes = dict(db.execute(select(Household.household_ref, func.count(Individual.id))
                            .join(Individual).group_by(Household.household_ref)).all())
    assert sizes == {UUID_A: 2, UUID_B: 3}
    site_of = dict(db.execute(select(Household.household_ref, Household.site_id)).all())
    assert site_of == {UUID_A: world.sites[0].id, UUID_B: world.sites[1].id}
    head = db.scalar(select(Individual).where(Individual.relationship == "head")
                     .join(Household).where(Household.household_ref == UUID_A))
    assert head is not None and head.specific_needs == ["DS"] and head.dob_estimated


def test_row_problem_in_repeat_file_has_its_row_and_column(db: Session, world: World,
                                                           cipher: FieldCipher) -> None:
    members = [["head", "خالد", "Khaled", "M", "1970", "", UUID_A, f"{UUID_A}/member[1]"],
               ["spouse", "سلمى", "Salma", "X", "1975", "", UUID_A, f"{UUID_A}/member[2]"],
               ["head", "عمر", "Omar", "M", "1980", "", UUID_B, f"{UUID_B}/member[1]"]]
    report = run(db, world, cipher, zipped(central_export(world, members)), f"{FORM}.zip")
    assert not report.written
    assert [(p.row, p.column) for p in report.problems] == [(3, "sex")]  # header is row 1


def test_repeat_file_in_windows_arabic_is_read() -> None:
    files = {f"{FORM}.csv": csv_bytes([["household-arrival_date", "meta-instanceID", "KEY"],
                                       ["2026-05-01", UUID_A, UUID_A]]),
             f"{FORM}-member.csv": csv_bytes([["member-given_name", "PARENT_KEY", "KEY"],
                                              ["خالد", UUID_A, f"{UUID_A}/member[1]"]],
                                             encoding="cp1256")}
    read = read_columns(zipped(files), "export.zip")
    assert read.cells["given_name"] == ["خالد"] and read.cells["household_ref"] == [UUID_A]
    assert read.cells["arrival_date"] == ["2026-05-01"] and read.numbers == [2]


def refusal(data: bytes, name: str = "export.zip") -> str:
    with pytest.raises(ValidationFailed) as refused:
        read_columns(data, name)
    assert refused.value.field == "file"
    return refused.value.message


def test_path_outside_the_archive_is_refused() -> None:
    files = {f"{FORM}.csv": csv_bytes([["KEY"], [UUID_A]]), "../../etc/cron.d/x.csv": b"KEY\n"}
    message = refusal(zipped(files))
    assert "export.zip" in message and "'../../etc/cron.d/x.csv' points outside" in message
    assert "outside" in refusal(zipped({"/abs/form.csv": b"KEY\nA\n"}))


def test_too_much_content_or_too_many_files_is_refused(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    monkeypatch.setattr(odk_zip, "MAX_CSV_BYTES", 10_000)
    bomb = zipped({f"{FORM}.csv": b"KEY,household-arrival_date\n" + b"x,2026-05-01\n" * 1000})
    assert len(bomb) < 1_000  # it compresses a hundredfold
    assert "export.zip unpacks to more than" in refusal(bomb)
    monkeypatch.setattr(odk_zip, "MAX_ENTRIES", 3)
    many = zipped({f"media/{n}.jpg": b"" for n in range(4)} | {f"{FORM}.csv": b"KEY\nA\n"})
    assert "export.zip holds more than 3 files" in refusal(many)


def test_damaged_zip_and_binary_member_are_named() -> None:
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{FORM}.csv", b"KEY,household-arrival_date\nA,2026-05-01\n")
    data = stored.getvalue().replace(b"2026-05-01", b"2026-05-02", 1)  # CRC no longer matches
    assert "export.zip is a damaged ZIP file" in refusal(data)
    assert "export.zip is not a readable ZIP file" in refusal(data[:40])
    utf16 = zipped({f"{FORM}.csv": "KEY,given_name\nA,خالد\n".encode("utf-16")})
    assert f"{FORM}.csv in export.zip is not a text CSV file" in refusal(utf16)
    assert "holds no CSV file" in refusal(zipped({"readme.txt": b"hello"}))


def test_instance_id_supplies_household_ref(db: Session, world: World,
                                            cipher: FieldCipher) -> None:
    data = csv_bytes([["meta/instanceID", "household/arrival_date", "household/consent",
                       "member/relationship", "member/given_name", "member/sex",
                       "member/birth_year"],
                      [UUID_A, "2026-05-01", "yes", "head", "Khaled", "M", "1970"],
                      [UUID_A, "2026-05-01", "yes", "spouse", "Salma", "F", "1975"]])
    report = run(db, world, cipher, data, "aggregate.csv", site_code=world.sites[0].code)
    assert report.written, report.problems
    assert report.households_created == 1 and report.individuals_created == 2
    assert db.scalar(select(Household.household_ref)) == UUID_A
    # ODK Central's '-' paths and a Kobo workbook's meta/instanceID (no _uuid) alike.
    central = csv_bytes([["meta-instanceID", "given_name"], [UUID_B, "Omar"]])
    assert read_columns(central, "c.csv").cells["household_ref"] == [UUID_B]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["household/arrival_date", "meta/instanceID", "_index"])
    sheet.append([dt.datetime(2026, 5, 1), UUID_A, 1])
    out = io.BytesIO()
    book.save(out)
    assert read_columns(out.getvalue(), "k.xlsx").cells["household_ref"] == [UUID_A]
