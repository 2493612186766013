"""Normalisation of Arabic names written in Arabic script or in any Latin transliteration.

Every name field becomes a :class:`NameForms` with

* ``fold`` – the script-folded text: Arabic letter variants merged (hamza carriers, alef forms, taa
  marbuta → ه, alef maqsura → ي, Persian/Urdu letters, harakat and tatweel removed), or Latin
  lower-cased without accents; articles and the *Abd al-* compounds are normalised
  (``Abdel Rahman``/``Abd al-Rahman``/``Abdulrahman`` → ``abd rahman``, ``Al-Khatib``/``Alkhatib``/
  ``El Khatib`` → ``khatib``);
* ``skeleton`` – the consonant skeleton (:mod:`havens.linkage.phonetic`), the same for محمد and
  Mohammed/Muhammad/Mohamad;
* ``key`` – the canonical name when the folded form is in the variant list
  (``data/name_variants.csv``: common Syrian given and family names with their Arabic spelling and
  real-world transliterations, including abbreviations like ``Mhd``), or when its skeleton belongs
  to exactly one listed name; otherwise the skeleton. The list separates names the skeleton cannot
  (Hasan and Husayn are both ``hsn``).

The module is pure Python with caches: the engine normalises each *distinct* spelling once.
"""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from havens.linkage.phonetic import arabic_rules, arabic_skeleton, latin_rules, latin_skeleton

_ARABIC_RE = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_LATIN_SPLIT = re.compile(r"[\s\-_.,/]+")
_ARABIC_SPLIT = re.compile(r"[\s\-_.,/،]+")
_ABD_ATTACHED = re.compile(r"^abd(?:[aeiou]l|[aeiou](?=([a-z])\1)|[aeiou])?(?P<rest>[a-z]{2,})$")
_NOT_LATIN = re.compile(r"[^a-z\s\-_.,/]")
_ABD_AR = "عبد"
_ARTICLE_AR = "ال"


@dataclass(frozen=True, slots=True)
class NameForms:
    """The comparable forms of one name field."""

    fold: str
    skeleton: str
    key: str


def is_arabic(text: str) -> bool:
    """True if the text contains Arabic-script letters."""
    return bool(_ARABIC_RE.search(text))


@cache
def _arabic_table() -> dict[int, str | None]:
    rules = arabic_rules()
    table: dict[int, str | None] = {ord(k): v for k, v in rules["fold"].items()}
    table.update({ord(ch): None for ch in rules["drop"]})
    return table


def fold_arabic(text: str) -> str:
    """Fold Arabic-script letter variants and remove diacritics, tatweel and lone hamza."""
    text = unicodedata.normalize("NFKC", text)  # presentation forms (ﻣﺤﻤﺪ) → base letters
    return " ".join(text.translate(_arabic_table()).split())


def fold_latin(text: str) -> str:
    """Lower-case, strip accents and apostrophes (ʿ ʾ ' ’ `), keep letters and separators."""
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_LATIN.sub("", text)


@cache
def _latin_sets() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    rules = latin_rules()
    return (
        frozenset(rules["abd_forms"]),
        frozenset(rules["articles"]),
        frozenset(rules["attached_article_exceptions"]),
    )


def latin_tokens(text: str) -> list[str]:
    """Folded Latin tokens with articles removed and Abd al-X compounds joined as ``abd`` + X."""
    abd_forms, articles, exceptions = _latin_sets()
    raw = [t for t in _LATIN_SPLIT.split(fold_latin(text)) if t]
    tokens: list[str] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        if tok in abd_forms and i + 1 < len(raw):
            # "Abd al-Rahman", "Abdel Rahman", "Abdul Rahman": join with the next name.
            j = i + 1
            while j < len(raw) - 1 and raw[j] in articles:
                j += 1
            tokens.append("abd" + _strip_attached_article(raw[j], exceptions))
            i = j + 1
            continue
        if tok in articles and i + 1 < len(raw):
            i += 1  # a detached article: "al Khatib", "el-Hassan"
            continue
        m = _ABD_ATTACHED.match(tok)
        if m and tok not in abd_forms:
            rest = m.group("rest")
            # "Abdulah": the article ate the l of Allah.
            tokens.append("abd" + ("lah" if rest in ("ah", "a") else rest))
        else:
            tokens.append(_strip_attached_article(tok, exceptions))
        i += 1
    return tokens


def _strip_attached_article(tok: str, exceptions: frozenset[str]) -> str:
    if tok in exceptions or len(tok) < 5:
        return tok
    if tok[:2] in ("al", "el"):
        return tok[2:]
    return tok


def arabic_tokens(text: str) -> list[str]:
    """Folded Arabic tokens with the article ال removed and عبد + X joined."""
    exceptions = frozenset(arabic_rules()["article_exceptions"])
    raw = [t for t in _ARABIC_SPLIT.split(fold_arabic(text)) if t]
    tokens: list[str] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        if tok == _ABD_AR and i + 1 < len(raw):
            tokens.append(_ABD_AR + _strip_arabic_article(raw[i + 1], exceptions))
            i += 2
            continue
        if tok.startswith(_ABD_AR + _ARTICLE_AR) and len(tok) > 5:
            tokens.append(_ABD_AR + tok[5:])  # عبدالرحمن written as one word
        else:
            tokens.append(_strip_arabic_article(tok, exceptions))
        i += 1
    return tokens


def _strip_arabic_article(tok: str, exceptions: frozenset[str]) -> str:
    if tok.startswith(_ARTICLE_AR) and len(tok) > 3 and tok not in exceptions:
        return tok[2:]
    return tok


@cache
def variant_table() -> dict[str, str]:
    """Folded spelling (Arabic or Latin, tokens joined) → canonical name, from the data file."""
    return _tables()[0]


@cache
def skeleton_table() -> dict[str, str]:
    """Skeleton → canonical name, for skeletons that belong to exactly one listed name.

    A spelling that is not in the list (``Mouhanad``) still finds its canonical name through its
    skeleton (``mhnd`` → ``muhannad``); an ambiguous skeleton (``hsn``: Hasan or Husayn) does not.
    """
    return _tables()[1]


@cache
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    table: dict[str, str] = {}
    by_skeleton: dict[str, set[str]] = {}
    path = resources.files("havens.linkage") / "data" / "name_variants.csv"
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            canonical = _key_of(row["canonical"])
            for spelling in [row["arabic"], row["canonical"], *row["latin_variants"].split()]:
                tokens, skeletons = _tokens_and_skeletons(spelling)
                # The first canonical name claims a spelling: given-name rows come first.
                table.setdefault("".join(tokens), canonical)
                by_skeleton.setdefault(_collapse("".join(skeletons)), set()).add(canonical)
    unique = {sk: next(iter(names)) for sk, names in by_skeleton.items()
              if len(names) == 1 and len(sk) >= 2}
    return table, unique


def _tokens_and_skeletons(text: str) -> tuple[list[str], list[str]]:
    if is_arabic(text):
        tokens = arabic_tokens(text)
        return tokens, [arabic_skeleton(t) for t in tokens]
    tokens = latin_tokens(text)
    return tokens, [_latin_token_skeleton(t) for t in tokens]


def _key_of(canonical: str) -> str:
    return re.sub(r"[\s\-]", "", canonical)


@lru_cache(maxsize=1_000_000)
def name_forms(text: str | None) -> NameForms | None:
    """The comparable forms of one name field (None for a missing or empty value)."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    tokens, skeletons = _tokens_and_skeletons(text)
    if not tokens:
        return None
    table, by_skeleton = _tables()
    skeleton = _collapse("".join(skeletons))
    key = table.get("".join(tokens)) or by_skeleton.get(skeleton)
    if key is None:
        # Multi-word names: each known word by its canonical name, the others by their skeleton.
        key = "".join(table.get(t) or by_skeleton.get(s, s)
                      for t, s in zip(tokens, skeletons, strict=True))
    return NameForms(fold=" ".join(tokens), skeleton=skeleton, key=key or skeleton)


def _latin_token_skeleton(tok: str) -> str:
    # "abd" + "hamid" must not read as the digraph "dh".
    if tok.startswith("abd") and len(tok) > 3:
        return "bd" + latin_skeleton(tok[3:])
    return latin_skeleton(tok)


_REPEATS = re.compile(r"(.)\1+")


def _collapse(s: str) -> str:
    return _REPEATS.sub(r"\1", s)


def normalise_phone(text: str | None) -> str | None:
    """Digits only, without the international prefix of Syria/Türkiye/Lebanon/Jordan/Iraq."""
    if not text:
        return None
    digits = re.sub(r"\D", "", fold_arabic(text))
    digits = re.sub(r"^(00)?(963|90|961|962|964)", "", digits).lstrip("0")
    return digits or None


def normalise_document(text: str | None) -> str | None:
    """Upper-case letters and digits only (Arabic-Indic digits folded)."""
    if not text:
        return None
    cleaned = re.sub(r"[^0-9A-Za-z]", "", fold_arabic(text)).upper()
    return cleaned or None


def forms_of(values: list[str]) -> list[tuple[str | None, str | None, str | None]]:
    """(key, skeleton, spelling) of each value — the spelling is the folded tokens written
    together, for edit distances; large lists are split over the CPU cores (fork)."""
    workers = min(os.cpu_count() or 1, 4)
    if len(values) < 40_000 or workers < 2 or "fork" not in mp.get_all_start_methods():
        return _forms_chunk(values)
    size = -(-len(values) // workers)
    chunks = [values[i : i + size] for i in range(0, len(values), size)]
    with mp.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_forms_chunk, chunks)
    return [x for part in parts for x in part]


def _forms_chunk(values: list[str]) -> list[tuple[str | None, str | None, str | None]]:
    out: list[tuple[str | None, str | None, str | None]] = []
    for v in values:
        f = name_forms(v)
        out.append((f.key, f.skeleton, f.fold.replace(" ", "")) if f else (None, None, None))
    return out
