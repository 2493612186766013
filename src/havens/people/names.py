"""Normalised forms of names, for searching (and, later, for finding duplicates).

Arabic names are written with many equivalent spellings: hamza seats (أ إ آ ٱ → ا, ؤ → و,
ئ → ي), taa marbuta (ة → ه), alef maqsura (ى → ي), short-vowel marks and tatweel (dropped).
Latin transliterations differ in case, accents and how the parts are joined ("Abdul-Rahman",
"Abdul Rahman", "Abdulrahman"). Each rule is a row in a table below, so the deduplication
work can add rules without touching the code.

Two keys are kept per name: the *folded* key (tokens separated by one space) and the *compact*
key (no spaces), which makes a search tolerant to how a name was split into words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

#: Arabic letters folded to one representative (source, target).
ARABIC_LETTER_FOLDS: tuple[tuple[str, str], ...] = (
    ("أ", "ا"),  # alef with hamza above
    ("إ", "ا"),  # alef with hamza below
    ("آ", "ا"),  # alef with madda
    ("ٱ", "ا"),  # alef wasla
    ("ؤ", "و"),  # waw with hamza
    ("ئ", "ي"),  # yeh with hamza
    ("ى", "ي"),  # alef maqsura
    ("ة", "ه"),  # taa marbuta
    ("ک", "ك"),  # Persian keheh, common in typed names
    ("ی", "ي"),  # Persian yeh
)

#: Marks removed from Arabic: tanwin, short vowels, shadda, sukun, superscript alef, tatweel,
#: and the bare hamza (written or not in the same name).
ARABIC_DROPPED: frozenset[str] = frozenset(
    "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0653\u0654\u0655\u0670\u0640\u0621"
)

#: Eastern Arabic and Persian digits, read as ASCII digits.
DIGIT_FOLDS: tuple[tuple[str, str], ...] = tuple(
    (chr(0x0660 + d), str(d)) for d in range(10)
) + tuple((chr(0x06F0 + d), str(d)) for d in range(10))

#: Characters that separate name parts, folded to a space.
SEPARATORS = "-‐‑‒–—_.'’`ʼʻ,/"

_ARABIC_TABLE = str.maketrans(
    {src: dst for src, dst in ARABIC_LETTER_FOLDS + DIGIT_FOLDS}
    | {ch: None for ch in ARABIC_DROPPED}
)
_SEPARATOR_TABLE = str.maketrans({ch: " " for ch in SEPARATORS})
_SPACES = re.compile(r"\s+")
_ARABIC_RANGE = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")


def is_arabic(text: str) -> bool:
    """True when the text holds Arabic script."""
    return bool(_ARABIC_RANGE.search(text))


def fold_arabic(text: str) -> str:
    """Arabic name folded for comparison: unified letters, no marks, single spaces."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.translate(_ARABIC_TABLE)
    return _SPACES.sub(" ", text.translate(_SEPARATOR_TABLE)).strip()


def fold_latin(text: str) -> str:
    """Latin name folded for comparison: lower case, no accents, separators as single spaces."""
    plain = text.casefold()
    if not plain.isascii():
        decomposed = unicodedata.normalize("NFKD", plain)
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", plain.translate(_SEPARATOR_TABLE)).strip()


def fold(text: str) -> str:
    """Fold with the rules of the text's script."""
    return fold_arabic(text) if is_arabic(text) else fold_latin(text)


def compact(folded: str) -> str:
    return folded.replace(" ", "")


_COMPACT_LATIN = str.maketrans({ch: None for ch in SEPARATORS + " \t\n\r\u00a0"})
_COMPACT_ARABIC = str.maketrans(
    {src: dst for src, dst in ARABIC_LETTER_FOLDS + DIGIT_FOLDS}
    | {ch: None for ch in ARABIC_DROPPED | set(SEPARATORS + " \t\n\r\u00a0")}
)


def compact_key(parts: Iterable[str | None], *, arabic: bool) -> str:
    """``compact(name_key(parts))``: the form stored for searching. Name parts repeat a lot
    in a population (a few hundred given names), so each part's folding is cached."""
    fold_part = _compact_arabic if arabic else _compact_latin
    return "".join([fold_part(p) for p in parts if p])


@lru_cache(maxsize=65_536)
def _compact_arabic(text: str) -> str:
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.translate(_COMPACT_ARABIC)


@lru_cache(maxsize=65_536)
def _compact_latin(text: str) -> str:
    text = text.casefold()
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(ch))
    return text.translate(_COMPACT_LATIN)


def name_key(parts: Iterable[str | None], *, arabic: bool) -> str:
    """The folded full name (given, father, grandfather, family), words separated by spaces."""
    joined = " ".join(p for p in parts if p)
    return fold_arabic(joined) if arabic else fold_latin(joined)


def query_tokens(query: str) -> list[str]:
    """Tokens of a search query: each must occur in the compact name key.

    Compacting the stored names makes "عبد الرحمن" find "عبدالرحمن" and "Abdul Rahman" find
    "Abdulrahman" (and the reverse).
    """
    return [token for token in fold(query).split(" ") if token]
