"""Realistic made-up registration rows: Syrian households with Arabic names in script and in
Latin transliteration, for the demo, the tests and the benchmarks.

Names follow the Arabic name chain: a child's father's name is the father's given name, the
grandfather's name is the father's father's name, and the family name is shared. A spouse keeps
her own chain and family name. Rows are canonical import rows (``havens.people.records``), so
what is generated goes through the same checks and writer as a real file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from havens.people.records import COLUMNS

#: (Arabic, common transliterations — the first is the usual one).
MALE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("محمد", ("Mohammad", "Muhammad", "Mohamed")), ("أحمد", ("Ahmad", "Ahmed")),
    ("علي", ("Ali",)), ("عمر", ("Omar", "Umar")), ("خالد", ("Khaled", "Khalid")),
    ("حسن", ("Hassan", "Hasan")), ("حسين", ("Hussein", "Husain")), ("محمود", ("Mahmoud",)),
    ("إبراهيم", ("Ibrahim",)), ("يوسف", ("Youssef", "Yusuf")), ("مصطفى", ("Mustafa",)),
    ("عبد الرحمن", ("Abdul Rahman", "Abdulrahman", "Abd al-Rahman")),
    ("عبد الله", ("Abdullah", "Abdallah")), ("عبد الكريم", ("Abdul Karim", "Abdulkarim")),
    ("فادي", ("Fadi",)), ("سامر", ("Samer",)), ("ياسر", ("Yaser", "Yasser")),
    ("رامي", ("Rami",)), ("زياد", ("Ziad", "Ziyad")), ("مازن", ("Mazen",)),
    ("وليد", ("Walid", "Waleed")), ("طارق", ("Tareq", "Tariq")), ("جمال", ("Jamal",)),
    ("نبيل", ("Nabil",)), ("سليم", ("Salim", "Saleem")), ("عيسى", ("Issa",)),
    ("بلال", ("Bilal",)), ("حمزة", ("Hamza",)), ("أنس", ("Anas",)), ("قاسم", ("Qasem",)),
)
FEMALE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("فاطمة", ("Fatima", "Fatma")), ("عائشة", ("Aisha", "Aysha")), ("مريم", ("Maryam",)),
    ("زينب", ("Zeinab", "Zaynab")), ("خديجة", ("Khadija",)), ("نور", ("Nour", "Noor")),
    ("هبة", ("Heba", "Hiba")), ("رنا", ("Rana",)), ("لينا", ("Lina",)), ("سارة", ("Sara",)),
    ("ريم", ("Reem", "Rim")), ("آمنة", ("Amina", "Amna")), ("سلمى", ("Salma",)),
    ("هدى", ("Huda", "Hoda")), ("رغد", ("Raghad",)), ("دعاء", ("Duaa", "Doaa")),
    ("أسماء", ("Asmaa", "Asma")), ("ليلى", ("Layla", "Leila")), ("جنى", ("Jana",)),
    ("شهد", ("Shahd",)), ("بتول", ("Batoul",)), ("رهف", ("Rahaf",)), ("نادية", ("Nadia",)),
)
FAMILY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("الحسن", ("Al-Hassan", "Alhasan", "El Hassan")), ("العلي", ("Al-Ali", "Alali")),
    ("الأحمد", ("Al-Ahmad", "Alahmad")), ("الخطيب", ("Al-Khatib", "Alkhateeb")),
    ("الحلبي", ("Al-Halabi", "Halabi")), ("الإدلبي", ("Al-Idlibi", "Idlibi")),
    ("المصري", ("Al-Masri", "Masri")), ("الشامي", ("Al-Shami", "Shami")),
    ("العمر", ("Al-Omar", "Alomar")), ("الموسى", ("Al-Mousa", "Almousa")),
    ("الحمود", ("Al-Hamoud", "Alhamoud")), ("السيد", ("Al-Sayed", "Alsayed")),
    ("الخليل", ("Al-Khalil", "Alkhalil")), ("الجاسم", ("Al-Jasem", "Aljassem")),
    ("الصالح", ("Al-Saleh", "Alsaleh")), ("العبد الله", ("Al-Abdullah", "Alabdallah")),
    ("الديري", ("Al-Deiri", "Deiri")), ("قباني", ("Kabbani", "Qabbani")),
    ("حداد", ("Haddad",)), ("درويش", ("Darwish",)), ("منصور", ("Mansour",)),
    ("يوسف", ("Youssef", "Yusuf")), ("الرفاعي", ("Al-Rifai", "Rifai")),
)
PHONE_PREFIXES = ("+96393", "+96394", "+96395", "+96398", "+96399", "+90553")
NEED_WEIGHTS = (("SM", 4), ("DS", 3), ("ER", 2), ("PG", 3), ("WR", 1), ("SP", 1), ("CR", 1),
                ("UASC", 1))


@dataclass
class Person:
    given: tuple[str, tuple[str, ...]]
    father: tuple[str, tuple[str, ...]]
    grandfather: tuple[str, tuple[str, ...]]
    family: tuple[str, tuple[str, ...]]
    sex: str
    birth: dt.date
    estimated: bool = False
    relationship: str = "head"
    needs: list[str] = field(default_factory=list)
    phone: str = ""
    document: tuple[str, str] = ("", "")


class Generator:
    """Households of canonical rows; seeded, so a given seed always gives the same people."""

    def __init__(self, *, seed: int = 1, origins: Sequence[str] = (),
                 today: dt.date | None = None, ref_prefix: str = "GEN") -> None:
        self.random = random.Random(seed)
        self.origins = list(origins)
        self.today = today or dt.date.today()
        self.ref_prefix = ref_prefix
        self.count = 0

    def _birth(self, low: int, high: int) -> tuple[dt.date, bool]:
        age_days = self.random.randint(low * 365, high * 365 + 364)
        birth = self.today - dt.timedelta(days=age_days)
        if self.random.random() < 0.15:  # year known only
            return dt.date(birth.year, 7, 1), True
        return birth, False

    def _needs(self, age: int, sex: str) -> list[str]:
        needs = []
        for code, weight in NEED_WEIGHTS:
            if code == "PG" and (sex != "F" or not 17 <= age <= 45):
                continue
            if code == "ER" and age < 60:
                continue
            if code in ("CR", "UASC") and age >= 18:
                continue
            if self.random.random() < weight / 100:
                needs.append(code)
        return needs

    def household(self) -> list[Person]:
        """A family: a head (sometimes a woman), often a spouse, children, now and then a
        grandparent."""
        rnd = self.random
        family = rnd.choice(FAMILY)
        grandfather, father = rnd.choice(MALE), rnd.choice(MALE)
        female_head = rnd.random() < 0.18
        birth, est = self._birth(22, 58)
        if female_head:
            head = Person(rnd.choice(FEMALE), rnd.choice(MALE), rnd.choice(MALE),
                          rnd.choice(FAMILY), "F", birth, est)
            husband_chain = (rnd.choice(MALE), rnd.choice(MALE), family)
        else:
            head = Person(rnd.choice(MALE), father, grandfather, family, "M", birth, est)
            husband_chain = (head.given, head.father, family)
        members = [head]
        if not female_head and rnd.random() < 0.85:
            birth, est = self._birth(18, max(19, (self.today - head.birth).days // 365 - 1))
            members.append(Person(rnd.choice(FEMALE), rnd.choice(MALE), rnd.choice(MALE),
                                  rnd.choice(FAMILY), "F", birth, est, "spouse"))
        head_age = (self.today - head.birth).days // 365
        for _ in range(rnd.choice((0, 1, 2, 2, 3, 3, 4, 5, 6))):
            sex = rnd.choice("MF")
            birth, est = self._birth(0, max(0, min(head_age - 18, 30)))
            members.append(Person(rnd.choice(MALE if sex == "M" else FEMALE),
                                  husband_chain[0], husband_chain[1], husband_chain[2], sex,
                                  birth, est, "child"))
        if rnd.random() < 0.1:
            birth, est = self._birth(62, 85)
            members.append(Person(husband_chain[1], rnd.choice(MALE), rnd.choice(MALE),
                                  husband_chain[2], "M", birth, est, "parent"))
        for person in members:
            age = (self.today - person.birth).days // 365
            person.needs = self._needs(age, person.sex)
            if age >= 18 and rnd.random() < 0.6:
                person.phone = f"{rnd.choice(PHONE_PREFIXES)}{rnd.randint(1000000, 9999999)}"
            if age >= 14 and rnd.random() < 0.5:
                person.document = ("national_id", f"{rnd.randint(10**9, 10**10 - 1)}")
            elif age < 14 and rnd.random() < 0.3:
                person.document = ("family_booklet", f"FB{rnd.randint(10**6, 10**7 - 1)}")
        return members

    def households(self, *, site_codes: Sequence[str] = ()
                   ) -> Iterator[tuple[dict[str, str], list[Person]]]:
        """Endless households: the shared (household) columns and the members."""
        while True:
            members = self.household()
            self.count += 1
            arrival = self.today - dt.timedelta(days=self.random.randint(0, 400))
            displaced = arrival - dt.timedelta(days=self.random.randint(0, 30))
            yield {
                "household_ref": f"{self.ref_prefix}-{self.count:07d}",
                "site_code": self.random.choice(site_codes) if site_codes else "",
                "origin_pcode": self.random.choice(self.origins) if self.origins else "",
                "displacement_date": displaced.isoformat(), "arrival_date": arrival.isoformat(),
                "consent": "yes", "consent_given_by": "head",
                "consent_sharing": self.random.choice(("yes", "no")),
                "consent_purposes": "assistance;protection",
            }, members

    def rows(self, individuals: int, *, site_codes: Sequence[str] = ()) -> Iterator[dict[str, str]]:
        """At least ``individuals`` rows (whole households), one dict per member."""
        made = 0
        for shared, members in self.households(site_codes=site_codes):
            if made >= individuals:
                return
            for person in members:
                yield person_row(person, shared, variant=0)
            made += len(members)


def person_row(person: Person, shared: dict[str, str], *, variant: int) -> dict[str, str]:
    """One canonical row; ``variant`` picks another transliteration where there is one."""

    def latin(name: tuple[str, tuple[str, ...]]) -> str:
        return name[1][variant % len(name[1])]

    return {
        **shared, "relationship": person.relationship,
        "given_name_ar": person.given[0], "father_name_ar": person.father[0],
        "grandfather_name_ar": person.grandfather[0], "family_name_ar": person.family[0],
        "given_name_en": latin(person.given), "father_name_en": latin(person.father),
        "grandfather_name_en": latin(person.grandfather), "family_name_en": latin(person.family),
        "sex": person.sex,
        "date_of_birth": str(person.birth.year) if person.estimated else person.birth.isoformat(),
        "specific_needs": ";".join(person.needs), "phone": person.phone,
        "document_type": person.document[0], "document_number": person.document[1],
    }


#: Header of generated files: the template's columns with both name scripts.
CSV_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in ("given_name", "father_name", "grandfather_name",
                                    "family_name")) + tuple(
    f"{p}_{lang}" for p in ("given_name", "father_name", "grandfather_name", "family_name")
    for lang in ("ar", "en"))


def to_csv(rows: Sequence[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
