"""Demo data of the zones domain: three safe zones in north-west Syria and the 884 real IDP
sites of the CCCM Cluster's site monitoring (ISIMM, March 2020 figures).

The zones are fictional polygons drawn around real clusters of camps, on real P-codes; they
start ``proposed`` (the agreements demo moves them through their lifecycle). The sites inside a
zone's polygon are placed in it by the import, the others stay outside every zone.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from havens.orgs.permissions import Principal
from havens.zones import service as zone_service
from havens.zones import site_import
from havens.zones.schemas import ZoneCreate

DATA_DIR = Path(__file__).parent / "data"
#: ISIMM Sheet1 as CSV; see data/ATTRIBUTION.md.
ISIMM_SITES = DATA_DIR / "isimm_2020_sites.csv"
#: The population columns of the list are "_Mar": the March 2020 monitoring round.
ISIMM_REPORTED_ON = dt.date(2020, 3, 31)


def _polygon(*points: tuple[float, float]) -> dict[str, Any]:
    ring = [list(p) for p in points]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


ZONES = [
    ZoneCreate(
        code="SZ-SY07-001", name_en="Dana – Atmeh – Sarmada", name_ar="دانا - أطمة - سرمدا",
        # Mostly Dana sub-district; its edges reach into Qourqeena and (Aleppo) Atareb.
        admin_pcodes=["SY070301", "SY070304", "SY020001"],
        # The camps along the Turkish border in Harim district: Atma, Karama, Qah, Deir Hassan,
        # Sarmada. Its southern edge is shared with SZ-SY07-002 (touching, not overlapping).
        boundary=_polygon((36.640, 36.155), (36.830, 36.155), (36.830, 36.290),
                          (36.760, 36.345), (36.650, 36.345), (36.630, 36.250))),
    ZoneCreate(
        code="SZ-SY02-001", name_en="A'zaz", name_ar="اعزاز",
        admin_pcodes=["SY020400", "SY020405"],
        boundary=_polygon((37.020, 36.550), (37.200, 36.550), (37.200, 36.680),
                          (37.100, 36.700), (37.020, 36.670))),
    ZoneCreate(
        code="SZ-SY07-002", name_en="Kelly – Harbanoush", name_ar="كللي - حربنوش",
        # Mostly Maaret Tamsrin; the camps on its northern and eastern edges lie in the
        # neighbouring sub-districts.
        admin_pcodes=["SY070005", "SY070301", "SY070300", "SY070304", "SY020001"],
        boundary=_polygon((36.610, 36.020), (36.760, 36.020), (36.760, 36.155),
                          (36.640, 36.155), (36.610, 36.100))),
]


def load(db: Session, *, actor: Principal) -> None:
    for zone in ZONES:
        zone_service.create_zone(db, actor=actor, data=zone)
    site_import.import_sites(db, actor=actor, path=ISIMM_SITES, reported_on=ISIMM_REPORTED_ON)
