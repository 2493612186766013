from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from havens.exceptions import ValidationFailed
from havens.geo import service
from havens.orgs.permissions import Principal


def test_packaged_syria_geography_loads_all_levels(db: Session, system: Principal) -> None:
    assert service.load_areas(db, actor=system) == 14 + 62 + 272
    idlib = service.get_area(db, pcode="SY07")
    assert idlib.level == 1 and idlib.name_en == "Idleb" and idlib.name_ar == "إدلب"
    assert idlib.geometry is not None
    district = service.get_area(db, pcode="SY0700")
    assert district.parent_pcode == "SY07"
    chain = [a.pcode for a in service.ancestors(db, pcode="SY070000")]
    assert chain == ["SY070000", "SY0700", "SY07"]
    # Loading again updates in place.
    assert service.load_areas(db, actor=system) == 348
    assert service.count_areas(db) == 348


def test_point_in_governorate(db: Session, system: Principal) -> None:
    service.load_areas(db, actor=system)
    area = service.area_at_point(db, lon=36.6334, lat=35.9306)  # Idlib city
    assert area is not None and area.pcode == "SY07"
    assert service.area_at_point(db, lon=2.35, lat=48.85) is None  # Paris


def test_check_pcodes_names_the_unknown_ones(db: Session, system: Principal) -> None:
    service.load_areas(db, actor=system)
    assert service.check_pcodes(db, pcodes=[" sy07 ", "SY0700"]) == ["SY07", "SY0700"]
    with pytest.raises(ValidationFailed, match="SY99"):
        service.check_pcodes(db, pcodes=["SY07", "SY99"])
    with pytest.raises(ValidationFailed, match="not admin level 3"):
        service.check_pcodes(db, pcodes=["SY07"], level=3)


def test_csv_of_another_country(db: Session, system: Principal, tmp_path: Path) -> None:
    file = tmp_path / "areas.csv"
    file.write_text("pcode,level,parent_pcode,name_en,name_ar,country,lat,lon\n"
                    "LB1,1,,Beirut,بيروت,LBN,33.89,35.50\n"
                    "LB11,2,LB1,Beirut District,,LBN,33.89,35.50\n", encoding="utf-8")
    assert service.load_areas(db, actor=system, path=file) == 2
    assert service.get_area(db, pcode="LB11").parent_pcode == "LB1"


@pytest.mark.parametrize(("content", "message", "field"), [
    ("pcode,level,parent_pcode,name_en\nA1,1,,A\nA2,x,A1,B\n", "row 3: level", "level"),
    ("pcode,level,parent_pcode,name_en\nA1,1,,\n", "row 2: name_en is required", "name_en"),
    ("pcode,level,parent_pcode,name_en\nA1,2,ZZ,A\n", "parent_pcode ZZ is unknown",
     "parent_pcode"),
    ("pcode,level,parent_pcode,name_en,lat\nA1,1,,A,123\n", "row 2: lat", "lat"),
    ("pcode,level,parent_pcode,name_en\nA1,1,,A\nA1,1,,B\n", "appears twice", "pcode"),
])
def test_bad_csv_rows_are_named(db: Session, system: Principal, tmp_path: Path, content: str,
                                message: str, field: str) -> None:
    file = tmp_path / "bad.csv"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationFailed, match=message) as error:
        service.load_areas(db, actor=system, path=file)
    assert error.value.field == field


def test_geojson_areas_with_polygons(db: Session, system: Principal, tmp_path: Path) -> None:
    import json

    square = {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 11],
                                                  [10, 10]]]}
    file = tmp_path / "areas.geojson"
    file.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square,
         "properties": {"pcode": "XX01", "level": 1, "name_en": "Square", "country": "XXX"}},
    ]}))
    assert service.load_areas(db, actor=system, path=file) == 1
    assert service.area_at_point(db, lon=10.5, lat=10.5).pcode == "XX01"
    file.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
         "properties": {"pcode": "XX02", "level": 1, "name_en": "Dot"}}]}))
    with pytest.raises(ValidationFailed, match="feature 1: geometry must be a Polygon"):
        service.load_areas(db, actor=system, path=file)


def test_api_lists_areas_by_level_and_parent(client, make_user, token_for, db,
                                             system: Principal) -> None:
    from havens.orgs.models import Role

    service.load_areas(db, actor=system)
    headers = token_for(make_user(Role.viewer))
    governorates = client.get("/api/v1/admin-areas?level=1", headers=headers).json()
    assert len(governorates) == 14
    districts = client.get("/api/v1/admin-areas?parent=SY07", headers=headers).json()
    assert {d["pcode"] for d in districts} == {"SY0700", "SY0702", "SY0703", "SY0704", "SY0705"}
    geojson = client.get("/api/v1/admin-areas.geojson?level=1", headers=headers).json()
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == 14
    assert client.get("/api/v1/admin-areas/SY99", headers=headers).status_code == 404
