"""One registration row, checked: the rules shared by the API, the import and the demo.

A row is a dict of canonical column names (see ``COLUMNS``) to cell values (text, or dates and
numbers as spreadsheets give them). ``check_row`` turns it into a ``CheckedRow`` or a list of
``(column, reason)`` problems — all of them, so a field officer can fix a file in one pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import compress, repeat
from operator import is_, itemgetter, methodcaller
from typing import Any

from havens.people import names
from havens.people.crypto import normalise_document, normalise_phone
from havens.people.models import ConsentPurpose, DocumentType, Relationship, Sex
from havens.people.specific_needs import BY_CODE, split_codes

NAME_PARTS = ("given_name", "father_name", "grandfather_name", "family_name")

#: Canonical columns of the import template, with what each holds (written by
#: ``havens people template``; the XLSForm uses the same names).
COLUMNS: dict[str, str] = {
    "household_ref": "The file's own key grouping members into one household (required).",
    "site_code": "Site code (CP + 6 digits); optional when the import names the site.",
    "relationship": "Relationship to the head: " + ", ".join(r.value for r in Relationship),
    "given_name": "Given name (Arabic script or Latin); given_name_ar/_en when both are given.",
    "father_name": "Father's (given) name; father_name_ar/_en when both are given.",
    "grandfather_name": "Grandfather's name; grandfather_name_ar/_en when both are given.",
    "family_name": "Family name; family_name_ar/_en when both are given.",
    "sex": "M or F.",
    "date_of_birth": "YYYY-MM-DD, or YYYY alone when only the year is known (estimated).",
    "specific_needs": "UNHCR specific-needs codes separated by ';' (e.g. DS;SM).",
    "origin_pcode": "Admin3 (sub-district) P-code of origin, e.g. SY070100.",
    "origin_locality": "Village or neighbourhood of origin (free text).",
    "displacement_date": "YYYY-MM-DD: when the household left its home.",
    "arrival_date": "YYYY-MM-DD: when it arrived at the site (required).",
    "phone": "Phone number (stored encrypted).",
    "document_type": "Identity document: " + ", ".join(d.value for d in DocumentType),
    "document_number": "Identity document number (stored encrypted).",
    "consent_sharing": "yes/no: consent to share data with partners for the purposes below.",
    "consent_purposes": "Purposes consented to, ';'-separated: "
                        + ", ".join(p.value for p in ConsentPurpose),
}
#: Columns accepted besides the template's: language-specific names, year of birth, flags.
EXTRA_COLUMNS: tuple[str, ...] = (
    *(f"{part}_{lang}" for part in NAME_PARTS for lang in ("ar", "en")),
    "birth_year", "dob_estimated", "consent", "consent_given_by",
)

_NAME_COLUMNS = tuple((p, f"{p}_ar", f"{p}_en") for p in NAME_PARTS)

HOUSEHOLD_FIELDS = ("site_code", "origin_pcode", "origin_locality", "displacement_date",
                    "arrival_date", "consent_sharing", "consent_purposes", "consent_given_by")

_YES = frozenset({"yes", "y", "true", "1", "نعم"})
_NO = frozenset({"no", "n", "false", "0", "لا"})
_SEX = {"m": Sex.male, "male": Sex.male, "ذكر": Sex.male,
        "f": Sex.female, "female": Sex.female, "أنثى": Sex.female, "انثى": Sex.female}
_RELATIONSHIPS = {r.value: r for r in Relationship}
_DOCUMENT_TYPES = {d.value: d for d in DocumentType}
_PURPOSES = {p.value for p in ConsentPurpose}
_MIN_BIRTH = dt.date(1900, 1, 1)


@dataclass(slots=True)
class CheckedRow:
    household_ref: str
    household: dict[str, Any]
    member: dict[str, Any]
    phone: str | None = None
    document_number: str | None = None
    row_key: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)


def text_of(value: Any) -> str:
    """A cell as stripped text: dates in ISO form, 1990.0 (a typed year in Excel) as 1990."""
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _parse_date_text(text_of(value))


@lru_cache(maxsize=65_536)  # the dates of one file repeat (arrivals, displacements, births)
def _parse_date_text(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    day, _, rest = text.partition("/")
    month, _, year = rest.partition("/")
    if day.isdigit() and month.isdigit() and len(year) == 4 and year.isdigit():
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")


def parse_yes_no(value: Any, column: str) -> bool:
    text = text_of(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"{text!r} is not yes or no")


#: Cells that make up a household's own fields (the same on every row of one household).
_HOUSEHOLD_CELLS = ("site_code", "origin_pcode", "origin_locality", "arrival_date",
                    "displacement_date", "consent", "consent_sharing", "consent_purposes",
                    "consent_given_by")

HouseholdCache = dict[tuple[str, ...], tuple[dict[str, Any], list[tuple[str, str]]]]
Problems = list[tuple[str, str]]
#: A name part checked: Arabic and Latin values, their compact keys, problems.
_Part = tuple[str | None, str | None, str, str, Problems]
#: Sorted columns of a file's rows: their 'name=' prefixes and a getter of their cells.
_KeyOrder = tuple[tuple[str, ...], Callable[[dict[str, str]], tuple[str, ...]]]


def check_row(raw: dict[str, Any], *, today: dt.date, default_site: str | None = None,
              cache: HouseholdCache | None = None) -> CheckedRow:
    """Check one row; problems are collected in ``CheckedRow.problems``.

    ``cache`` (one per file) remembers the household fields already checked: the members of a
    household repeat them. A whole file is better checked with one ``RowChecker``.
    """
    return RowChecker(today=today, default_site=default_site, households=cache).check(raw)


class RowChecker:
    """Checks the rows of one file (or one registration) against one ``today`` and site.

    Most cells of a registration file repeat: the household's cells on every member's row,
    name parts (a few hundred given and family names), dates of birth, relationships. Each
    group of cells is checked once per distinct value and the result reused, which is what
    makes a 100,000-row import fast; results and problems (and their order) are those of
    checking every row afresh.
    """

    def __init__(self, *, today: dt.date, default_site: str | None = None,
                 households: HouseholdCache | None = None) -> None:
        self.today = today
        self.default_site = default_site
        self.households: HouseholdCache = {} if households is None else households
        self._parts: dict[tuple[int, str, str, str], _Part] = {}
        self._kinds: dict[tuple[str, str], tuple[Relationship | None, Sex | None, Problems]] = {}
        self._births: dict[tuple[str, str, str], tuple[dt.date | None, bool, Problems]] = {}
        self._key_orders: dict[tuple[str, ...], _KeyOrder] = {}

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
        cells = (get("site_code", ""), get("origin_pcode", ""), get("origin_locality", ""),
                 get("arrival_date", ""), get("displacement_date", ""), get("consent", ""),
                 get("consent_sharing", ""), get("consent_purposes", ""),
                 get("consent_given_by", ""))  # _HOUSEHOLD_CELLS, in order
        cached = self.households.get(cells)
        if cached is None:
            cached = self.households[cells] = _check_household(raw, self.today,
                                                               self.default_site)
        household, household_problems = cached
        if household_problems:
            problems += household_problems

        member: dict[str, Any] = {}
        self._names(get, member, problems)
        self._person(get, member, problems)

        phone = get("phone", "")
        phone_norm = normalise_phone(phone) if phone else None
        if phone and not 6 <= len(phone_norm.lstrip("+")) <= 15:  # type: ignore[union-attr]
            problems.append(("phone", "needs 6 to 15 digits"))
        doc_type_text = get("document_type", "")
        if doc_type_text:
            doc_type_text = doc_type_text.lower().replace(" ", "_")
        document = get("document_number", "")
        doc_norm = normalise_document(document) if document else None
        member["document_type"] = None
        if doc_type_text:
            doc_type = _DOCUMENT_TYPES.get(doc_type_text)
            if doc_type is None:
                problems.append(("document_type", f"{doc_type_text!r} is not one of "
                                 + ", ".join(_DOCUMENT_TYPES)))
            else:
                member["document_type"] = doc_type
        if document and not doc_norm:
            problems.append(("document_number", "holds no letters or digits"))
        if document and not doc_type_text:
            problems.append(("document_type", "is required with a document number"))

        row = CheckedRow(household_ref=ref, household=household, member=member,
                         phone=phone_norm, document_number=doc_norm, problems=problems)
        if not problems:
            row.row_key = self._row_key(ref, raw)
        return row

    def check_all(self, raws: list[dict[str, Any]]) -> list[CheckedRow]:
        """``check`` of many rows, column by column: the same rows, many times faster.

        Each cell group (household cells, name parts, relationship and sex, birth) is looked
        up per row in the checker's caches through C-level loops, and rows are put together
        from the columns. A row that any check finds fault with is checked again on its own
        by ``check``, so its problems (and their order) are exactly the row rules'.
        """
        if not raws:
            return []
        columns_of = tuple(raws[0])
        try:
            if not all(map(columns_of.__eq__, map(tuple, raws))):
                raise TypeError("rows of different columns")
            cells = dict(zip(columns_of, [list(map(str.strip, column)) for column
                                          in zip(*map(dict.values, raws), strict=True)],
                             strict=True))
        except TypeError:  # spreadsheet cells (dates, numbers) or ragged rows
            return [self.check(raw) for raw in raws]
        count = len(raws)
        blank = [""] * count

        def column(name: str) -> list[str]:
            return cells.get(name, blank)

        suspect: set[int] = set()
        rows = range(count)

        def faults(results: list[Any]) -> None:
            """Rows whose cached group result holds problems (its last item)."""
            suspect.update(compress(rows, map(_LAST, results)))

        refs = column("household_ref")
        suspect.update(i for i, ref in enumerate(refs) if not ref or len(ref) > 100)

        today, site = self.today, self.default_site
        household_cells = list(zip(*map(column, _HOUSEHOLD_CELLS), strict=True))
        households = _cached(self.households, household_cells,
                             lambda group: _check_household(
                                 dict(zip(_HOUSEHOLD_CELLS, group, strict=True)), today, site))
        faults(households)

        member_columns: dict[str, list[Any]] = {}
        compact_ar: list[list[str]] = []
        compact_en: list[list[str]] = []
        for index, (part, ar_column, en_column) in enumerate(_NAME_COLUMNS):
            results = _cached(self._parts, list(zip(
                repeat(index, count), column(part), column(ar_column), column(en_column),
                strict=True)),
                lambda key: _check_name_part(_NAME_COLUMNS[key[0]][0], *key[1:]))
            faults(results)
            member_columns[ar_column], member_columns[en_column], ar_keys, en_keys, _p = (
                list(map(itemgetter(item), results)) for item in range(5))
            compact_ar.append(ar_keys)
            compact_en.append(en_keys)
        suspect.update(compress(rows, map(_NEITHER, member_columns["given_name_ar"],
                                          member_columns["given_name_en"])))
        member_columns["name_key_ar"] = list(map("".join, zip(*compact_ar, strict=True)))
        member_columns["name_key_en"] = list(map("".join, zip(*compact_en, strict=True)))

        kinds = _cached(self._kinds, list(zip(column("relationship"), column("sex"), strict=True)),
                        lambda key: _check_kind(*key))
        faults(kinds)
        member_columns["relationship"] = list(map(itemgetter(0), kinds))
        member_columns["sex"] = list(map(itemgetter(1), kinds))
        births = _cached(self._births, list(zip(column("date_of_birth"), column("birth_year"),
                                                column("dob_estimated"), strict=True)),
                         lambda key: _check_birth(key[0], key[1], key[2], today))
        faults(births)
        member_columns["date_of_birth"] = list(map(itemgetter(0), births))
        member_columns["dob_estimated"] = list(map(itemgetter(1), births))
        needs_cells = column("specific_needs")
        needs = {text: _needs(text) for text in set(needs_cells) if text}
        suspect.update(i for i, text in enumerate(needs_cells) if text and needs[text][1])
        member_columns["specific_needs"] = [list(needs[text][0]) if text else []
                                            for text in needs_cells]

        phone_cells = column("phone")
        phones: dict[str, str | None] = {
            text: normalise_phone(text) for text in set(phone_cells) if text}
        suspect.update(i for i, text in enumerate(phone_cells)
                       if text and not 6 <= len(phones[text].lstrip("+")) <= 15)  # type: ignore[union-attr]
        phones[""] = None
        number_cells, type_cells = column("document_number"), column("document_type")
        documents: dict[str, str | None] = {
            text: normalise_document(text) for text in set(number_cells) if text}
        types: dict[str, DocumentType | None] = {"": None}
        for text in set(type_cells):
            if text:
                types[text] = _DOCUMENT_TYPES.get(text.lower().replace(" ", "_"))
        suspect.update(i for i, (kind_text, number) in enumerate(zip(
            type_cells, number_cells, strict=True))
            if (kind_text and types[kind_text] is None) or (number and not documents[number])
            or (number and not kind_text))
        documents[""] = None
        member_columns["document_type"] = list(map(types.__getitem__, type_cells))

        members = map(dict, map(zip, repeat(tuple(member_columns)),
                                zip(*member_columns.values(), strict=True)))
        checked = list(map(CheckedRow, refs, map(itemgetter(0), households), members,
                           map(phones.__getitem__, phone_cells),
                           map(documents.__getitem__, number_cells),
                           self._row_keys(columns_of, cells, refs)))
        for index in suspect:
            checked[index] = self.check(raws[index])
        return checked

    def _row_keys(self, columns: tuple[str, ...], cells: dict[str, list[str]],
                  refs: list[str]) -> Iterator[str]:
        """``row_key`` of every row, from the columns (C-level loops over the rows)."""
        pieces = [[f"{name}={value}" if value else "" for value in cells[name]]
                  for name in sorted(columns)]
        contents = map("\x1f".join, map(partial(filter, None), zip(*pieces, strict=True)))
        texts = map("{}\x1e{}".format, refs, contents)
        return map(methodcaller("hexdigest"), map(hashlib.sha256, map(str.encode, texts)))

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
        parts = self._parts
        key_ar = []
        key_en = []
        for index, (part, ar_column, en_column) in enumerate(_NAME_COLUMNS):
            cells = (index, get(part, ""), get(ar_column, ""), get(en_column, ""))
            known = parts.get(cells)
            if known is None:
                known = parts[cells] = _check_name_part(part, cells[1], cells[2], cells[3])
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
        kind = self._kinds.get(cells)
        if kind is None:
            kind = self._kinds[cells] = _check_kind(*cells)
        member["relationship"], member["sex"], found = kind
        if found:
            problems += found
        cells3 = (get("date_of_birth", ""), get("birth_year", ""), get("dob_estimated", ""))
        birth = self._births.get(cells3)
        if birth is None:
            birth = self._births[cells3] = _check_birth(*cells3, self.today)
        member["date_of_birth"], member["dob_estimated"], found = birth
        if found:
            problems += found
        needs = get("specific_needs", "")
        member["specific_needs"] = []
        if needs:
            codes, unknown = _needs(needs)
            if unknown:
                problems.append(("specific_needs", f"unknown code(s): {', '.join(unknown)}"))
            member["specific_needs"] = list(codes)


_LAST = itemgetter(-1)


def _NEITHER(first: Any, second: Any) -> bool:
    return not (first or second)


def _cached(cache: dict[Any, Any], keys: list[Any], compute: Callable[[Any], Any]
            ) -> list[Any]:
    """``cache[key]`` of every key, computing (once) those not yet in the cache."""
    found = list(map(cache.get, keys))
    if None in found:
        for key in set(compress(keys, map(partial(is_, None), found))):
            cache[key] = compute(key)
        found = list(map(cache.__getitem__, keys))
    return found


def _getter(keys: list[str]) -> Callable[[dict[str, str]], tuple[str, ...]]:
    """The values of ``keys`` of a dict, always as a tuple (itemgetter of one is not)."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda raw: tuple(raw[k] for k in keys)


def row_key(ref: str, raw: dict[str, str]) -> str:
    """SHA-256 of the household key and the row's canonical content (cells as text)."""
    content = "\x1f".join([k + "=" + v for k, v in sorted(raw.items()) if v])
    return hashlib.sha256(f"{ref}\x1e{content}".encode()).hexdigest()


def _check_household(raw: dict[str, str], today: dt.date, default_site: str | None
                     ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    household: dict[str, Any] = {}
    site_code = raw.get("site_code", "").upper() or default_site
    if not site_code:
        problems.append(("site_code", "is required when the import names no site"))
    household["site_code"] = site_code
    household["origin_pcode"] = raw.get("origin_pcode", "").upper() or None
    household["origin_locality"] = raw.get("origin_locality", "")[:200] or None
    for column, required in (("arrival_date", True), ("displacement_date", False)):
        value = raw.get(column, "")
        if value == "":
            if required:
                problems.append((column, "is required"))
            household[column] = None
            continue
        try:
            day = parse_date(value)
        except ValueError as exc:
            problems.append((column, str(exc)))
            household[column] = None
            continue
        if day > today:
            problems.append((column, f"{day} is in the future"))
        household[column] = day
    if (household["arrival_date"] and household["displacement_date"]
            and household["displacement_date"] > household["arrival_date"]):
        problems.append(("displacement_date", "is after the arrival date"))
    _check_consent(raw, household, problems)
    return household, problems


def _check_consent(raw: dict[str, Any], household: dict[str, Any],
                   problems: list[tuple[str, str]]) -> None:
    consent = raw.get("consent", "")
    household["consent_registration"] = True
    if consent:
        try:
            if not parse_yes_no(consent, "consent"):
                problems.append(("consent", "registration without consent is not recorded"))
        except ValueError as exc:
            problems.append(("consent", str(exc)))
    sharing = raw.get("consent_sharing", "")
    household["consent_sharing"] = False
    if sharing:
        try:
            household["consent_sharing"] = parse_yes_no(sharing, "consent_sharing")
        except ValueError as exc:
            problems.append(("consent_sharing", str(exc)))
    purposes = [p.lower() for p in raw.get("consent_purposes", "").replace(";", " ").split()]
    unknown = [p for p in purposes if p not in _PURPOSES]
    if unknown:
        problems.append(("consent_purposes", f"unknown purpose(s): {', '.join(unknown)}"))
    household["consent_purposes"] = sorted(set(purposes) & _PURPOSES)
    household["consent_given_by"] = raw.get("consent_given_by", "")[:100] or None


def _check_name_part(part: str, plain: str, ar: str, en: str) -> _Part:
    """One name part from its plain, Arabic and Latin cells (the plain one fills a gap)."""
    problems: Problems = []
    if plain:
        if names.is_arabic(plain):
            ar = ar or plain
        else:
            en = en or plain
    if ar and not names.is_arabic(ar):
        problems.append((f"{part}_ar", "is not in Arabic script"))
    if len(ar) > 100 or len(en) > 100:
        problems.append((part, "is longer than 100 characters"))
    return (ar or None, en or None, names.compact_key([ar], arabic=True),
            names.compact_key([en], arabic=False), problems)


def _check_kind(relationship: str, sex: str) -> tuple[Relationship | None, Sex | None, Problems]:
    """Relationship to the head and sex."""
    problems: Problems = []
    relationship = relationship.lower().replace(" ", "_")
    kin = _RELATIONSHIPS.get(relationship)
    if kin is None:
        problems.append(("relationship", f"{relationship!r} is not one of "
                         + ", ".join(_RELATIONSHIPS) if relationship else "is required"))
    sex = sex.lower()
    found = _SEX.get(sex)
    if found is None:
        problems.append(("sex", f"{sex!r} is not M or F" if sex else "is required"))
    return kin, found, problems


def _check_birth(dob_text: str, year_text: str, flag: str, today: dt.date
                 ) -> tuple[dt.date | None, bool, Problems]:
    """Date of birth (or year alone, estimated) and whether it is estimated."""
    problems: Problems = []
    estimated = False
    dob: dt.date | None = None
    if dob_text and not (len(dob_text) == 4 and dob_text.isdigit()):
        try:
            dob = parse_date(dob_text)
        except ValueError as exc:
            problems.append(("date_of_birth", str(exc)))
    elif dob_text or year_text:
        year_value = dob_text or year_text
        column = "date_of_birth" if dob_text else "birth_year"
        if year_value.isdigit() and len(year_value) == 4:
            dob, estimated = dt.date(int(year_value), 7, 1), True  # mid-year convention
        else:
            problems.append((column, f"{year_value!r} is not a year (YYYY)"))
    else:
        problems.append(("date_of_birth", "is required (YYYY-MM-DD, or YYYY if estimated)"))
    if flag:
        try:
            estimated = parse_yes_no(flag, "dob_estimated") or estimated
        except ValueError as exc:
            problems.append(("dob_estimated", str(exc)))
    if dob is not None:
        if dob.year > today.year or (not estimated and dob > today):
            problems.append(("date_of_birth", f"{dob} is in the future"))
        elif dob < _MIN_BIRTH:
            problems.append(("date_of_birth", f"{dob} is before 1900"))
        if estimated and dob > today:
            dob = today
    return dob, estimated, problems


@lru_cache(maxsize=4_096)
def _needs(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Known codes in list order, and unknown ones, of a specific-needs cell."""
    codes = split_codes(text)
    return (tuple(c for c in BY_CODE if c in codes),
            tuple(c for c in codes if c not in BY_CODE))
