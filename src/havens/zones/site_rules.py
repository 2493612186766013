"""Rules shared by site forms, the API and site list imports: codes, types, admin areas,
managing agencies and bilingual names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.exceptions import ValidationFailed
from havens.geo.models import AdminArea
from havens.orgs.models import Organisation
from havens.zones.models import Site, SiteType

CP_CODE = re.compile(r"CP\d{6}")
GENERATED_PREFIX = "ST-"
_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,31}")
# Arabic, Arabic Supplement, Arabic Extended-A and the presentation forms.
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_LATIN = re.compile(r"[A-Za-z]")

_TYPE_NAMES = {
    "is": SiteType.informal_settlement, "informal settlement": SiteType.informal_settlement,
    "informal site": SiteType.informal_settlement, "self-settled camp":
        SiteType.informal_settlement,
    "pc": SiteType.planned_camp, "planned camp": SiteType.planned_camp, "camp":
        SiteType.planned_camp,
    "cc": SiteType.collective_centre, "collective centre": SiteType.collective_centre,
    "collective center": SiteType.collective_centre,
    "t/rc": SiteType.transit_reception_centre, "trc": SiteType.transit_reception_centre,
    "t-rc": SiteType.transit_reception_centre, "transit centre":
        SiteType.transit_reception_centre,
    "reception centre": SiteType.transit_reception_centre,
    "transit/reception centre": SiteType.transit_reception_centre,
    "transit/reception center": SiteType.transit_reception_centre,
}


def normalise_site_code(code: str, *, field: str = "code") -> str:
    """Upper-case, trimmed; ``cp000559`` becomes ``CP000559``. A CP code must have 6 digits."""
    value = re.sub(r"\s+", "", code).upper()
    if value.startswith("CP") and not CP_CODE.fullmatch(value):
        raise ValidationFailed(f"Site code {code!r}: a CP code is CP followed by 6 digits "
                               "(e.g. CP000457).", field=field)
    if not _CODE.fullmatch(value):
        raise ValidationFailed(f"Site code {code!r}: use letters, digits, - or _ "
                               "(2 to 32 characters).", field=field)
    return value


def next_generated_codes(db: Session, count: int) -> list[str]:
    """Fresh codes ST-000001, ST-000002, ... after the highest one in use."""
    pattern = re.compile(rf"{GENERATED_PREFIX}(\d+)")
    used = [int(m.group(1)) for code in db.scalars(
        select(Site.code).where(Site.code.like(f"{GENERATED_PREFIX}%")))
        if (m := pattern.fullmatch(code))]
    start = max(used, default=0) + 1
    return [f"{GENERATED_PREFIX}{n:06d}" for n in range(start, start + count)]


def parse_site_type(value: str, *, field: str = "site_type") -> SiteType:
    key = re.sub(r"\s+", " ", value.strip().lower())
    found = _TYPE_NAMES.get(key)
    if found is None:
        raise ValidationFailed(f"Unknown site type {value!r}: use IS (informal settlement), "
                               "PC (planned camp), CC (collective centre) or T/RC "
                               "(transit/reception centre).", field=field)
    return found


def split_bilingual(text: str) -> tuple[str, str | None]:
    """Split an ``English/Arabic`` cell at the slash that separates the two scripts.

    ``Al Bab Transit/Reception Centre/ مركز استقبال الباب`` gives the English name with its own
    slash kept. A cell in one script only is returned whole (as English when it has Latin
    letters, else as both names, since a name must be shown in either language)."""
    text = re.sub(r"\s+", " ", text).strip()
    first_arabic = _ARABIC.search(text)
    if first_arabic is None:
        return text, None
    start = first_arabic.start()
    slash = text.rfind("/", 0, start)
    if slash >= 0 and _LATIN.search(text[:slash]):
        return text[:slash].strip(), text[slash + 1:].strip() or None
    # Arabic first: "عربي / English".
    slash = text.find("/", start)
    if slash >= 0 and _LATIN.search(text[slash:]) and not _ARABIC.search(text[slash:]):
        return text[slash + 1:].strip(), text[:slash].strip()
    return text, text


@dataclass(frozen=True)
class AreaInfo:
    pcode: str
    level: int
    parent: str | None
    name_en: str
    lon: float | None
    lat: float | None


class AdminLookup:
    """All admin areas in memory (a few hundred rows): checks and derives sites' P-codes."""

    def __init__(self, areas: dict[str, AreaInfo]) -> None:
        self.areas = areas

    @classmethod
    def load(cls, db: Session) -> AdminLookup:
        rows = db.execute(select(AdminArea.pcode, AdminArea.level, AdminArea.parent_pcode,
                                 AdminArea.name_en, AdminArea.centroid_lon,
                                 AdminArea.centroid_lat))
        return cls({r[0]: AreaInfo(*r) for r in rows})

    def resolve(self, admin1: str | None, admin2: str | None, admin3: str | None,
                fields: tuple[str, str, str] = ("admin1_pcode", "admin2_pcode", "admin3_pcode")
                ) -> tuple[str | None, str | None, str | None]:
        """Checked, upper-case P-codes; the missing upper levels derived from the lowest."""
        given = [(p or "").strip().upper() or None for p in (admin1, admin2, admin3)]
        for level, (pcode, name) in enumerate(zip(given, fields, strict=True), start=1):
            if pcode is None:
                continue
            area = self.areas.get(pcode)
            if area is None:
                raise ValidationFailed(f"Unknown P-code {pcode}.", field=name)
            if area.level != level:
                raise ValidationFailed(f"P-code {pcode} is admin level {area.level}, "
                                       f"not {level}.", field=name)
        derived = list(given)
        for level in (3, 2):
            child = derived[level - 1]
            if child is None:
                continue
            parent = self.areas[child].parent
            if derived[level - 2] is None:
                derived[level - 2] = parent
            elif parent != derived[level - 2]:
                raise ValidationFailed(
                    f"{child} ({self.areas[child].name_en}) lies in {parent}, not in "
                    f"{derived[level - 2]}.", field=fields[level - 2])
        return derived[0], derived[1], derived[2]

    def centroid(self, *pcodes: str | None) -> tuple[float, float] | None:
        """The centroid of the most precise area given (for sites without coordinates)."""
        for pcode in pcodes:
            area = self.areas.get(pcode or "")
            if area is not None and area.lon is not None and area.lat is not None:
                return area.lon, area.lat
        return None


class OrgLookup:
    """Organisations of Havens by acronym or name (case-insensitive)."""

    def __init__(self, db: Session) -> None:
        self._ids: dict[str, tuple[int, str]] = {}
        for org_id, acronym, name in db.execute(
                select(Organisation.id, Organisation.acronym, Organisation.name)):
            self._ids[name.strip().lower()] = (org_id, acronym)
            self._ids[acronym.strip().lower()] = (org_id, acronym)

    def find(self, text: str | None) -> tuple[int, str] | None:
        """(id, acronym) of the organisation named, or None when it is not one of Havens'."""
        if not text or not text.strip():
            return None
        return self._ids.get(re.sub(r"\s+", " ", text).strip().lower())
