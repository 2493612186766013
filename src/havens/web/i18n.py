"""Languages of the interface: English (source) and Arabic, through Babel message catalogues.

Catalogues are compiled to ``.mo`` by the build (``make``); where a ``.mo`` is missing or older
than its ``.po`` (a fresh checkout), it is compiled in memory, so the app never shows raw ids.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from havens.web.assets import TRANSLATIONS_DIR

LANGUAGES = {"en": "English", "ar": "العربية"}
RTL_LANGUAGES = frozenset({"ar"})
DEFAULT_LANGUAGE = "en"


@lru_cache
def translations(language: str) -> gettext.NullTranslations:
    if language not in LANGUAGES or language == "en":
        return gettext.NullTranslations()
    folder = TRANSLATIONS_DIR / language / "LC_MESSAGES"
    po_file, mo_file = folder / "messages.po", folder / "messages.mo"
    if mo_file.exists() and (not po_file.exists() or
                             mo_file.stat().st_mtime >= po_file.stat().st_mtime):
        with mo_file.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def pick_language(cookie: str | None, user_language: str | None, accept: str | None) -> str:
    for candidate in (cookie, user_language):
        if candidate in LANGUAGES:
            return candidate
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


class Formatter:
    """Numbers and dates for one language. Digits are Western (latn) in both languages, as in
    the field's spreadsheets and P-codes, so figures read the same everywhere."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse(language)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale, numbering_system="latn")

    def date(self, value: dt.date | dt.datetime | None, form: str = "medium") -> str:
        if value is None:
            return "–"
        if isinstance(value, dt.datetime):
            return format_datetime(value, form, locale=self.locale)
        return format_date(value, form, locale=self.locale)
