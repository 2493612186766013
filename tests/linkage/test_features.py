"""Comparison levels as SQL: the filtered edit distance, the new levels, the columns they read."""

from __future__ import annotations

import random
import re

import duckdb
import pytest

from havens.linkage.features import (
    COMPARISONS,
    PART_FIELDS,
    RECORD_COLUMNS,
    _name_sql,
    build_features,
    comparison_sql,
    one_edit_sql,
)


def _edits(rng: random.Random, word: str) -> str:
    """The word after one random edit (or none), over a small alphabet so that they collide."""
    i = rng.randrange(len(word) + 1)
    kind = rng.randrange(5)
    letter = rng.choice("abcx")
    if kind == 0 and i < len(word):
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + letter + word[i:]
    if kind == 2 and i < len(word):
        return word[:i] + letter + word[i + 1:]
    if kind == 3 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word


def test_the_filter_before_the_edit_distance_loses_nothing() -> None:
    # The filter (same first or last character) only skips pairs that are further apart: over
    # random words and their edits, it gives exactly the plain distance test.
    rng = random.Random(5)
    pairs = []
    for _ in range(3000):
        a = "".join(rng.choice("abcx") for _ in range(rng.randrange(3, 9)))
        b = _edits(rng, _edits(rng, a)) if rng.random() < 0.5 else _edits(rng, a)
        pairs.append((a, b))
    con = duckdb.connect()
    con.execute("CREATE TABLE p (a VARCHAR, b VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?)", pairs)
    got = con.execute(f"""SELECT count(*) FILTER (WHERE ({one_edit_sql('a', 'b', 3)})
                                                  <> (damerau_levenshtein(a, b) <= 1)),
                                 count(*) FILTER (WHERE damerau_levenshtein(a, b) <= 1)
                          FROM p WHERE length(a) >= 3""").fetchall()[0]
    assert got[0] == 0
    assert got[1] > 1000  # the test saw many pairs one edit apart


def test_record_columns_are_the_columns_the_comparisons_read() -> None:
    sql = " ".join(c.sql for c in COMPARISONS) + " ".join(_name_sql(f) for f in PART_FIELDS)
    assert set(re.findall(r"\b[lr]\.(\w+)", sql)) == set(RECORD_COLUMNS)


def test_comparisons_are_portable_cases() -> None:
    # The Spark engine reuses this SQL: CASE expressions, missing values first, no DuckDB casts.
    for c in COMPARISONS:
        assert c.sql.lstrip().startswith("CASE WHEN") and c.sql.rstrip().endswith("ELSE 0 END")
        assert "::" not in c.sql
    assert "::" not in comparison_sql("pairs")


def _levels(rows: list[tuple[str | None, ...]]) -> dict[str, int]:
    """Comparison levels of the first two records of ``rows`` (given, father, grandfather,
    family, date of birth, P-code)."""
    con = duckdb.connect()
    con.execute("""CREATE TABLE rec (rid BIGINT, src INT, given_name VARCHAR, father_name VARCHAR,
        grandfather_name VARCHAR, family_name VARCHAR, sex VARCHAR, date_of_birth VARCHAR,
        origin_pcode VARCHAR, phone VARCHAR, document_number VARCHAR)""")
    for i, r in enumerate(rows):
        con.execute("INSERT INTO rec VALUES (?, 0, ?, ?, ?, ?, 'M', ?, ?, NULL, NULL)", [i, *r])
    build_features(con)
    con.execute("CREATE TABLE pairs AS SELECT 0::BIGINT AS rid_l, 1::BIGINT AS rid_r")
    cur = con.execute(comparison_sql("pairs"))
    names = [d[0] for d in cur.description]
    return {n[2:]: v for n, v in zip(names, cur.fetchall()[0], strict=True)
            if n.startswith(("g_", "x_"))}


LEVEL = {c.name: {label: k for k, label in enumerate(c.levels)} for c in COMPARISONS}


@pytest.mark.parametrize(("left", "right", "expected"), [
    ("1980-05-17", "1980-05-17", "same date"),
    ("1980-05-17", "1980-05-18", "one part differs"),  # a mistyped day
    ("1980-05-17", "1981-05-17", "one part differs"),  # the year off by one, day and month kept
    ("1980-05-07", "1980-07-05", "day/month swapped"),
    ("1980-05-17", "1980", "same year, one partial"),
    ("1980-05-17", "1980-09-02", "same year"),
    ("1980-05-17", "1981-09-02", "±1 year"),
    ("1980-05-17", "1975-09-02", "different"),
])
def test_dates(left: str, right: str, expected: str) -> None:
    row = ("Ahmad", "Ali", None, "Haddad")
    got = _levels([(*row, left, "SY0101"), (*row, right, "SY0101")])
    assert got["dob"] == LEVEL["dob"][expected]


def test_names_one_typo_apart_in_spelling_are_similar() -> None:
    # Skeletons "ml" and "mlj": too short for the skeleton edit distance; the spellings are one
    # edit apart.
    got = _levels([("Amelia", None, None, "Lowry", "1923-10-09", "4208"),
                   ("Ameljia", None, None, "Lowry", "1923-10-09", "4280")])
    assert got["given"] == LEVEL["given"]["similar"]
    assert got["origin"] == LEVEL["origin"]["one typo"]


def test_a_lineage_of_one_name_that_agrees_exactly() -> None:
    same = _levels([("Ann", None, None, "Lowry", "1923", None),
                    ("Anne", None, None, "Lowry", "1923", None)])
    typo = _levels([("Ann", None, None, "Lowry", "1923", None),
                    ("Anne", None, None, "Lowsy", "1923", None)])
    assert same["lineage"] == LEVEL["lineage"]["one name, the same"]
    assert typo["lineage"] == LEVEL["lineage"]["weak"]
    full = _levels([("Ahmad", "Ali", "Hasan", "Haddad", "1980", None),
                    ("Ahmed", "Aly", "Hassan", "Al-Haddad", "1980", None)])
    assert full["lineage"] == LEVEL["lineage"]["same line"]
