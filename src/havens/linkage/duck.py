"""Small helpers over DuckDB 2 connections (every statement's result is consumed)."""

from __future__ import annotations

from typing import Any

import duckdb


def run(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> None:
    """Execute a statement and consume its result (DuckDB 2 refuses new work until then)."""
    con.execute(sql, params or []).fetchall()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row, or None."""
    found = con.execute(sql, params or []).fetchall()
    return found[0][0] if found else None


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
         ) -> list[tuple[Any, ...]]:
    """All rows of a query."""
    return con.execute(sql, params or []).fetchall()
