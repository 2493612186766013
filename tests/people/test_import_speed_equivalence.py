"""The fast import path gives the rows the row-by-row rules give.

The import checks a file column by column (``check_columns``, results of repeated cells
reused), encrypts and hashes in batches and writes driver tuples from the columns. These tests
pin what lands in the database against values worked out independently: by hand, or by the
single-value functions (``check_row`` with no cache, ``records.row_key``,
``FieldCipher.blind_index``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.people import importing, records
from havens.people.crypto import FieldCipher, normalise_document
from havens.people.models import Household, Individual, Movement, MovementKind, Relationship
from tests.people.conftest import World

TODAY = dt.date(2026, 6, 1)

COLUMNS = ["household_ref", "relationship", "given_name", "given_name_en", "father_name",
           "father_name_en", "family_name", "family_name_en", "sex", "date_of_birth",
           "specific_needs", "origin_pcode", "arrival_date", "displacement_date", "phone",
           "document_type", "document_number", "consent", "consent_sharing",
           "consent_purposes"]


def row(ref: str, relationship: str, given: str, given_en: str, sex: str, born: str,
        **cells: str) -> dict[str, str]:
    base = {"household_ref": ref, "relationship": relationship, "given_name": given,
            "given_name_en": given_en, "father_name": "عَبْدُ الله", "father_name_en": "Abd-Allah",
            "family_name": "الحمّود", "family_name_en": "Al Hamoud", "sex": sex,
            "date_of_birth": born, "specific_needs": "", "origin_pcode": "SY070001",
            "arrival_date": "2025-03-02", "displacement_date": "2025-02-20", "phone": "",
            "document_type": "", "document_number": "", "consent": "yes", "consent_sharing": "yes",
            "consent_purposes": "assistance;protection"}
    return base | cells


ROWS = [
    row("H-1", "head", "أحمد", "Ahmad", "M", "1980-04-01", phone="00963 944 123 456",
        document_type="national id", document_number="ab-12 34"),
    row("H-1", "spouse", "فاطمة", "Fatima", "F", "1984", phone="٠٩٤٤١٢٣٤٥٦",
        specific_needs="SM;DS"),
    row("H-1", "child", "أحمد", "Ahmad", " m ", "2015-09-30"),  # same given name as the head
    row("H-2", "Head", "Élodie", "", "female", "31/12/1990", origin_pcode="SY070000",
        consent_sharing="no", consent_purposes="", phone="+963 955 000 111"),
]


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_imported_rows_hold_the_expected_values(db: Session, world: World,
                                                cipher: FieldCipher) -> None:
    report = importing.import_file(db, actor=world.p(world.registrar), data=to_csv(ROWS),
                                   filename="eq.csv", site_code=world.sites[0].code,
                                   cipher=cipher, today=TODAY)
    assert report.problems == []
    assert report.written and report.individuals_created == 4
    people = list(db.scalars(select(Individual).order_by(Individual.id)))
    head, spouse, child, elodie = people

    assert (head.given_name_ar, head.given_name_en, head.father_name_ar,
            head.father_name_en) == ("أحمد", "Ahmad", "عَبْدُ الله", "Abd-Allah")
    # Folded (hamza seat, short vowels, shadda), compacted: worked out by hand.
    assert head.name_key_ar == "احمدعبداللهالحمود"
    assert head.name_key_en == "ahmadabdallahalhamoud"
    assert child.name_key_ar == head.name_key_ar and child.sex == head.sex
    assert elodie.given_name_ar is None and elodie.name_key_en == "elodieabdallahalhamoud"
    assert elodie.name_key_ar == "عبداللهالحمود"
    assert (elodie.relationship, elodie.date_of_birth) == (Relationship.head,
                                                          dt.date(1990, 12, 31))
    assert (spouse.date_of_birth, spouse.dob_estimated) == (dt.date(1984, 7, 1), True)
    assert spouse.specific_needs == ["DS", "SM"]  # the list's order, not the cell's
    assert head.document_type is not None and head.document_type.value == "national_id"

    # Secrets: decrypted as normalised, hashed as the single-value function hashes.
    expected_phones = ["+963944123456", "0944123456", None, "+963955000111"]
    for person, phone in zip(people, expected_phones, strict=True):
        if phone is None:
            assert person.phone_enc is None and person.phone_hash is None
            continue
        assert person.phone_enc is not None and phone not in person.phone_enc
        assert cipher.decrypt(person.phone_enc, field_name="phone") == phone
        assert person.phone_hash == cipher.blind_index(phone, field_name="phone")
    assert head.document_number_enc is not None
    assert cipher.decrypt(head.document_number_enc, field_name="document_number") == "AB1234"
    assert head.document_number_hash == cipher.blind_index("AB1234",
                                                           field_name="document_number")
    assert len({p.phone_enc for p in people if p.phone_enc}) == 3  # fresh nonce each

    # Row keys: SHA-256 of the household key and the row's cells, as records.row_key says.
    for person, cells in zip(people, ROWS, strict=True):
        stripped = {k: v.strip() for k, v in cells.items()}
        content = "\x1f".join(f"{k}={v}" for k, v in sorted(stripped.items()) if v)
        assert person.row_key == hashlib.sha256(
            f"{stripped['household_ref']}\x1e{content}".encode()).hexdigest()
        assert person.row_key == records.row_key(stripped["household_ref"], stripped)

    households = list(db.scalars(select(Household).order_by(Household.id)))
    assert [(h.household_ref, h.origin_pcode, h.consent_sharing, h.consent_purposes)
            for h in households] == [("H-1", "SY070001", True, ["assistance", "protection"]),
                                     ("H-2", "SY070000", False, [])]
    assert [p.household_id for p in people] == [households[0].id] * 3 + [households[1].id]
    movements = list(db.scalars(select(Movement).order_by(Movement.id)))
    assert [(m.kind, m.individuals, m.moved_on) for m in movements] == [
        (MovementKind.arrival, 3, dt.date(2025, 3, 2)), (MovementKind.arrival, 1,
                                                         dt.date(2025, 3, 2))]


def messy_rows() -> list[dict[str, Any]]:
    """Rows that repeat cells (cached) and break rules (problems), some of both."""
    variants: list[dict[str, Any]] = [
        {}, {"sex": "x"}, {"sex": ""}, {"relationship": "boss"}, {"date_of_birth": "19x0"},
        {"date_of_birth": "2999-01-01"}, {"date_of_birth": "1899-05-05"},
        {"date_of_birth": "", "birth_year": "1975"}, {"date_of_birth": "", "birth_year": "x"},
        {"date_of_birth": "2026", "dob_estimated": "maybe"}, {"arrival_date": "bad"},
        {"displacement_date": "2026-01-01", "arrival_date": "2025-01-01"},
        {"phone": "123"}, {"document_number": "--", "document_type": "passport"},
        {"document_number": "X1"}, {"document_type": "alien"}, {"specific_needs": "XX;DS"},
        {"given_name": "", "given_name_en": ""}, {"given_name_ar": "Ahmad"},
        {"family_name_en": "x" * 120}, {"consent": "no"}, {"consent_purposes": "bogus"},
        {"household_ref": ""}, {"site_code": "cp999999"}, {"date_of_birth": dt.date(1990, 1, 2)},
        {"date_of_birth": 1990.0}, {"phone": None},
    ]
    rows = []
    for index, variant in enumerate(variants * 2):  # twice: the second time from the caches
        rows.append(row(f"H-{index % 5}", "child", "محمد", "Mohammad", "M", "2001-05-05",
                        phone=f"+96394400{index:04d}") | variant)
    return rows


def test_one_checker_for_a_file_checks_as_each_row_alone() -> None:
    rows = messy_rows()
    checker = records.RowChecker(today=TODAY, default_site="CP001001")
    for raw in rows:
        shared = checker.check(dict(raw))
        alone = records.check_row(dict(raw), today=TODAY, default_site="CP001001")
        assert (shared.household_ref, shared.household, shared.member, shared.phone,
                shared.document_number, shared.row_key, shared.problems) == (
            alone.household_ref, alone.household, alone.member, alone.phone,
            alone.document_number, alone.row_key, alone.problems), raw
    assert sum(1 for raw in rows if checker.check(dict(raw)).problems) == 2 * 21


def test_batch_secrets_match_the_single_value_functions(cipher: FieldCipher) -> None:
    values = ["+963944123456", "0944123456", "", "AB1234"]
    sealed = cipher.encrypt_many(values, field_name="phone")
    assert [cipher.decrypt(s, field_name="phone") for s in sealed] == values
    assert all(s.startswith(f"{cipher.current_key_id}$") for s in sealed)
    assert cipher.blind_index_many(values, field_name="phone") == [
        cipher.blind_index(v, field_name="phone") for v in values]
    # A value sealed one at a time (as before) still opens, and the reverse.
    single = cipher.encrypt("+963944123456", field_name="phone")
    assert cipher.decrypt(single, field_name="phone") == "+963944123456"
    rotated = FieldCipher([("new", b"n" * 32), *cipher.keys])
    assert rotated.decrypt(sealed[0], field_name="phone") == values[0]


def test_document_numbers_normalise_alike_in_ascii_and_unicode() -> None:
    assert normalise_document("ab-12 34") == "AB1234"
    assert normalise_document("ab-١٢ 34") == "AB1234"  # Arabic-Indic digits
    assert normalise_document("ＡＢ１２") == "AB12"  # full-width forms (NFKC)
    assert normalise_document(" -- ") == ""


def test_a_file_checked_column_by_column_checks_as_row_by_row() -> None:
    """``check_columns`` (the import's path) against ``check_row``, row by row, fresh caches."""
    messy = messy_rows()
    checked = records.check_columns(records.RowChecker(today=TODAY, default_site="CP001001"),
                                    records.cells_of(messy))
    assert len(checked) == len(messy)
    for index, raw in enumerate(messy):
        fast = checked.row(index)
        alone = records.check_row(dict(raw), today=TODAY, default_site="CP001001")
        assert (fast.household_ref, fast.household, fast.member, fast.phone,
                fast.document_number, fast.row_key, fast.problems) == (
            alone.household_ref, alone.household, alone.member, alone.phone,
            alone.document_number, alone.row_key, alone.problems), raw
    assert len(checked.problems) == 2 * 21
    # Every row with a household key has its row key, problems or not (a later export
    # repeats rows imported under earlier rules).
    assert sum(1 for key in checked.row_keys if key) == sum(
        1 for raw in messy if raw["household_ref"]) == len(messy) - 2
    # Rows with shared household cells share one household dict (checked once).
    assert checked.households[0] is checked.households[1]
