"""Fixtures of the zones tests: a few real admin areas, polygons, zones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from havens.geo import service as geo_service
from havens.geo.models import AdminArea
from havens.orgs.permissions import Principal
from havens.zones import service
from havens.zones.models import Zone
from havens.zones.schemas import ZoneCreate
from tests.conftest import SHARED

ISIMM_XLSX = SHARED / "data" / "sites" / "ISIMM_2020July.xlsx"
ISIMM_CSV = SHARED / "data" / "sites" / "ISIMM_2020July_Sheet1_values.csv"

#: Real P-codes of north-west Syria (OCHA COD-AB), without polygons: enough for unit tests.
AREAS = [
    ("SY07", 1, None, "Idleb", 36.63, 35.93),
    ("SY0703", 2, "SY07", "Harim", 36.52, 36.21),
    ("SY070301", 3, "SY0703", "Dana", 36.72, 36.22),
    ("SY070300", 3, "SY0703", "Harim", 36.52, 36.21),
    ("SY0700", 2, "SY07", "Idleb", 36.63, 35.93),
    ("SY070005", 3, "SY0700", "Maaret Tamsrin", 36.66, 36.05),
    ("SY02", 1, None, "Aleppo", 37.16, 36.20),
    ("SY0204", 2, "SY02", "A'zaz", 37.05, 36.59),
    ("SY020400", 3, "SY0204", "A'zaz", 37.05, 36.59),
]


@pytest.fixture
def areas(db: Session) -> None:
    for pcode, level, parent, name, lon, lat in AREAS:
        db.add(AdminArea(pcode=pcode, country="SYR", level=level, parent_pcode=parent,
                         name_en=name, centroid_lon=lon, centroid_lat=lat))
        db.flush()


@pytest.fixture
def geography(db: Session, system: Principal) -> None:
    """The whole packaged Syria geography (levels 1-3, governorate polygons)."""
    geo_service.load_areas(db, actor=system)


def square(lon: float, lat: float, size: float = 0.1) -> dict[str, Any]:
    """A closed square polygon with its south-west corner at (lon, lat)."""
    return {"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]}


@pytest.fixture
def make_zone(db: Session, system: Principal, areas: None) -> Callable[..., Zone]:
    def make(code: str = "SZ-SY07-001", boundary: dict[str, Any] | None = None,
             pcodes: list[str] | None = None, name: str | None = None) -> Zone:
        return service.create_zone(db, actor=system, data=ZoneCreate(
            code=code, name_en=name or f"Zone {code}", name_ar="منطقة",
            admin_pcodes=pcodes or ["SY070301"],
            boundary=boundary if boundary is not None else square(36.6, 36.2)))

    return make
