"""A file's rows checked column by column: the import's path, the row rules' results.

``check_columns`` applies ``RowChecker``'s rules to whole columns: each group of cells
(household cells, a name part, relationship and sex, birth) is looked up in the checker's caches
for every row at once through C-level loops (``map``, ``zip``), each distinct value checked once.
A row that any check finds fault with is checked again on its own by ``RowChecker.check``, so its
values and problems (and their order) are exactly the row rules'. The rows stay in columns
(``CheckedColumns``) up to the database: no object per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_, itemgetter, methodcaller, not_
from typing import Any

from havens.people.checker import RowChecker
from havens.people.crypto import normalise_document, normalise_phone
from havens.people.fields import (
    DOCUMENT_TYPES,
    HOUSEHOLD_CELLS,
    MEMBER_FIELDS,
    NAME_COLUMNS,
    CheckedRow,
    Problems,
    text_of,
)
from havens.people.models import DocumentType
from havens.people.rules import check_birth, check_kind, check_name_part, needs_of, phone_fits


@dataclass
class CheckedColumns:
    """Checked rows, column by column: item ``i`` of every list belongs to row ``i``.

    ``members`` holds ``MEMBER_FIELDS`` (``specific_needs`` as tuples); ``households`` the
    household fields, one dict shared by the rows of the same household cells; ``row_keys`` is
    empty and ``problems`` holds the row's problems where it has any.
    """

    refs: list[str]
    households: list[dict[str, Any]]
    members: dict[str, list[Any]]
    phones: list[str | None]
    documents: list[str | None]
    row_keys: list[str]
    problems: dict[int, Problems]

    @classmethod
    def empty(cls) -> CheckedColumns:
        return cls([], [], {name: [] for name in MEMBER_FIELDS}, [], [], [], {})

    @classmethod
    def from_rows(cls, rows: Sequence[CheckedRow]) -> CheckedColumns:
        """The columns of rows checked one by one (the single registration, the demo)."""
        batch = cls.empty()
        for row in rows:
            batch.append(row)
        return batch

    def __len__(self) -> int:
        return len(self.refs)

    def row(self, index: int) -> CheckedRow:
        """Row ``index`` as ``RowChecker.check`` gives it."""
        member = {name: values[index] for name, values in self.members.items()}
        member["specific_needs"] = list(member["specific_needs"])
        return CheckedRow(self.refs[index], self.households[index], member, self.phones[index],
                          self.documents[index], self.row_keys[index],
                          list(self.problems.get(index, ())))

    def append(self, row: CheckedRow) -> None:
        self.refs.append("")
        self.households.append({})
        for values in self.members.values():
            values.append(None)
        self.phones.append(None)
        self.documents.append(None)
        self.row_keys.append("")
        self.put(len(self.refs) - 1, row)

    def put(self, index: int, row: CheckedRow) -> None:
        """Row ``index`` replaced by ``row``."""
        self.refs[index] = row.household_ref
        self.households[index] = row.household
        for name, values in self.members.items():
            values[index] = row.member[name]
        self.members["specific_needs"][index] = tuple(row.member["specific_needs"])
        self.phones[index] = row.phone
        self.documents[index] = row.document_number
        self.row_keys[index] = row.row_key
        self.problems.pop(index, None)
        if row.problems:
            self.problems[index] = list(row.problems)

    def extend(self, other: CheckedColumns) -> None:
        offset = len(self)
        self.refs += other.refs
        self.households += other.households
        for name, values in self.members.items():
            values += other.members[name]
        self.phones += other.phones
        self.documents += other.documents
        self.row_keys += other.row_keys
        self.problems.update((offset + index, found) for index, found in other.problems.items())

    def take(self, indexes: Sequence[int]) -> CheckedColumns:
        """The rows at ``indexes``, in that order."""
        def pick(values: list[Any]) -> list[Any]:
            return list(map(values.__getitem__, indexes))

        return CheckedColumns(
            pick(self.refs), pick(self.households),
            {name: pick(values) for name, values in self.members.items()}, pick(self.phones),
            pick(self.documents), pick(self.row_keys),
            {new: self.problems[old] for new, old in enumerate(indexes) if old in self.problems})


def cells_of(raws: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """Dict rows as columns of stripped text (a cell a row lacks is blank)."""
    names = list(dict.fromkeys(name for raw in raws for name in raw))
    return {name: [text_of(raw.get(name)) for raw in raws] for name in names}


def check_columns(checker: RowChecker, cells: dict[str, list[str]]) -> CheckedColumns:
    """``checker.check`` of every row of ``cells`` (canonical column -> stripped text)."""
    count = len(next(iter(cells.values()), []))
    if not count:
        return CheckedColumns.empty()
    blank = [""] * count

    def column(name: str) -> list[str]:
        return cells.get(name, blank)

    rows = range(count)
    suspect: set[int] = set()

    def faults(results: list[Any]) -> None:
        """Rows whose cached group result holds problems (its last item)."""
        suspect.update(compress(rows, map(_LAST, results)))

    refs = column("household_ref")
    if "" in refs or max(map(len, refs)) > 100:
        suspect.update(i for i, ref in enumerate(refs) if not ref or len(ref) > 100)

    households = _cached(checker.households, list(zip(*map(column, HOUSEHOLD_CELLS), strict=True)),
                         checker.household)
    faults(households)

    members: dict[str, list[Any]] = {}
    compact_ar: list[list[str]] = []
    compact_en: list[list[str]] = []
    for cache, (part, ar_column, en_column) in zip(checker.parts, NAME_COLUMNS, strict=True):
        keys = list(zip(column(part), column(ar_column), column(en_column), strict=True))
        results = _cached(cache, keys, _part_checker(part))
        faults(results)
        ar_values, en_values, ar_keys, en_keys, _problems = map(list, zip(*results, strict=True))
        members[ar_column], members[en_column] = ar_values, en_values
        compact_ar.append(ar_keys)
        compact_en.append(en_keys)
    given_ar, given_en = members["given_name_ar"], members["given_name_en"]
    if None in given_ar:
        suspect.update(i for i in compress(rows, map(is_, given_ar, _nones(count)))
                       if given_en[i] is None)
    members["name_key_ar"] = list(map("".join, zip(*compact_ar, strict=True)))
    members["name_key_en"] = list(map("".join, zip(*compact_en, strict=True)))

    kinds = _cached(checker.kinds, list(zip(column("relationship"), column("sex"), strict=True)),
                    _check_kind)
    faults(kinds)
    members["relationship"], members["sex"], _problems = map(list, zip(*kinds, strict=True))
    today = checker.today
    births = _cached(checker.births, list(zip(column("date_of_birth"), column("birth_year"),
                                              column("dob_estimated"), strict=True)),
                     lambda key: check_birth(key[0], key[1], key[2], today))
    faults(births)
    members["date_of_birth"], members["dob_estimated"], _problems = map(
        list, zip(*births, strict=True))

    needs_cells = column("specific_needs")
    needs = {text: needs_of(text) for text in set(needs_cells)}
    _flag(suspect, needs_cells, {text for text, (_codes, unknown) in needs.items() if unknown})
    members["specific_needs"] = list(map({t: n[0] for t, n in needs.items()}.__getitem__,
                                         needs_cells))

    phone_cells = column("phone")
    normalised = {text: normalise_phone(text) for text in set(phone_cells) if text}
    _flag(suspect, phone_cells, {text for text, phone in normalised.items()
                                 if not phone_fits(phone)})
    phones: dict[str, str | None] = {"": None, **normalised}

    number_cells, type_cells = column("document_number"), column("document_type")
    documents: dict[str, str | None] = {
        text: normalise_document(text) for text in set(number_cells) if text}
    types: dict[str, DocumentType | None] = {
        text: DOCUMENT_TYPES.get(text.lower().replace(" ", "_")) for text in set(type_cells)}
    types[""] = None
    _flag(suspect, type_cells, {text for text, kind in types.items() if text and kind is None})
    _flag(suspect, number_cells, {text for text, number in documents.items() if not number})
    if "" in type_cells and documents:  # a number needs its type
        suspect.update(i for i in compress(rows, map(not_, type_cells)) if number_cells[i])
    documents[""] = None
    members["document_type"] = list(map(types.__getitem__, type_cells))

    batch = CheckedColumns(
        refs=list(refs), households=list(map(_FIRST, households)),
        members={name: members[name] for name in MEMBER_FIELDS},
        phones=list(map(phones.__getitem__, phone_cells)),
        documents=list(map(documents.__getitem__, number_cells)),
        row_keys=_row_keys(cells, refs), problems={})
    for index in sorted(suspect):
        batch.put(index, checker.check({name: values[index] for name, values in cells.items()}))
    return batch


def _row_keys(cells: dict[str, list[str]], refs: list[str]) -> list[str]:
    r"""``row_key`` of every row, from the columns (C-level loops over the rows).

    Each row's text is one ``"".join`` of ``ref, "\x1e", "name=", cell, "\x1fname=", cell...``:
    a column without blanks adds its constant prefix and its cells, one with blanks a piece per
    cell (its prefix and cell, or nothing). The separator before the first piece is cut off
    afterwards, unless the first column has no blanks (then its prefix has none).
    """
    count = len(refs)
    ordered = sorted(cells)
    whole = bool(ordered) and "" not in cells[ordered[0]]
    pieces: list[Any] = [refs, repeat("\x1e", count)] if whole else []
    for name in ordered:
        values, prefix = cells[name], f"\x1f{name}="
        if not any(values):  # a blank column adds nothing
            continue
        if whole and name == ordered[0]:
            pieces += (repeat(prefix[1:], count), values)
        elif "" not in values:
            pieces += (repeat(prefix, count), values)
        else:
            table = {value: prefix + value for value in set(values)}
            table[""] = ""
            pieces.append(list(map(table.__getitem__, values)))
    texts = map("".join, zip(*pieces, strict=True))
    if not whole:
        texts = map("{}\x1e{}".format, refs, map(_AFTER_FIRST, texts))
    return list(map(_HEX, map(hashlib.sha256, map(str.encode, texts))))


def _cached(cache: dict[Any, Any], keys: list[Any], compute: Callable[[Any], Any]
            ) -> list[Any]:
    """``cache[key]`` of every key, computing (once) those not yet in the cache."""
    found = list(map(cache.get, keys))
    if None in found:
        for key in set(compress(keys, map(is_, found, _nones(len(found))))):
            cache[key] = compute(key)
        found = list(map(cache.__getitem__, keys))
    return found


def _flag(suspect: set[int], cells: list[str], bad: set[str]) -> None:
    """Rows whose cell is one of the ``bad`` values become suspect."""
    if bad:
        suspect.update(compress(range(len(cells)), map(bad.__contains__, cells)))


def _part_checker(part: str) -> Callable[[tuple[str, str, str]], Any]:
    return lambda key: check_name_part(part, *key)


def _check_kind(key: tuple[str, str]) -> Any:
    return check_kind(*key)


def _nones(count: int) -> list[None]:
    return [None] * count


_FIRST = itemgetter(0)
_LAST = itemgetter(-1)
_AFTER_FIRST = itemgetter(slice(1, None))
_HEX = methodcaller("hexdigest")
