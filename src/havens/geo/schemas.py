from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AdminAreaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    pcode: str
    country: str
    level: int
    parent_pcode: str | None
    name_en: str
    name_ar: str | None
    centroid_lon: float | None
    centroid_lat: float | None
