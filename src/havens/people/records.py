"""One registration row, checked: the rules shared by the API, the import and the demo.

A row is a dict of canonical column names (see ``COLUMNS``) to cell values (text, or dates and
numbers as spreadsheets give them). ``check_row`` turns it into a ``CheckedRow`` or a list of
``(column, reason)`` problems — all of them, so a field officer can fix a file in one pass.

This module is where other code finds them; they live in ``fields`` (columns, cell values,
``row_key``), ``rules`` (each group of cells), ``checker`` (a row, with repeated cells' results
reused) and ``columns`` (a whole file, column by column).
"""

from __future__ import annotations

from havens.people.checker import HouseholdCache, RowChecker, check_row
from havens.people.columns import CheckedColumns, cells_of, check_columns
from havens.people.fields import (
    COLUMNS,
    EXTRA_COLUMNS,
    HOUSEHOLD_FIELDS,
    HXL_TAGS,
    NAME_PARTS,
    CheckedRow,
    Problems,
    parse_date,
    parse_yes_no,
    row_key,
    text_of,
)

__all__ = [
    "COLUMNS", "EXTRA_COLUMNS", "HOUSEHOLD_FIELDS", "HXL_TAGS", "NAME_PARTS", "CheckedColumns",
    "CheckedRow",
    "HouseholdCache", "Problems", "RowChecker", "cells_of", "check_columns", "check_row",
    "parse_date", "parse_yes_no", "row_key", "text_of",
]
