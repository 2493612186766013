"""Name normalisation: script folding, Latin folding, the shared key, measured on real spellings."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from havens.linkage.features import document_sql, phone_sql
from havens.linkage.normalise import (
    fold_arabic,
    forms_of,
    is_arabic,
    name_forms,
    normalise_document,
    normalise_phone,
)

HERE = Path(__file__).parent


def key(text: str) -> str:
    forms = name_forms(text)
    assert forms is not None
    return forms.key


@pytest.mark.parametrize(("variant", "plain"), [
    ("أحمد", "احمد"), ("إبراهيم", "ابراهيم"), ("آمنة", "امنه"), ("مؤمن", "مومن"),
    ("عائشة", "عايشه"), ("مُحَمَّد", "محمد"), ("محـــمد", "محمد"), ("مصطفى", "مصطفي"),
    ("کریم", "كريم"), ("ﻣﺤﻤﺪ", "محمد"), ("سماء", "سما"),
])
def test_arabic_folding(variant: str, plain: str) -> None:
    assert fold_arabic(variant) == plain


@pytest.mark.parametrize("group", [
    ["محمد", "Mohammed", "Muhammad", "Mohamad", "Mhd", "MOHAMMAD", "mohamed"],
    ["عبد الرحمن", "عبدالرحمن", "Abd al-Rahman", "Abdulrahman", "Abdel Rahman", "Abdurrahman",
     "Abd-el-Rahman", "abdel-rahman"],
    ["الخطيب", "Alkhatib", "Al-Khatib", "El Khatib", "al khatib", "El-Khateeb"],
    ["عبد الله", "Abdullah", "Abdallah", "Abdulla", "Abd Allah"],
    ["نور الدين", "Nour Eddine", "Nureddin", "Nour al-Din", "Nur ad-Din"],
    ["الشامي", "Al-Shami", "Ash-Shami", "Chami", "Alshami"],
    ["يوسف", "Yousef", "Yusuf", "Youssef", "Yousif"],
    ["فاطمة", "فاطمه", "Fatima", "Fatimah", "Fatmeh"],
    ["قاسم", "Qasim", "Kassem", "Qassem"],
])
def test_variants_share_one_key(group: list[str]) -> None:
    keys = {key(v) for v in group}
    assert len(keys) == 1, {v: key(v) for v in group}


@pytest.mark.parametrize(("a", "b"), [
    ("Hasan", "Hussein"), ("حسن", "حسين"), ("Ali", "Alaa"), ("Muhammad", "Mahmoud"),
    ("Samir", "Samira"), ("Khalid", "Khalil"),
])
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert key(a) != key(b)


def test_skeleton_is_shared_across_scripts() -> None:
    assert name_forms("حسين").skeleton == name_forms("Hussein").skeleton == "hsn"  # type: ignore[union-attr]
    assert name_forms("Abdulhamid").skeleton == name_forms("عبد الحميد").skeleton  # type: ignore[union-attr]


def test_empty_and_missing() -> None:
    assert name_forms(None) is None
    assert name_forms("  ") is None
    assert name_forms("---") is None
    assert is_arabic("محمد") and not is_arabic("Muhammad")


def test_phone_and_document() -> None:
    assert normalise_phone("+963 944 123 456") == normalise_phone("0944123456") == "944123456"
    assert normalise_phone("٠٩٤٤١٢٣٤٥٦") == "944123456"
    assert normalise_document("ab-12 345") == "AB12345"
    assert normalise_phone("") is None


def test_held_out_spellings_share_the_key_of_their_arabic_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Measured on 70 real-world spellings that are NOT in the variant list of the package."""
    rows = list(csv.DictReader((HERE / "heldout_variants.csv").open(encoding="utf-8")))
    same_key = [r for r in rows if key(r["variant"]) == key(r["arabic"])]
    same_skeleton = [r for r in rows if name_forms(r["variant"]).skeleton  # type: ignore[union-attr]
                     == name_forms(r["arabic"]).skeleton]  # type: ignore[union-attr]
    with capsys.disabled():
        print(f"\nheld-out spellings: {len(rows)}; same key as the Arabic: "
              f"{len(same_key) / len(rows):.1%}; same skeleton: "
              f"{len(same_skeleton) / len(rows):.1%}")
    assert len(rows) >= 70
    assert len(same_skeleton) / len(rows) >= 0.95
    assert len(same_key) / len(rows) >= 0.85


def test_listed_variants_fold_to_their_canonical_name() -> None:
    path = Path(__file__).parents[2] / "src/havens/linkage/data/name_variants.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    total = ok = 0
    for row in rows:
        for v in row["latin_variants"].split():
            total += 1
            ok += key(v) == key(row["arabic"])
    assert total > 400
    assert ok / total >= 0.98


@pytest.mark.parametrize("value", ["+963 944 123 456", "00963944123456", "0944-123-456",
                                   "٠٩٤٤١٢٣٤٥٦", "+90 532 000 11 22", "", "abc", "0000"])
def test_phone_sql_equals_python(value: str) -> None:
    got = duckdb.execute(f"SELECT {phone_sql('v')} FROM (SELECT ? AS v)", [value]).fetchall()
    assert got[0][0] == normalise_phone(value)


@pytest.mark.parametrize("value", ["ab-12 345", "٠١٢٣ - X", "", "--", "N° 77/3"])
def test_document_sql_equals_python(value: str) -> None:
    got = duckdb.execute(f"SELECT {document_sql('v')} FROM (SELECT ? AS v)", [value]).fetchall()
    assert got[0][0] == normalise_document(value)


def test_forms_of_gives_key_skeleton_and_spelling() -> None:
    got = forms_of(["Al-Khatib", "El Khateeb", "Abd al-Rahman", "محمد", "  "])
    assert got[0] == (key("Al-Khatib"), "xtb", "khatib")
    assert got[1][:2] == got[0][:2] and got[1][2] == "khateeb"  # the spelling keeps the vowels
    assert got[2][2] == "abdrahman"  # tokens written together
    assert got[3][1] == "mhmd"
    assert got[4] == (None, None, None)


@pytest.mark.parametrize(("text", "skeleton"), [
    ("Hassan", "hsn"), ("Mohammed", "mhmd"), ("Fatimah", "ftm"), ("Abdullah", "bdl"),
])
def test_doubled_letters_collapse(text: str, skeleton: str) -> None:
    forms = name_forms(text)
    assert forms is not None and forms.skeleton == skeleton
