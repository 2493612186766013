"""What a registration row holds: its columns, their vocabularies, and cells read as values.

A row is a dict of canonical column names (``COLUMNS``, ``EXTRA_COLUMNS``) to cells (text, or
dates and numbers as spreadsheets give them). The rules that check a row are in
``havens.people.rules`` (groups of cells) and ``havens.people.checker`` (a whole row);
``havens.people.records`` is the one place other code imports them from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from havens.people.models import ConsentPurpose, DocumentType, Relationship, Sex

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
    "consent": "yes: the household consented to registration (required, unless the import "
               "confirms the registration form recorded it).",
    "consent_given_by": "Who consented: head, spouse, guardian... (free text).",
    "consent_sharing": "yes/no: consent to share data with partners for the purposes below.",
    "consent_purposes": "Purposes consented to, ';'-separated: "
                        + ", ".join(p.value for p in ConsentPurpose),
}
#: Columns accepted besides the template's: language-specific names, year of birth, flags.
EXTRA_COLUMNS: tuple[str, ...] = (
    *(f"{part}_{lang}" for part in NAME_PARTS for lang in ("ar", "en")),
    "birth_year", "dob_estimated",
)

#: HXL hashtag and attributes -> canonical column. A column matches when it has the tag and at
#: least these attributes; the most specific match wins. Languages use HXL's +i_ar / +i_en.
HXL_TAGS: tuple[tuple[str, frozenset[str], str], ...] = (
    ("#beneficiary", frozenset({"household", "code"}), "household_ref"),
    ("#loc", frozenset({"code"}), "site_code"),
    ("#beneficiary", frozenset({"relationship"}), "relationship"),
    *(("#beneficiary", frozenset({"name", part}), f"{part}_name")
       for part in ("given", "father", "grandfather", "family")),
    *(("#beneficiary", frozenset({"name", part, f"i_{lang}"}), f"{part}_name_{lang}")
       for part in ("given", "father", "grandfather", "family") for lang in ("ar", "en")),
    ("#beneficiary", frozenset({"sex"}), "sex"),
    ("#date", frozenset({"birth"}), "date_of_birth"),
    ("#beneficiary", frozenset({"needs"}), "specific_needs"),
    ("#adm3", frozenset({"code", "origin"}), "origin_pcode"),
    ("#loc", frozenset({"name", "origin"}), "origin_locality"),
    ("#date", frozenset({"displaced"}), "displacement_date"),
    ("#date", frozenset({"arrival"}), "arrival_date"),
    ("#contact", frozenset({"phone"}), "phone"),
    ("#beneficiary", frozenset({"document", "type"}), "document_type"),
    ("#beneficiary", frozenset({"document", "code"}), "document_number"),
    ("#beneficiary", frozenset({"consent"}), "consent"),
    ("#beneficiary", frozenset({"consent", "giver"}), "consent_given_by"),
    ("#beneficiary", frozenset({"consent", "sharing"}), "consent_sharing"),
    ("#beneficiary", frozenset({"consent", "purposes"}), "consent_purposes"),
)

#: Each name part's plain, Arabic and Latin column.
NAME_COLUMNS = tuple((p, f"{p}_ar", f"{p}_en") for p in NAME_PARTS)

HOUSEHOLD_FIELDS = ("site_code", "origin_pcode", "origin_locality", "displacement_date",
                    "arrival_date", "consent_sharing", "consent_purposes", "consent_given_by")

#: Cells that make up a household's own fields (the same on every row of one household).
HOUSEHOLD_CELLS = ("site_code", "origin_pcode", "origin_locality", "arrival_date",
                   "displacement_date", "consent", "consent_sharing", "consent_purposes",
                   "consent_given_by")

#: Fields of ``CheckedRow.member``, in the order the checks fill them.
MEMBER_FIELDS = (*(c for _p, ar, en in NAME_COLUMNS for c in (ar, en)),
                 "name_key_ar", "name_key_en", "relationship", "sex", "date_of_birth",
                 "dob_estimated", "specific_needs", "document_type")

YES = frozenset({"yes", "y", "true", "1", "نعم"})
NO = frozenset({"no", "n", "false", "0", "لا"})
SEXES = {"m": Sex.male, "male": Sex.male, "ذكر": Sex.male,
         "f": Sex.female, "female": Sex.female, "أنثى": Sex.female, "انثى": Sex.female}
RELATIONSHIPS = {r.value: r for r in Relationship}
DOCUMENT_TYPES = {d.value: d for d in DocumentType}
PURPOSES = frozenset(p.value for p in ConsentPurpose)
MIN_BIRTH = dt.date(1900, 1, 1)

Problems = list[tuple[str, str]]


@dataclass(slots=True)
class CheckedRow:
    household_ref: str
    household: dict[str, Any]
    member: dict[str, Any]
    phone: str | None = None
    document_number: str | None = None
    row_key: str = ""
    problems: Problems = field(default_factory=list)


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
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"{text!r} is not yes or no")


def row_key(ref: str, raw: dict[str, str]) -> str:
    """SHA-256 of the household key and the row's canonical content (cells as text)."""
    content = "\x1f".join([k + "=" + v for k, v in sorted(raw.items()) if v])
    return hashlib.sha256(f"{ref}\x1e{content}".encode()).hexdigest()
