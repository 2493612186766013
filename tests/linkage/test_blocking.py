"""Blocking: identity numbers one keystroke apart, and oversized blocks refined key by key."""

from __future__ import annotations

import duckdb

from havens.linkage.blocking import RULES, Rule, block_keys, candidate_pairs


def _features(con: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]]) -> None:
    con.execute("""CREATE OR REPLACE TABLE feat (rid BIGINT, src INT, doc VARCHAR, y INT,
                                                 pcode VARCHAR)""")
    con.executemany("INSERT INTO feat VALUES (?, 0, ?, ?, ?)", rows)


DOCUMENT = tuple(r for r in RULES if r.name.startswith("document"))


def test_document_numbers_one_keystroke_apart_meet() -> None:
    con = duckdb.connect()
    _features(con, [(0, "1234567", 1980, "SY01"),
                    (1, "1234576", 1980, "SY01"),   # adjacent digits swapped
                    (2, "124567", 1980, "SY01"),    # a digit left out
                    (3, "1234967", 1980, "SY01"),   # a digit mistyped
                    (4, "7654321", 1980, "SY01"),   # another number
                    (5, "12345", 1980, "SY01")])    # too short to trust one-typo keys
    candidate_pairs(con, rules=DOCUMENT)
    found = set(con.execute("SELECT rid_l, rid_r FROM pairs").fetchall())
    assert {(0, 1), (0, 2), (0, 3)} <= found
    assert not {p for p in found if 4 in p or 5 in p}


def test_an_oversized_block_does_not_drop_the_records_other_keys() -> None:
    # Record 0 has several keys under the one-typo rule; one of them ("123456", its number
    # without the X) is shared by 40 other records: an oversized block, refined by year, where
    # all were born in different years, so it goes. Another ("X12345") is shared with record 1
    # only: records 0 and 1 still meet.
    rows: list[tuple[object, ...]] = [(0, "X123456", 1980, "SY01"), (1, "X123457", 1981, "SY01")]
    rows += [(10 + i, f"{c}123456", 1900 + i, "SY01")
             for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmno")]
    con = duckdb.connect()
    _features(con, rows)
    typo = tuple(r for r in DOCUMENT if r.name == "document_typo")
    candidate_pairs(con, rules=typo, cap=30)
    assert (0, 1) in set(con.execute("SELECT rid_l, rid_r FROM pairs").fetchall())


def test_block_keys_gives_one_row_per_record_and_block() -> None:
    con = duckdb.connect()
    _features(con, [(i, f"D{i % 3}0000{i % 3}", 1980, "SY01") for i in range(9)])
    block_keys(con, rules=(Rule("document", ("doc",)),))
    got = con.execute("SELECT rule, count(DISTINCT bk), count(*) FROM blk GROUP BY rule").fetchall()
    assert got == [(0, 3, 9)]
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE blk)").fetchall())
    assert types["bk"] == "UBIGINT"  # engine_spark shifts it into BIGINT's range
