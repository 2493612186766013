"""Seeded generator of Arabic-name registration lists with ground truth (tests and benchmarks).

Population: clans (a grandfather, his sons' households in one home village) → households (father,
mother from another clan, 1–7 children whose father's name is the father's given name and whose
grandfather's name is the father's father's name; the eldest son is often named after his
grandfather)
→ people. Given and family names follow a heavy-tailed frequency (Muhammad, Ahmad, Ali, Hasan... are
very common) over the common names of ``data/name_variants.csv`` plus a tail of names built from
Arabic roots and patterns. Each person is registered by 1–4 agencies; each agency writes names in
Arabic script or in its own Latin transliteration *style* (English, French, Levantine colloquial),
produced by rules from the canonical romanisation — not copied from the variant list the normaliser
uses, so the measurement is not circular. Noise: missing grandfather's names, year-only, 1 January,
day/month-swapped and ±1 year dates of birth, typos, P-codes known only to the district, phones and
documents present at some agencies only. Look-alike relatives (siblings, cousins, fathers and sons)
come from the structure itself.

The ground truth is the ``person_id`` column (ignored by the engine, like every unknown column).
"""

from __future__ import annotations

import bisect
import csv
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

COLUMNS = ["record_id", "given_name", "father_name", "grandfather_name", "family_name", "sex",
           "date_of_birth", "origin_pcode", "phone", "document_number", "agency", "person_id"]

# Root consonants: Arabic letter, canonical romanisation.
_ROOT = [("ب", "b"), ("ت", "t"), ("ث", "th"), ("ج", "j"), ("ح", "h"), ("خ", "kh"), ("د", "d"),
         ("ر", "r"), ("ز", "z"), ("س", "s"), ("ش", "sh"), ("ص", "s"), ("ط", "t"), ("غ", "gh"),
         ("ف", "f"), ("ق", "q"), ("ك", "k"), ("ل", "l"), ("م", "m"), ("ن", "n"), ("ذ", "dh")]
# Patterns: Arabic template, romanisation template (1, 2, 3 = root consonants).
_GIVEN_PATTERNS = [("12ي3", "1a2i3"), ("1ا23", "1a2i3"), ("12ا3", "1a22a3"), ("م12و3", "ma12u3"),
                   ("12ي3", "1u2ay3"), ("123ان", "1a23an"), ("م12ا3", "mu1a22a3")]
_FAMILY_PATTERNS = [("ال123ي", "al-1a23i"), ("ال12ا3", "al-1a22a3"), ("123ان", "1a23an"),
                    ("ال1ا23", "al-1a2i3"), ("12و3", "1a22u3")]


@dataclass(frozen=True, slots=True)
class Name:
    """A name in Arabic script and its canonical romanisation."""

    arabic: str
    roman: str


@cache
def _common() -> dict[str, list[tuple[Name, float]]]:
    pools: dict[str, list[tuple[Name, float]]] = {"given_m": [], "given_f": [], "family": []}
    res = resources.files("havens.linkage") / "data" / "name_variants.csv"
    with res.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            roman = row["canonical"]
            if row["kind"] == "family" and not row["arabic"].startswith("ال"):
                pass
            elif row["kind"] == "family":
                roman = "al-" + roman
            pools[row["kind"]].append((Name(row["arabic"], roman), float(row["weight"])))
    return pools


def _tail(rng: random.Random, patterns: list[tuple[str, str]], n: int) -> list[Name]:
    names: dict[str, Name] = {}
    # Roots x patterns give ~40,000 distinct names; ask for at most half so sampling ends quickly.
    n = min(n, len(_ROOT) * (len(_ROOT) - 1) * (len(_ROOT) - 2) * len(patterns) // 2)
    while len(names) < n:
        idx = rng.sample(range(len(_ROOT)), 3)
        ar_t, ro_t = patterns[int(rng.randrange(len(patterns)))]
        ar, ro = ar_t, ro_t
        for k, i in enumerate(idx, start=1):
            ar = ar.replace(str(k), _ROOT[i][0])
            ro = ro.replace(str(k), _ROOT[i][1])
        ro = re.sub(r"(kh|gh|sh|th|dh)\1", r"\1", ro)
        names.setdefault(ar, Name(ar, ro))
    return list(names.values())


class _Pool:
    """Names with Zipf-like weights: the common list on top, a long tail below."""

    def __init__(self, rng: random.Random, kind: str, tail: int, tail_share: float):
        common = _common()[kind]
        patterns = _FAMILY_PATTERNS if kind == "family" else _GIVEN_PATTERNS
        tail_names = _tail(rng, patterns, tail)
        cw = np.array([w for _, w in common])
        tw = 1.0 / np.arange(1, tail + 1) ** 0.5
        weights = np.concatenate([cw / cw.sum() * (1 - tail_share), tw / tw.sum() * tail_share])
        self.names = [n for n, _ in common] + tail_names
        self.cdf = list(np.cumsum(weights / weights.sum()))

    def draw(self, rng: random.Random) -> int:
        return min(bisect.bisect(self.cdf, rng.random()), len(self.names) - 1)


# Latin transliteration styles: ordered (pattern, choices) rewrites of the canonical romanisation.
_STYLES: dict[str, list[tuple[str, list[str]]]] = {
    "english": [(r"ay", ["ay", "ai", "ei"]), (r"u", ["u", "o", "ou"]),
                (r"i(?=[^aeiou]|$)", ["i", "ee", "i"]), (r"q", ["q", "k"]), (r"th", ["th", "s"]),
                (r"dh", ["dh", "z"]), (r"a$", ["a", "ah"])],
    "french": [(r"ay", ["ai", "ei"]), (r"u", ["ou", "o"]), (r"sh", ["ch"]), (r"j", ["dj", "j"]),
               (r"q", ["k", "q"]), (r"th", ["th", "s"]), (r"dh", ["d", "z"]), (r"a$", ["a", "ah"]),
               (r"kh", ["kh", "kh"])],
    "levantine": [(r"ay", ["ei", "ay"]), (r"u", ["o", "ou", "u"]),
                  (r"a(?=[^aeiou]{2})", ["a", "e"]),
                  (r"q", ["k", "q", "2"]), (r"th", ["s", "t"]), (r"dh", ["z", "d"]),
                  (r"a$", ["a", "eh", "e"]), (r"i(?=[^aeiou]|$)", ["i", "e", "ee"])],
}
_ABD_FORMS = ["Abd al-{}", "Abdul {}", "Abdul{}", "Abdel {}", "Abdel{}", "Abd Al {}", "Abd el-{}"]
_ARTICLE_FORMS = ["Al-{}", "Al {}", "Al{}", "al-{}", "El-{}", "El {}", "{}"]


def _romanise(roman: str, style: str, rng: random.Random) -> str:
    """One Latin rendering of a canonical romanisation in an agency's style."""
    if roman == "muhammad" and rng.random() < 0.08:
        return str(rng.choice(["Mhd", "Mohd", "Mhd."]))
    parts = roman.split()
    article = None
    if parts[0].startswith("al-"):
        article, parts[0] = True, parts[0][3:]
    abd = parts[0] == "abd" and len(parts) > 1
    if abd:
        parts = [p[3:] if p.startswith("al-") else p for p in parts[1:]]
    words = []
    for p in parts:
        w = p
        for pattern, choices in _STYLES[style]:
            w = re.sub(pattern, _chooser(choices, rng), w)
        if rng.random() < 0.3:
            w = re.sub(r"([bdfhjklmnrstz])\1", r"\1", w)  # double letters written once
        w = w.replace("2", "'")
        words.append(w.capitalize())
    text = " ".join(words)
    if abd:
        text = str(rng.choice(_ABD_FORMS)).format(text)
    if article:
        form = str(rng.choice(_ARTICLE_FORMS))
        text = form.format(text.lower() if form == "Al{}" else text)
    return text


def _chooser(choices: list[str], rng: random.Random) -> Callable[[re.Match[str]], str]:
    def choose(_m: re.Match[str]) -> str:
        return choices[rng.randrange(len(choices))]

    return choose


def _arabic_noise(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.15:
        return text.replace("أ", "ا").replace("إ", "ا")
    if r < 0.25:
        return text.replace("ة", "ه").replace("ى", "ي")
    if r < 0.3:
        return text.replace("عبد ال", "عبدال")
    return text


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = int(rng.randrange(1, len(text) - 1))
    kind = rng.random()
    if kind < 0.4:
        return text[:i] + text[i + 1 :]
    if kind < 0.7:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    letters = "abdefhiklmnorstuy" if text.isascii() else "ابتدرسعفقلمنهوي"
    return text[:i] + letters[int(rng.randrange(len(letters)))] + text[i + 1 :]


@dataclass(frozen=True, slots=True)
class Agency:
    """A registering agency: its script and transliteration style."""

    code: str
    script: str  # "arabic" or "latin"
    style: str


AGENCIES = [Agency("SARC", "arabic", ""), Agency("UNHCR", "latin", "english"),
            Agency("NRC", "latin", "english"), Agency("IOM", "latin", "levantine"),
            Agency("MSF", "latin", "french"), Agency("LC", "arabic", "")]


def generate(n_records: int, *, seed: int = 7, path: Path | None = None) -> list[list[str]]:
    """Generate about ``n_records`` registrations; write them to ``path`` (CSV) if given."""
    rng = random.Random(seed)
    n_people = max(10, int(n_records / 1.55))
    male = _Pool(rng, "given_m", tail=max(50, min(3000, n_people // 150)), tail_share=0.45)
    female = _Pool(rng, "given_f", tail=max(40, min(2000, n_people // 200)), tail_share=0.4)
    family = _Pool(rng, "family", tail=max(200, min(20000, n_people // 12)), tail_share=0.75)
    n_villages = max(20, n_people // 400)
    villages = [f"SY{rng.randrange(1, 15):02d}{rng.randrange(0, 8):02d}{rng.randrange(0, 6):02d}"
                for _ in range(n_villages)]
    vw = 1.0 / np.arange(1, n_villages + 1) ** 0.7
    village_cdf = list(np.cumsum(vw / vw.sum()))
    people: list[tuple[int, int, int, int, int, str, int, int, int, str, str, str]] = []
    # (given, father, grandfather, family, is_female, sex, y, m, d, village, phone, doc)
    while len(people) < n_people:
        fam = family.draw(rng)
        village = villages[min(bisect.bisect(village_cdf, rng.random()), n_villages - 1)]
        patriarch, great = male.draw(rng), male.draw(rng)
        n_sons = int(rng.randrange(1, 5))
        sons = _distinct(rng, male, n_sons)
        for son in sons:
            fy = int(rng.randrange(1950, 1992))
            people.append(_person(rng, son, patriarch, great, fam, False, fy, village, True))
            wife_f = family.draw(rng)
            wf, wgf = male.draw(rng), male.draw(rng)
            people.append(_person(rng, female.draw(rng), wf, wgf, wife_f, True,
                                  fy + int(rng.randrange(-2, 9)), village, False))
            n_children = int(rng.randrange(1, 8))
            boys = _distinct(rng, male, n_children, avoid={son})
            if rng.random() < 0.35:
                boys[0] = patriarch  # the eldest son carries his grandfather's name
            girls = _distinct(rng, female, n_children)
            for c in range(n_children):
                cy = fy + 20 + int(rng.randrange(0, 26))
                if cy > 2024:
                    continue
                girl = rng.random() < 0.5
                people.append(_person(rng, girls[c] if girl else boys[c], son, patriarch, fam,
                                      girl, cy, village, cy < 2006))
    return _registrations(rng, people[:n_people], male, female, family, n_records, path)


def _distinct(rng: random.Random, pool: _Pool, n: int, avoid: set[int] | None = None
              ) -> list[int]:
    out: list[int] = []
    seen = set(avoid or ())
    while len(out) < n:
        x = pool.draw(rng)
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def _person(rng: random.Random, given: int, father: int, grandfather: int, fam: int,
            female: bool, year: int, village: str, adult: bool
            ) -> tuple[int, int, int, int, int, str, int, int, int, str, str, str]:
    month, day = int(rng.randrange(1, 13)), int(rng.randrange(1, 29))
    phone = f"9{rng.randrange(30_000_000, 99_999_999)}" if adult and rng.random() < 0.6 else ""
    doc = f"{rng.randrange(10**10, 10**11 - 1)}" if adult and rng.random() < 0.5 else ""
    return (given, father, grandfather, fam, int(female), "F" if female else "M", year, month, day,
            village, phone, doc)


def _registrations(rng: random.Random, people: list[tuple[int, int, int, int, int, str, int,
                   int, int, str, str, str]], male: _Pool, female: _Pool, family: _Pool,
                   n_records: int, path: Path | None) -> list[list[str]]:
    cache: dict[tuple[str, str, int], str] = {}

    def render(name: Name, agency: Agency) -> str:
        if agency.script == "arabic":
            text = _arabic_noise(name.arabic, rng)
        else:
            # A few spellings per name and style, as in real lists (the same clerk, the same way).
            k = (name.roman, agency.style, int(rng.randrange(3)))
            text = cache.get(k) or cache.setdefault(k, _romanise(name.roman, agency.style, rng))
        return _typo(text, rng) if rng.random() < 0.04 else text

    rows: list[list[str]] = []
    counts = rng.choices([1, 2, 3, 4], weights=[0.6, 0.27, 0.1, 0.03], k=len(people))
    for pid, person in enumerate(people):
        given, father, gfather, fam, female_i, sex, y, m, d, village, phone, doc = person
        agencies = rng.sample(range(len(AGENCIES)), counts[pid])
        for a in agencies:
            ag = AGENCIES[int(a)]
            gpool = female if female_i else male
            r = rng.random()
            if r < 0.12:
                dob = f"{y}"
            elif r < 0.2:
                dob = f"{y}-01-01"
            elif r < 0.25 and d <= 12:
                dob = f"{y}-{d:02d}-{m:02d}"
            elif r < 0.3:
                dob = f"{y + int(rng.choice([-1, 1]))}-{m:02d}-{d:02d}"
            elif r < 0.32:
                dob = ""
            else:
                dob = f"{y}-{m:02d}-{d:02d}"
            pcode = village if rng.random() < 0.85 else (village[:6] if rng.random() < 0.8 else "")
            rows.append([
                "",
                render(gpool.names[given], ag),
                render(male.names[father], ag),
                render(male.names[gfather], ag) if rng.random() < 0.8 else "",
                render(family.names[fam], ag) if rng.random() < 0.98 else "",
                sex if rng.random() < 0.99 else "",
                dob, pcode,
                phone if rng.random() < 0.5 else "",
                doc if rng.random() < 0.4 else "",
                ag.code, str(pid),
            ])
    rng.shuffle(rows)
    out = rows[:n_records]
    for i, row in enumerate(out):
        row[0] = f"R{i:08d}"
    if path is not None:
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            w.writerows(out)
    return out
