"""Every interface string is in the catalogue and translated into Arabic."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from havens.web.assets import TRANSLATIONS_DIR
from havens.web.i18n import Formatter, pick_language, translations

SOURCE = Path(__file__).resolve().parents[2] / "src" / "havens"
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
METHOD_MAP = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
OPTIONS = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(SOURCE), METHOD_MAP, OPTIONS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_source_string_has_an_arabic_translation() -> None:
    with (TRANSLATIONS_DIR / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="ar")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_source_messages() - translated)
    assert not missing, ("untranslated (run `make extract-messages`, then translate in "
                         f"messages.po): {missing}")


def test_arabic_catalogue_translates_navigation() -> None:
    assert translations("ar").gettext("Overview") == "نظرة عامة"
    assert translations("en").gettext("Overview") == "Overview"


def test_language_choice_order() -> None:
    assert pick_language("ar", "en", "en-GB") == "ar"
    assert pick_language(None, None, "ar-SY,ar;q=0.9,en;q=0.8") == "ar"
    assert pick_language("xx", None, "fr-FR") == "en"


def test_numbers_use_western_digits_in_both_languages() -> None:
    assert Formatter("ar_SY").number(12345) == "12,345" or "٬" in Formatter("ar_SY").number(
        12345)
    assert all(ch in "0123456789,٬" for ch in Formatter("ar_SY").number(12345))
    assert Formatter("en").number(1234.5, digits=1) == "1,234.5"
