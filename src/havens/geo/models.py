"""Reference geography: administrative areas with OCHA P-codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from havens.database import Base


class AdminArea(Base):
    __tablename__ = "admin_areas"

    pcode: Mapped[str] = mapped_column(String(20), primary_key=True)
    country: Mapped[str] = mapped_column(String(3), index=True)
    level: Mapped[int] = mapped_column(Integer, index=True)
    parent_pcode: Mapped[str | None] = mapped_column(
        ForeignKey("admin_areas.pcode"), index=True
    )
    name_en: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str | None] = mapped_column(String(200))
    centroid_lon: Mapped[float | None] = mapped_column(Float)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON, doc="GeoJSON, lon/lat")
    # Bounding box of the geometry: a cheap filter before exact point-in-polygon tests.
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
