"""Checking one row of a site list: names, type, P-codes, coordinates, population.

A row becomes a checked site record (the fields the file gives, plus those derived from them)
or a ``RowError`` naming its column. Coordinates missing altogether place the site at its admin
area's centre (flagged as estimated); latitude and longitude entered the wrong way round are
swapped back when the swapped point falls in the site's governorate; both with a warning.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from shapely.geometry import shape
from shapely.prepared import PreparedGeometry, prep
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.exceptions import ValidationFailed
from havens.geo.models import AdminArea
from havens.zones.geometry import point
from havens.zones.models import SiteStatus
from havens.zones.site_columns import POPULATION_FIELDS, RowProblem, SiteImportReport
from havens.zones.site_rules import AdminLookup, OrgLookup, parse_site_type, split_bilingual
from havens.zones.site_table import Table
from havens.zones.sites import check_values

_ADMIN = ("admin1_pcode", "admin2_pcode", "admin3_pcode")
#: A point this far outside its governorate's (simplified) polygon is worth a warning.
_OUTSIDE_WARN_DEG = 0.05


@dataclass
class Row:
    """A checked row: the site record and its reported population, if any."""

    number: int
    record: dict[str, Any]
    population: dict[str, Any] | None


class RowError(Exception):
    """What is wrong with a row, and in which column."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


class RowChecker:
    """Turns one row into a checked site record (and its reported population)."""

    def __init__(self, db: Session, table: Table, mapping: dict[str, int],
                 reported_on: dt.date | None, report: SiteImportReport) -> None:
        self.db, self.table, self.mapping = db, table, mapping
        self.reported_on, self.report = reported_on, report
        self.admin = AdminLookup.load(db)
        self.orgs = OrgLookup(db)
        self.governorates: dict[str, tuple[PreparedGeometry, PreparedGeometry]] = {}
        for pcode, geojson in db.execute(select(AdminArea.pcode, AdminArea.geometry).where(
                AdminArea.level == 1, AdminArea.geometry.is_not(None))):
            polygon = shape(geojson)
            self.governorates[pcode] = (prep(polygon), prep(polygon.buffer(_OUTSIDE_WARN_DEG)))

    def column(self, name: str) -> str | None:
        index = self.mapping.get(name)
        return self.table.column_name(index) if index is not None else None

    def text(self, cells: list[Any], name: str) -> str | None:
        index = self.mapping.get(name)
        value = cells[index] if index is not None else None
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = re.sub(r"\s+", " ", str(value)).strip()
        return text or None

    def number(self, cells: list[Any], name: str, *, integer: bool = False) -> float | None:
        index = self.mapping.get(name)
        value = cells[index] if index is not None else None
        if isinstance(value, bool):
            raise RowError(self.column(name), f"{value!r} is not a number")
        if isinstance(value, int | float):
            number = float(value)
        else:
            text = self.text(cells, name)
            if text is None:
                return None
            cleaned = text.replace(" ", "").replace("\u00a0", "")
            if name in ("lat", "lon") and cleaned.count(",") == 1 and "." not in cleaned:
                cleaned = cleaned.replace(",", ".")  # a decimal comma: "36,3862"
            elif re.fullmatch(r"-?\d{1,3}(,\d{3})+", cleaned):  # "1,234": thousands
                cleaned = cleaned.replace(",", "")
            try:
                number = float(cleaned)
            except ValueError:
                raise RowError(self.column(name), f"{text!r} is not a number") from None
        if not math.isfinite(number):
            raise RowError(self.column(name), f"{value!r} is not a number")
        if integer and not number.is_integer():
            raise RowError(self.column(name), f"{value!r} is not a whole number")
        return number

    def check(self, number: int, cells: list[Any]) -> Row:
        values: dict[str, Any] = {}
        code = self.text(cells, "code")
        if code:
            values["code"] = code
        self._names(cells, values)
        site_type = self.text(cells, "site_type")
        if site_type is None:
            raise RowError(self.column("site_type"), "the site type is empty")
        try:
            values["site_type"] = parse_site_type(site_type)
        except ValidationFailed as exc:
            raise RowError(self.column("site_type"), exc.message) from None
        status = self.text(cells, "status")
        if status:
            try:
                values["status"] = SiteStatus(status.lower())
            except ValueError:
                raise RowError(self.column("status"), f"unknown status {status!r}: use "
                                "planned, open or closed") from None
        for name in (*_ADMIN, "community_pcode", "managing_agency"):
            if name in self.mapping:
                values[name] = self.text(cells, name)
        if "declared_area_m2" in self.mapping:
            values["declared_area_m2"] = self.number(cells, "declared_area_m2")
        if "declared_capacity" in self.mapping:
            capacity = self.number(cells, "declared_capacity", integer=True)
            values["declared_capacity"] = None if capacity is None else int(capacity)
        try:
            admin = self.admin.resolve(values.get("admin1_pcode"), values.get("admin2_pcode"),
                                       values.get("admin3_pcode"))
        except ValidationFailed as exc:
            raise RowError(self.column(exc.field or ""), exc.message) from None
        self._location(number, cells, values, admin)
        try:
            record = check_values(self.db, values, admin=self.admin, orgs=self.orgs,
                                  agency_given="managing_agency" in values)
        except ValidationFailed as exc:
            raise RowError(self._column_of_field(exc.field), exc.message) from None
        given = set(values) | ({*_ADMIN} if set(_ADMIN) & set(values) else set())
        if "managing_agency" in values:
            given.add("managing_org_id")
        record = {k: v for k, v in record.items() if k in given}
        return Row(number, record, self._population(number, cells))

    def _column_of_field(self, field: str | None) -> str | None:
        if field in ("lon", "lat"):
            return self.column("coord") or self.column(field)
        if field == "name_en":
            return self.column("name")
        return self.column(field) if field else None

    def _names(self, cells: list[Any], values: dict[str, Any]) -> None:
        name = self.text(cells, "name")
        english = self.text(cells, "name_en") if self.mapping.get("name_en") != self.mapping[
            "name"] else None
        arabic = self.text(cells, "name_ar")
        if name and not english:
            english, split_arabic = split_bilingual(name)
            arabic = arabic or split_arabic
        if not english:
            raise RowError(self.column("name"), "the site name is empty")
        values["name_en"], values["name_ar"] = english, arabic

    def _location(self, number: int, cells: list[Any], values: dict[str, Any],
                  admin: tuple[str | None, str | None, str | None]) -> None:
        if "coord" in self.mapping and self.text(cells, "coord"):
            raw = self.text(cells, "coord") or ""
            parts = [p for p in re.split(r"[,;\s]+", raw) if p]
            try:
                lat, lon = (float(p) for p in parts) if len(parts) == 2 else (None, None)
            except ValueError:
                lat = lon = None
            if lat is None or lon is None:
                raise RowError(self.column("coord"),
                                f"{raw!r} is not 'latitude,longitude' (e.g. '36.38,37.50')")
            column_lat = column_lon = self.column("coord")
        else:
            lat, lon = self.number(cells, "lat"), self.number(cells, "lon")
            column_lat, column_lon = self.column("lat"), self.column("lon")
        if lat is None and lon is None:
            centroid = self.admin.centroid(admin[2], admin[1], admin[0])
            if centroid is None:
                raise RowError(column_lat, "no coordinates, and no admin area to place the "
                                "site approximately")
            values["lon"], values["lat"], values["location_estimated"] = *centroid, True
            area = self.admin.areas[admin[2] or admin[1] or admin[0] or ""]
            self.report.warnings.append(RowProblem(number, column_lat, (
                f"no coordinates: placed at the centre of {area.pcode} ({area.name_en}) and "
                "flagged as estimated")))
            return
        if lat is None or lon is None:
            raise RowError(column_lat if lat is None else column_lon,
                            "latitude and longitude go together: one of them is empty")
        if not -90 <= lat <= 90:
            raise RowError(column_lat, f"latitude {lat} is out of range (-90 to 90)")
        if not -180 <= lon <= 180:
            raise RowError(column_lon, f"longitude {lon} is out of range (-180 to 180)")
        if self._swapped(number, lon, lat, admin[0], column_lat):
            lon, lat = lat, lon
        values["lon"], values["lat"], values["location_estimated"] = lon, lat, False

    def _swapped(self, number: int, lon: float, lat: float, admin1: str | None,
                 column: str | None) -> bool:
        """Whether latitude and longitude were entered the wrong way round (then the swapped
        point lies in the site's governorate and the given one does not): a warning, and the
        point is corrected. A point merely outside its governorate is only a warning."""
        shapes = self.governorates.get(admin1 or "")
        if shapes is None or shapes[1].covers(point(lon, lat)):
            return False
        name = self.admin.areas[admin1 or ""].name_en
        if -90 <= lon <= 90 and shapes[0].covers(point(lat, lon)):
            self.report.warnings.append(RowProblem(number, column, (
                f"latitude {lat} and longitude {lon} were swapped (the point is outside "
                f"{admin1} {name}, swapped it is inside): imported swapped back")))
            return True
        self.report.warnings.append(RowProblem(number, column, (
            f"the point ({lat}, {lon}) lies outside {admin1} ({name}); check the "
            "coordinates")))
        return False

    def _population(self, number: int, cells: list[Any]) -> dict[str, Any] | None:
        if self.reported_on is None and "reported_on" not in self.mapping:
            return None
        counts: dict[str, int | None] = {}
        for name in (*POPULATION_FIELDS, "individuals"):
            value = self.number(cells, name, integer=True) if name in self.mapping else None
            if value is not None and value < 0:
                raise RowError(self.column(name), f"{int(value)} is negative")
            counts[name] = None if value is None else int(value)
        if all(counts[n] is None for n in ("girls", "boys", "women", "men")):
            return None
        people = sum(counts[n] or 0 for n in ("girls", "boys", "women", "men"))
        if counts["individuals"] is not None and counts["individuals"] != people:
            self.report.warnings.append(RowProblem(number, self.column("individuals"), (
                f"total {counts['individuals']} is not girls + boys + women + men ({people}); "
                "the four groups were kept")))
        on = self._date(cells) or self.reported_on
        if on is None:
            raise RowError(self.column("reported_on"), "the report date is empty")
        return {"reported_on": on, "girls": counts["girls"] or 0, "boys": counts["boys"] or 0,
                "women": counts["women"] or 0, "men": counts["men"] or 0,
                "families": counts["families"]}

    def _date(self, cells: list[Any]) -> dt.date | None:
        index = self.mapping.get("reported_on")
        value = cells[index] if index is not None else None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = self.text(cells, "reported_on")
        if text is None:
            return None
        for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S"):
            try:
                return dt.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        raise RowError(self.column("reported_on"),
                        f"{text!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
