"""Readers of reference geography files into plain area rows.

Three layouts are understood:

* the Syria data shipped with Havens (``havens/geo/data``; Open-Syria JSON with OCHA P-codes,
  geoBoundaries governorate polygons and the COD P-code list for English names);
* a GeoJSON FeatureCollection whose features have the properties ``pcode``, ``level``,
  ``parent_pcode``, ``name_en``, ``name_ar`` and optionally ``country``;
* a CSV with the columns ``pcode, level, parent_pcode, name_en, name_ar`` and optionally
  ``country, lat, lon`` (UTF-8).

A bad file raises ``ValidationFailed`` naming the row and the field.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry import shape

from havens.exceptions import ValidationFailed

PACKAGED_DIR = Path(__file__).parent / "data"


@dataclass
class AreaRow:
    pcode: str
    level: int
    name_en: str
    name_ar: str | None = None
    parent_pcode: str | None = None
    country: str = "SYR"
    centroid_lon: float | None = None
    centroid_lat: float | None = None
    geometry: dict[str, Any] | None = field(default=None, repr=False)


def read_areas(path: Path | None = None) -> list[AreaRow]:
    """Rows from ``path`` (file or Open-Syria style folder), or the packaged Syria data."""
    if path is None:
        return read_open_syria(PACKAGED_DIR)
    if path.is_dir():
        return read_open_syria(path)
    if not path.exists():
        raise ValidationFailed(f"{path}: no such file.", field="path")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return read_geojson(path)
    if suffix == ".csv":
        return read_csv(path)
    raise ValidationFailed(f"{path}: use a .geojson, .json or .csv file.", field="path")


def read_open_syria(folder: Path) -> list[AreaRow]:
    def load(name: str) -> Any:
        file = folder / name
        if not file.exists():
            raise ValidationFailed(f"{file}: missing from the geography folder.", field="path")
        return json.loads(file.read_text(encoding="utf-8"))

    cod_names: dict[str, str] = {}
    cod_file = folder / "syr_pcodes_adm1_adm2.hxl.csv"
    if cod_file.exists():
        with cod_file.open(encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        for row in rows[2:]:  # header, then HXL hashtag row
            cod_names[row[2]] = row[3]
    polygons: dict[str, dict[str, Any]] = {}
    gb_file = folder / "geoboundaries_syr_adm1_simplified.geojson"
    if gb_file.exists():
        for feature in json.loads(gb_file.read_text(encoding="utf-8"))["features"]:
            polygons[feature["properties"]["shapeID"]] = feature["geometry"]

    rows_out: list[AreaRow] = []
    ids_to_pcode: dict[str, str] = {}
    for level, name, parent_key in ((1, "opensyria_governorates.json", None),
                                    (2, "opensyria_districts.json", "governorateId"),
                                    (3, "opensyria_subdistricts.json", "districtId")):
        for index, item in enumerate(load(name), start=1):
            where = f"{name}, item {index}"
            pcode = (item.get("externalIds") or {}).get("ochaPcode")
            if not pcode:
                raise ValidationFailed(f"{where}: no externalIds.ochaPcode.", field="ochaPcode")
            ids_to_pcode[item["id"]] = pcode
            parent = ids_to_pcode.get(item[parent_key]) if parent_key else None
            if parent_key and parent is None:
                raise ValidationFailed(f"{where}: unknown {parent_key} {item.get(parent_key)!r}.",
                                       field=parent_key)
            centroid = item.get("centroid") or {}
            rows_out.append(AreaRow(
                pcode=pcode, level=level, parent_pcode=parent,
                name_en=cod_names.get(pcode) or item["name"]["en"],
                name_ar=item["name"].get("ar"),
                centroid_lon=centroid.get("longitude"), centroid_lat=centroid.get("latitude"),
                geometry=polygons.get((item.get("externalIds") or {}).get("geoboundaries", "")),
            ))
    return rows_out


def read_geojson(path: Path) -> list[AreaRow]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(f"{path}: not valid JSON ({exc}).", field="file") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationFailed(f"{path}: expected a GeoJSON FeatureCollection.", field="type")
    rows = []
    for index, feature in enumerate(data.get("features") or [], start=1):
        where = f"feature {index}"
        props = feature.get("properties") or {}
        row = _row_from_mapping(props, where)
        geometry = feature.get("geometry")
        if geometry is not None:
            try:
                geom = shape(geometry)
            except Exception as exc:
                raise ValidationFailed(f"{where}: geometry is not valid GeoJSON ({exc}).",
                                       field="geometry") from exc
            if geom.geom_type not in ("Polygon", "MultiPolygon"):
                raise ValidationFailed(f"{where}: geometry must be a Polygon or MultiPolygon.",
                                       field="geometry")
            row.geometry = geometry
            if row.centroid_lon is None:
                point = geom.representative_point()
                row.centroid_lon, row.centroid_lat = point.x, point.y
        rows.append(row)
    return rows


def read_csv(path: Path) -> list[AreaRow]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [_row_from_mapping(record, f"row {line}")
                    for line, record in enumerate(reader, start=2)]
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"{path}: not UTF-8 text.", field="file") from exc
    return rows


def _row_from_mapping(record: dict[str, Any], where: str) -> AreaRow:
    def text(name: str, required: bool = False) -> str | None:
        value = record.get(name)
        value = str(value).strip() if value is not None else ""
        if required and not value:
            raise ValidationFailed(f"{where}: {name} is required.", field=name)
        return value or None

    def number(name: str, low: float, high: float) -> float | None:
        raw = text(name)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError as exc:
            raise ValidationFailed(f"{where}: {name} {raw!r} is not a number.",
                                   field=name) from exc
        if not low <= value <= high:
            raise ValidationFailed(f"{where}: {name} {value} is out of range.", field=name)
        return value

    level_text = text("level", required=True)
    assert level_text is not None
    if not level_text.isdigit() or not 0 <= int(level_text) <= 5:
        raise ValidationFailed(f"{where}: level {level_text!r} must be 0 to 5.", field="level")
    country = (text("country") or "SYR").upper()
    if len(country) != 3 or not country.isalpha():
        raise ValidationFailed(f"{where}: country {country!r} must be ISO 3166 alpha-3.",
                               field="country")
    return AreaRow(
        pcode=text("pcode", required=True) or "",
        level=int(level_text),
        parent_pcode=text("parent_pcode"),
        name_en=text("name_en", required=True) or "",
        name_ar=text("name_ar"),
        country=country,
        centroid_lon=number("lon", -180, 180),
        centroid_lat=number("lat", -90, 90),
    )


def check_hierarchy(rows: Iterable[AreaRow], known: set[str]) -> None:
    """Every parent must be in the file or already loaded, one level up."""
    by_pcode: dict[str, AreaRow] = {}
    for row in rows:
        if row.pcode in by_pcode:
            raise ValidationFailed(f"{row.pcode}: appears twice in the file.", field="pcode")
        by_pcode[row.pcode] = row
    for row in by_pcode.values():
        if row.parent_pcode and row.parent_pcode not in by_pcode and row.parent_pcode not in known:
            raise ValidationFailed(f"{row.pcode}: parent_pcode {row.parent_pcode} is unknown.",
                                   field="parent_pcode")
        parent = by_pcode.get(row.parent_pcode or "")
        if parent and parent.level >= row.level:
            raise ValidationFailed(f"{row.pcode}: its parent {parent.pcode} is not a level above.",
                                   field="parent_pcode")
