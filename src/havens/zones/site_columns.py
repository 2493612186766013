"""Recognising the columns of a site list by header or HXL hashtag, and the import report.

Headers are compared normalised (lower case, Arabic words and punctuation dropped, ``_`` and
spaces folded); the ISIMM headers of the CCCM Cluster in north-west Syria (``PCODE_ Sites``,
``Site Name اسم الموقع``, ``Type_of_Location``, ``Girls_Mar`` ...) are known aliases. HXL
hashtags (``#loc+code``, ``#loc+name``, ``#geo+lat``, ``#geo+lon``, ``#geo+coord``,
``#adm1+code`` ... ``#affected+f+children``) are read with their attributes in any order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from havens.zones.site_table import Table

POPULATION_FIELDS = ("girls", "boys", "women", "men", "families")
_ARABIC_OR_PUNCT = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF()\[\].:²]")
_MONTH = r"(?: (?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*(?: ?\d{2,4})?)?"

#: field -> header patterns (normalised: lower case, no Arabic, "_" and spaces folded).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("pcode sites", "site pcode", "site p-code", "site code", "pcode", "p-code",
             "code", "site id", "cccm site id", "camp pcode", "camp code"),
    "name": ("site name", "name", "camp name", "site", "site name en/ar"),
    "name_en": ("site name en", "name en", "english name", "site name english", "name english"),
    "name_ar": ("site name ar", "name ar", "arabic name", "site name arabic", "name arabic"),
    "lat": ("latitude", "lat", "y", "gps latitude"),
    "lon": ("longitude", "lon", "long", "lng", "x", "gps longitude"),
    "coord": ("geo", "coordinates", "coordinate", "gps", "location", "lat,lon", "lat, lon",
              "latlon", "geopoint", "gps coordinates"),
    "site_type": ("type of location", "site type", "type", "typesite", "type site",
                  "location type", "site typology"),
    "admin1_pcode": ("admin1", "admin1 pcode", "admin1pcode", "adm1 pcode", "governorate pcode"),
    "admin2_pcode": ("admin2", "admin2 pcode", "admin2pcode", "adm2 pcode", "district pcode"),
    "admin3_pcode": ("admin3", "admin3 pcode", "admin3pcode", "adm3 pcode",
                     "sub district pcode", "subdistrict pcode"),
    "community_pcode": ("admin4", "admin4 pcode", "admin4pcode", "adm4 pcode",
                        "community pcode", "village pcode"),
    "status": ("status", "site status"),
    "managing_agency": ("managing agency", "site management agency", "sma", "camp manager",
                        "cccm agency", "managing organisation", "managing organization",
                        "site manager"),
    "declared_area_m2": ("area m2", "site area m2", "area", "site area", "area sqm"),
    "declared_capacity": ("capacity", "declared capacity", "site capacity"),
    "reported_on": ("date", "reported on", "report date", "date of report", "reporting date"),
}
_POPULATION_PATTERNS = {
    "girls": rf"girls{_MONTH}", "boys": rf"boys{_MONTH}", "women": rf"women{_MONTH}",
    "men": rf"men{_MONTH}", "families": rf"(?:total )?(?:families|households|hh){_MONTH}",
    "individuals": rf"(?:total )?(?:individuals|ind|population){_MONTH}",
}


def normalise_header(text: str) -> str:
    text = _ARABIC_OR_PUNCT.sub(" ", text.lower().replace("_", " "))
    return re.sub(r"\s+", " ", text).strip()


def field_for_header(header: str) -> str | None:
    norm = normalise_header(header)
    if not norm:
        return None
    for name, aliases in HEADER_ALIASES.items():
        if norm in aliases:
            return name
    for name, pattern in _POPULATION_PATTERNS.items():
        if re.fullmatch(pattern, norm):
            return name
    return None


def field_for_hashtag(tagspec: str) -> str | None:
    """``#loc +name +i_en`` -> ``name_en``; attributes in any order, case-insensitive."""
    parts = [p for p in re.split(r"\s*(?=[#+])", tagspec.strip().lower()) if p]
    if not parts or not parts[0].startswith("#"):
        return None
    tag, attrs = parts[0][1:].strip(), {p[1:].strip() for p in parts[1:]}
    if tag == "loc":
        if "code" in attrs or "id" in attrs:
            return "code"
        if "type" in attrs or "category" in attrs:
            return "site_type"
        if "name" in attrs or not attrs:
            if "i_ar" in attrs:
                return "name_ar"
            return "name_en" if "i_en" in attrs else "name"
        return None
    if tag == "geo":
        for attr, name in (("lat", "lat"), ("lon", "lon"), ("coord", "coord")):
            if attr in attrs:
                return name
        return None
    if re.fullmatch(r"adm[1-4]", tag) and ("code" in attrs or not attrs):
        return {"adm1": "admin1_pcode", "adm2": "admin2_pcode", "adm3": "admin3_pcode",
                "adm4": "community_pcode"}[tag]
    if tag in ("affected", "population", "inneed", "reached", "targeted"):
        if {"hh", "households"} & attrs:
            return "families"
        sex = "f" if "f" in attrs else "m" if "m" in attrs else None
        age = "children" if "children" in attrs else "adults" if "adults" in attrs else None
        if sex and age:
            return {("f", "children"): "girls", ("m", "children"): "boys",
                    ("f", "adults"): "women", ("m", "adults"): "men"}[(sex, age)]
        return "individuals" if not sex and not age else None
    return {"status": "status", "org": "managing_agency", "date": "reported_on",
            "capacity": "declared_capacity"}.get(tag)


def map_columns(table: Table) -> dict[str, int]:
    """field -> column index; the first column wins, a hashtag before a header."""
    mapping: dict[str, int] = {}
    for index, tag in enumerate(table.tags):
        name = field_for_hashtag(tag) if tag else None
        if name and name not in mapping:
            mapping[name] = index
    for index, header in enumerate(table.headers):
        name = field_for_header(header) if header else None
        if name and name not in mapping and index not in mapping.values():
            mapping[name] = index
    return mapping


def score_table(table: Table) -> int:
    return len(map_columns(table))


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class SiteImportReport:
    file: str
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped_rows: list[int] = field(default_factory=list)
    population_written: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    sheet: str | None = None
    encoding: str | None = None
    hxl: bool = False
    dry_run: bool = False
