"""Checking a registration row as a whole, with the results of repeated cells reused.

``RowChecker.check`` is the rule book of one row: what the API, the demo and (through
``havens.people.columns``, which gives the same results column by column) the import apply.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from havens.people.fields import (
    DOCUMENT_TYPES,
    HOUSEHOLD_CELLS,
    NAME_COLUMNS,
    CheckedRow,
    Problems,
    text_of,
)
from havens.people.rules import (
    DOCUMENT_WITHOUT_TYPE,
    BirthResult,
    HouseholdResult,
    KindResult,
    PartResult,
    check_birth,
    check_document,
    check_household,
    check_kind,
    check_name_part,
    check_phone,
    needs_of,
)

HouseholdCache = dict[tuple[str, ...], HouseholdResult]
#: Sorted columns of a file's rows: their 'name=' prefixes and a getter of their cells.
_KeyOrder = tuple[tuple[str, ...], Callable[[dict[str, str]], tuple[str, ...]]]


def check_row(raw: dict[str, Any], *, today: dt.date, default_site: str | None = None,
              cache: HouseholdCache | None = None, consent_recorded: bool = False
              ) -> CheckedRow:
    """Check one row; problems are collected in ``CheckedRow.problems``.

    ``cache`` (one per file) remembers the household fields already checked: the members of a
    household repeat them. A whole file is better checked with one ``RowChecker``.
    ``consent_recorded``: consent to registration was recorded outside the row (see
    ``rules.check_household``).
    """
    return RowChecker(today=today, default_site=default_site, households=cache,
                      consent_recorded=consent_recorded).check(raw)


class RowChecker:
    """Checks the rows of one file (or one registration) against one ``today`` and site.

    Most cells of a registration file repeat: the household's cells on every member's row,
    name parts (a few hundred given and family names), dates of birth, relationships. Each
    group of cells is checked once per distinct value and the result reused, which is what
    makes a 100,000-row import fast; results and problems (and their order) are those of
    checking every row afresh.
    """

    def __init__(self, *, today: dt.date, default_site: str | None = None,
                 households: HouseholdCache | None = None, consent_recorded: bool = False
                 ) -> None:
        self.today = today
        self.default_site = default_site
        self.consent_recorded = consent_recorded
        self.households: HouseholdCache = {} if households is None else households
        #: (plain, Arabic, Latin) cells -> result, one cache per name part.
        self.parts: tuple[dict[tuple[str, str, str], PartResult], ...] = tuple(
            {} for _ in NAME_COLUMNS)
        self.kinds: dict[tuple[str, str], KindResult] = {}
        self.births: dict[tuple[str, str, str], BirthResult] = {}
        self._key_orders: dict[tuple[str, ...], _KeyOrder] = {}

    def household(self, cells: tuple[str, ...]) -> HouseholdResult:
        """The household of its ``HOUSEHOLD_CELLS`` (in order), checked once."""
        found = self.households.get(cells)
        if found is None:
            found = self.households[cells] = check_household(
                dict(zip(HOUSEHOLD_CELLS, cells, strict=True)), self.today, self.default_site,
                self.consent_recorded)
        return found

    def check(self, raw: dict[str, Any]) -> CheckedRow:
        try:  # a CSV row: text only, stripped in one pass
            raw = dict(zip(raw, map(str.strip, raw.values()), strict=True))
        except TypeError:  # a spreadsheet row: dates, numbers, empty cells
            raw = {key: value.strip() if value.__class__ is str else text_of(value)
                   for key, value in raw.items()}
        get = raw.get
        problems: Problems = []
        ref = get("household_ref", "")
        if not ref:
            problems.append(("household_ref", "is required"))
        elif len(ref) > 100:
            problems.append(("household_ref", "is longer than 100 characters"))
        household, household_problems = self.household(
            tuple([get(cell, "") for cell in HOUSEHOLD_CELLS]))
        if household_problems:
            problems += household_problems

        member: dict[str, Any] = {}
        self._names(get, member, problems)
        self._person(get, member, problems)

        phone_norm, found = check_phone(get("phone", ""))
        problems += found
        doc_type_text = get("document_type", "")
        if doc_type_text:
            doc_type_text = doc_type_text.lower().replace(" ", "_")
        document = get("document_number", "")
        doc_norm, document_problems = check_document(document)
        member["document_type"] = None
        if doc_type_text:
            doc_type = DOCUMENT_TYPES.get(doc_type_text)
            if doc_type is None:
                problems.append(("document_type", f"{doc_type_text!r} is not one of "
                                 + ", ".join(DOCUMENT_TYPES)))
            else:
                member["document_type"] = doc_type
        problems += document_problems
        if document and not doc_type_text:
            problems.append(DOCUMENT_WITHOUT_TYPE)

        row = CheckedRow(household_ref=ref, household=household, member=member,
                         phone=phone_norm, document_number=doc_norm, problems=problems)
        if ref:  # a row with problems has its key too: a file may repeat a stored row
            row.row_key = self._row_key(ref, raw)
        return row

    def _row_key(self, ref: str, raw: dict[str, str]) -> str:
        """``row_key(ref, raw)``, with the columns' order sorted once per file."""
        columns = tuple(raw)
        order = self._key_orders.get(columns)
        if order is None:
            ordered = sorted(columns)
            order = self._key_orders[columns] = (
                tuple(k + "=" for k in ordered), _getter(ordered))
        prefixes, cells = order
        content = "\x1f".join([prefix + cell for prefix, cell
                                in zip(prefixes, cells(raw), strict=True) if cell])
        return hashlib.sha256(f"{ref}\x1e{content}".encode()).hexdigest()

    def _names(self, get: Callable[[str, str], str], member: dict[str, Any],
               problems: Problems) -> None:
        key_ar = []
        key_en = []
        for cache, (part, ar_column, en_column) in zip(self.parts, NAME_COLUMNS, strict=True):
            cells = (get(part, ""), get(ar_column, ""), get(en_column, ""))
            known = cache.get(cells)
            if known is None:
                known = cache[cells] = check_name_part(part, *cells)
            member[ar_column], member[en_column], compact_ar, compact_en, found = known
            if found:
                problems += found
            key_ar.append(compact_ar)
            key_en.append(compact_en)
        if not (member["given_name_ar"] or member["given_name_en"]):
            problems.append(("given_name", "is required"))
        member["name_key_ar"] = "".join(key_ar)
        member["name_key_en"] = "".join(key_en)

    def _person(self, get: Callable[[str, str], str], member: dict[str, Any],
                problems: Problems) -> None:
        cells = (get("relationship", ""), get("sex", ""))
        kind = self.kinds.get(cells)
        if kind is None:
            kind = self.kinds[cells] = check_kind(*cells)
        member["relationship"], member["sex"], found = kind
        if found:
            problems += found
        cells3 = (get("date_of_birth", ""), get("birth_year", ""), get("dob_estimated", ""))
        birth = self.births.get(cells3)
        if birth is None:
            birth = self.births[cells3] = check_birth(*cells3, self.today)
        member["date_of_birth"], member["dob_estimated"], found = birth
        if found:
            problems += found
        needs = get("specific_needs", "")
        member["specific_needs"] = []
        if needs:
            codes, unknown = needs_of(needs)
            if unknown:
                problems.append(("specific_needs", f"unknown code(s): {', '.join(unknown)}"))
            member["specific_needs"] = list(codes)


def _getter(keys: list[str]) -> Callable[[dict[str, str]], tuple[str, ...]]:
    """The values of ``keys`` of a dict, always as a tuple (itemgetter of one is not)."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda raw: tuple(raw[k] for k in keys)

