"""The rules of one registration row, a group of cells at a time.

Each function checks one group of cells that belong together (a household's cells, one name
part, relationship and sex, the birth, the specific needs) and returns the values with the
problems found, as ``(column, reason)`` pairs. A group's result depends on its cells alone,
so a file's checker (``havens.people.checker``) computes it once per distinct group.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from havens.people import names
from havens.people.crypto import normalise_document, normalise_phone
from havens.people.fields import (
    MIN_BIRTH,
    PURPOSES,
    RELATIONSHIPS,
    SEXES,
    Problems,
    parse_date,
    parse_yes_no,
)
from havens.people.models import Relationship, Sex
from havens.people.specific_needs import BY_CODE, split_codes

#: A household checked: its fields and its problems.
HouseholdResult = tuple[dict[str, Any], Problems]
#: A name part checked: Arabic and Latin values, their compact keys, problems.
PartResult = tuple[str | None, str | None, str, str, Problems]
KindResult = tuple[Relationship | None, Sex | None, Problems]
BirthResult = tuple[dt.date | None, bool, Problems]


def check_household(raw: dict[str, str], today: dt.date, default_site: str | None,
                    consent_recorded: bool = False) -> HouseholdResult:
    """A household's fields from its cells (``HOUSEHOLD_CELLS``), and their problems.

    Consent to registration is the ``consent`` cell; a blank cell is a problem unless
    ``consent_recorded`` says consent was recorded elsewhere (the API's consent field, an
    importer confirming that the registration form recorded it). Households differ in their
    combination of cells more than in each cell: the dates and the consent cells are each
    checked once per distinct value (``_day``, ``_consent``).
    """
    get = raw.get
    problems: Problems = []
    site_code = get("site_code", "").upper() or default_site
    if not site_code:
        problems.append(("site_code", "is required when the import names no site"))
    arrival, found = _day("arrival_date", get("arrival_date", ""), today)
    problems += found
    displacement, found = _day("displacement_date", get("displacement_date", ""), today)
    problems += found
    if arrival and displacement and displacement > arrival:
        problems.append(("displacement_date", "is after the arrival date"))
    sharing, purposes, found = _consent(get("consent", ""), get("consent_sharing", ""),
                                        get("consent_purposes", ""), consent_recorded)
    problems += found
    household = {
        "site_code": site_code, "origin_pcode": get("origin_pcode", "").upper() or None,
        "origin_locality": get("origin_locality", "")[:200] or None,
        "arrival_date": arrival, "displacement_date": displacement,
        "consent_registration": True, "consent_sharing": sharing,
        "consent_purposes": list(purposes),  # a list of its own: the household's to keep
        "consent_given_by": get("consent_given_by", "")[:100] or None,
    }
    return household, problems


@lru_cache(maxsize=65_536)
def _day(column: str, value: str, today: dt.date) -> tuple[dt.date | None, Problems]:
    """An arrival or displacement date (the arrival is required), not in the future.

    Cached: the returned problems are the caller's to copy, not to change.
    """
    if value == "":
        return None, [(column, "is required")] if column == "arrival_date" else []
    try:
        day = parse_date(value)
    except ValueError as exc:
        return None, [(column, str(exc))]
    return day, [(column, f"{day} is in the future")] if day > today else []


@lru_cache(maxsize=4_096)
def _consent(consent: str, sharing: str, purposes_text: str, recorded: bool
             ) -> tuple[bool, tuple[str, ...], Problems]:
    """Consent to registration (yes, or ``recorded`` elsewhere), to sharing, and its purposes.

    Cached: the returned problems are the caller's to copy, not to change.
    """
    problems: Problems = []
    if not consent and not recorded:
        problems.append(("consent", "is required: yes when the household consented to "
                                    "registration"))
    elif consent:
        try:
            if not parse_yes_no(consent, "consent"):
                problems.append(("consent", "registration without consent is not recorded"))
        except ValueError as exc:
            problems.append(("consent", str(exc)))
    shared = False
    if sharing:
        try:
            shared = parse_yes_no(sharing, "consent_sharing")
        except ValueError as exc:
            problems.append(("consent_sharing", str(exc)))
    purposes = [p.lower() for p in purposes_text.replace(";", " ").split()]
    unknown = [p for p in purposes if p not in PURPOSES]
    if unknown:
        problems.append(("consent_purposes", f"unknown purpose(s): {', '.join(unknown)}"))
    return shared, tuple(sorted(set(purposes) & PURPOSES)), problems


#: A document number given without its type.
DOCUMENT_WITHOUT_TYPE = ("document_type", "is required with a document number")


def phone_fits(phone: str) -> bool:
    """A normalised phone number has 6 to 15 digits (15: the longest E.164 number)."""
    return 6 <= len(phone.lstrip("+")) <= 15


def check_phone(text: str) -> tuple[str | None, Problems]:
    """A phone cell normalised (``crypto.normalise_phone``), and its problem."""
    if not text:
        return None, []
    phone = normalise_phone(text)
    return phone, [] if phone_fits(phone) else [("phone", "needs 6 to 15 digits")]


def check_document(text: str) -> tuple[str | None, Problems]:
    """A document number normalised (``crypto.normalise_document``), and its problem."""
    if not text:
        return None, []
    number = normalise_document(text)
    return number, [] if number else [("document_number", "holds no letters or digits")]


def check_name_part(part: str, plain: str, ar: str, en: str) -> PartResult:
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


def check_kind(relationship: str, sex: str) -> KindResult:
    """Relationship to the head and sex."""
    problems: Problems = []
    relationship = relationship.lower().replace(" ", "_")
    kin = RELATIONSHIPS.get(relationship)
    if kin is None:
        problems.append(("relationship", f"{relationship!r} is not one of "
                         + ", ".join(RELATIONSHIPS) if relationship else "is required"))
    sex = sex.lower()
    found = SEXES.get(sex)
    if found is None:
        problems.append(("sex", f"{sex!r} is not M or F" if sex else "is required"))
    return kin, found, problems


def check_birth(dob_text: str, year_text: str, flag: str, today: dt.date) -> BirthResult:
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
        elif dob < MIN_BIRTH:
            problems.append(("date_of_birth", f"{dob} is before 1900"))
        if estimated and dob > today:
            dob = today
    return dob, estimated, problems


@lru_cache(maxsize=4_096)
def needs_of(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Known codes in list order, and unknown ones, of a specific-needs cell."""
    codes = split_codes(text)
    return (tuple(c for c in BY_CODE if c in codes),
            tuple(c for c in codes if c not in BY_CODE))
