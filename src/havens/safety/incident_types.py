"""The documented list of security incident types, the severity scale and casualty groups.

Types (``IncidentType``), with what each covers:

================== ==========================================================================
shelling           shelling, artillery, rocket or air strike, drone strike
armed_presence     armed incursion into the zone or armed presence inside it (armed actors,
                   checkpoints, weapons carried inside the boundary)
crime              theft, robbery, assault, extortion, kidnapping for ransom
eviction_threat    threat of eviction or forced relocation of residents or a site
fire               fire in shelters or a site (accidental or deliberate)
explosive_remnants explosive remnants of war, unexploded ordnance, mines, IEDs found or
                   exploding
gbv                gender-based violence (always sensitive)
child_protection   child protection incident: abuse, recruitment, child labour, separation
                   (always sensitive)
other              anything else; say what in the narrative
================== ==========================================================================

Severity (1–4), as the reporter judges it at the time:

1. **minor** — no one hurt, little or no damage, no lasting threat;
2. **moderate** — injuries or damage to property, a threat to a few people;
3. **serious** — a death or serious injuries, damage to shelters or services, or a threat to
   many people or to a whole site;
4. **critical** — several deaths, mass casualties or mass displacement, or the civilian
   character of the zone is compromised.

Casualties are counts only (never names), killed and injured, each by sex and age group:
children (0–17), adults (18–59), older people (60+), and ``unknown`` for those whose sex or
age was not reported.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class IncidentType(enum.StrEnum):
    shelling = "shelling"
    armed_presence = "armed_presence"
    crime = "crime"
    eviction_threat = "eviction_threat"
    fire = "fire"
    explosive_remnants = "explosive_remnants"
    gbv = "gbv"
    child_protection = "child_protection"
    other = "other"


@dataclass(frozen=True)
class TypeInfo:
    label_en: str
    label_ar: str
    #: Always sensitive: only protection officers of the reporting organisation see the details.
    always_sensitive: bool = False


TYPES: dict[IncidentType, TypeInfo] = {
    IncidentType.shelling: TypeInfo("Shelling / air strike", "قصف / غارة جوية"),
    IncidentType.armed_presence: TypeInfo("Armed incursion or armed presence in the zone",
                                          "توغل مسلح أو وجود مسلح داخل المنطقة"),
    IncidentType.crime: TypeInfo("Crime", "جريمة"),
    IncidentType.eviction_threat: TypeInfo("Eviction threat", "تهديد بالإخلاء"),
    IncidentType.fire: TypeInfo("Fire", "حريق"),
    IncidentType.explosive_remnants: TypeInfo("Explosive remnants of war", "مخلفات الحرب المتفجرة"),
    IncidentType.gbv: TypeInfo("Gender-based violence", "العنف القائم على النوع الاجتماعي",
                               always_sensitive=True),
    IncidentType.child_protection: TypeInfo("Child protection", "حماية الطفل",
                                            always_sensitive=True),
    IncidentType.other: TypeInfo("Other", "أخرى"),
}

SENSITIVE_TYPES: frozenset[IncidentType] = frozenset(
    t for t, info in TYPES.items() if info.always_sensitive)

SEVERITY: dict[int, str] = {1: "minor", 2: "moderate", 3: "serious", 4: "critical"}

SEXES = ("female", "male")
AGE_GROUPS = ("child", "adult", "older")
#: The keys of one casualty count: female_child ... male_older, and unknown.
CASUALTY_KEYS: tuple[str, ...] = (*(f"{s}_{a}" for s in SEXES for a in AGE_GROUPS), "unknown")

#: What field teams write in spreadsheets, folded (lower case, letters and digits only).
_ALIASES: dict[str, IncidentType] = {
    "shelling": IncidentType.shelling, "shellingairstrike": IncidentType.shelling,
    "airstrike": IncidentType.shelling, "shell": IncidentType.shelling,
    "artillery": IncidentType.shelling, "dronestrike": IncidentType.shelling,
    "bombardment": IncidentType.shelling, "قصف": IncidentType.shelling,
    "armedpresence": IncidentType.armed_presence, "armedincursion": IncidentType.armed_presence,
    "incursion": IncidentType.armed_presence, "armedactors": IncidentType.armed_presence,
    "crime": IncidentType.crime, "theft": IncidentType.crime, "robbery": IncidentType.crime,
    "evictionthreat": IncidentType.eviction_threat, "eviction": IncidentType.eviction_threat,
    "fire": IncidentType.fire, "حريق": IncidentType.fire,
    "explosiveremnants": IncidentType.explosive_remnants,
    "explosiveremnantsofwar": IncidentType.explosive_remnants,
    "erw": IncidentType.explosive_remnants, "uxo": IncidentType.explosive_remnants,
    "mine": IncidentType.explosive_remnants, "landmine": IncidentType.explosive_remnants,
    "gbv": IncidentType.gbv, "sgbv": IncidentType.gbv,
    "genderbasedviolence": IncidentType.gbv,
    "childprotection": IncidentType.child_protection, "cp": IncidentType.child_protection,
    "other": IncidentType.other,
}


def parse_type(text: str) -> IncidentType | None:
    """The type named by a code, an English label or a common alias; None if not recognised."""
    folded = re.sub(r"[\W_]+", "", text.strip().lower())
    if not folded:
        return None
    for member in IncidentType:
        if folded == member.value.replace("_", ""):
            return member
    return _ALIASES.get(folded)


def severity_label(severity: int) -> str:
    return SEVERITY.get(severity, "?")
