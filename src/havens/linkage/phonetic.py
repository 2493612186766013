"""Consonant skeletons: one phonetic key shared by Arabic script and its Latin transliterations.

Arabic script writes consonants and long vowels but not short vowels; Latin transliterations write
every vowel, each in several ways (Mohammed/Muhammad, Yousef/Yusuf, Hussein/Husain). The only part
both scripts agree on is the consonants, so the skeleton keeps consonants in merged classes and
drops vowels, ayn and hamza everywhere:

* letters Latin writers confuse share a class: q/k/c/ق/ك → ``k``, th/s/ث/س/ص → ``s``,
  dh/z/ذ/ز/ظ → ``z``,
  kh/خ → ``x``, sh/ch/ش → ``c``, gh/غ → ``g``, v/f → ``f``, p/b → ``b``;
* w and y (و ي) are kept only at the start of a word: inside a word they are long vowels in Arabic
  script and vowels or glides in Latin (Hussein, Husayn, حسين → ``hsn``);
* a final h is dropped (Fatima/Fatimah/فاطمة, Hamza/Hamzeh);
* doubled letters collapse (Hassan/Hasan, shadda is not written).

The letter tables live in ``data/arabic_script.json`` and ``data/latin_rules.json``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

_DATA = resources.files("havens.linkage") / "data"


@cache
def arabic_rules() -> dict[str, Any]:
    """The Arabic-script folding and skeleton tables."""
    return json.loads((_DATA / "arabic_script.json").read_text(encoding="utf-8"))


@cache
def latin_rules() -> dict[str, Any]:
    """The Latin folding tables."""
    return json.loads((_DATA / "latin_rules.json").read_text(encoding="utf-8"))


_CLASS_PLACEHOLDER = {"x": "X", "c": "C", "s": "S", "z": "Z", "g": "G", "f": "F", "j": "J",
                      "k": "K",
                      "u": "U", "i": "I", "h": "H", "b": "B", "d": "D", "t": "T"}


@cache
def _latin_tables() -> tuple[list[tuple[str, str]], dict[int, str | None], str]:
    """Digraph replacements (to upper-case placeholders, so outputs never form new digraphs),
    one translate table (letters → classes, vowels and placeholders of vowels → dropped) and the
    set of vowels."""
    rules = latin_rules()
    digraphs: dict[str, str] = rules["digraphs"]
    ordered = [(d, _CLASS_PLACEHOLDER[digraphs[d]])
               for d in sorted(digraphs, key=len, reverse=True)]
    vowels: str = rules["vowels"]
    table: dict[int, str | None] = {ord(k): v for k, v in rules["letters"].items()}
    for v in vowels + "UIwy":
        table[ord(v)] = None
    for lower, upper in _CLASS_PLACEHOLDER.items():
        if upper not in "UI":
            table[ord(upper)] = lower
    return ordered, table, vowels


_REPEATS = re.compile(r"(.)\1+")


def _finish(text: str) -> str:
    """Drop a final h, then collapse doubled classes."""
    return _REPEATS.sub(r"\1", text.rstrip("h"))


def latin_skeleton(token: str) -> str:
    """Skeleton of one lower-case ASCII token (already stripped of articles)."""
    digraphs, table, _ = _latin_tables()
    for d, placeholder in digraphs:
        if d in token:
            token = token.replace(d, placeholder)
    if not token:
        return ""
    first = token[0]
    # A word-initial w or y is a consonant (Walid, Yusuf); anywhere else it is a vowel or glide.
    head = first if first in "wy" else first.translate(table)
    return _finish(head + token[1:].translate(table))


@cache
def _arabic_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(k): (v or None) for k, v in arabic_rules()["latin"].items()}
    table[ord("و")] = None
    table[ord("ي")] = None
    return table


def arabic_skeleton(token: str) -> str:
    """Skeleton of one folded Arabic-script token (already stripped of the article)."""
    if not token:
        return ""
    table = _arabic_table()
    first = token[0]
    head = {"و": "w", "ي": "y"}.get(first) or first.translate(table)
    body = token[1:].translate(table)
    # Digits and stray marks are not letters of the skeleton; Latin letters in Arabic text stay.
    text = "".join(ch for ch in head + body if ch.isascii() and ch.isalpha()).lower()
    return _finish(text)


def block_key(skeleton: str, length: int = 4) -> str:
    """A coarse blocking key: the first ``length`` consonant classes of a skeleton."""
    return skeleton[:length]
