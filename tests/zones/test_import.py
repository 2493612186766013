"""Site list import: the real ISIMM list, encodings, HXL, bad rows, re-import."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.exceptions import ValidationFailed
from havens.geo.models import AdminArea
from havens.orgs.permissions import Principal
from havens.zones import service, site_import
from havens.zones.models import ReportedPopulation, Site, SiteType
from havens.zones.schemas import ZoneCreate
from havens.zones.site_columns import field_for_hashtag, field_for_header
from havens.zones.site_rules import split_bilingual
from tests.zones.conftest import ISIMM_CSV, ISIMM_XLSX, square

MARCH_2020 = dt.date(2020, 3, 31)


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _isimm_rows(count: int) -> tuple[list[str], list[list[str]]]:
    with ISIMM_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:count + 1]


def _write_csv(path: Path, header: list[str], rows: list[list[str]],
               encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def test_isimm_xlsx_imports_every_site_in_its_admin_areas_then_csv_changes_nothing(
        db: Session, system: Principal, geography: None) -> None:
    report = site_import.import_sites(db, actor=system, path=ISIMM_XLSX,
                                      reported_on=MARCH_2020)
    assert report.sheet == "Sheet1"  # chosen over Sheet2 by its columns
    assert (report.rows, len(report.created), report.errors) == (884, 884, [])
    assert _count(db, Site) == 884 and _count(db, ReportedPopulation) == 884
    # Every site's P-codes are real admin areas, consistent with each other.
    areas = {a.pcode: a for a in db.scalars(select(AdminArea))}
    for site in db.scalars(select(Site)):
        assert areas[site.admin3_pcode].parent_pcode == site.admin2_pcode  # type: ignore[index]
        assert areas[site.admin2_pcode].parent_pcode == site.admin1_pcode  # type: ignore[index]
        assert site.community_pcode and site.community_pcode.startswith("C")
    # The quirks of the real list: lower-case codes, a slash inside the English name,
    # 22 sites without coordinates, 2 with latitude and longitude swapped.
    assert db.scalar(select(Site).where(Site.code == "CP000559")) is not None
    trc = db.scalars(select(Site).where(Site.code == "CP000449")).one()
    assert (trc.name_en, trc.name_ar) == ("Al Bab Transit/Reception Centre", "مركز استقبال الباب")
    assert trc.site_type is SiteType.transit_reception_centre
    assert _count_estimated(db) == 22
    swapped = db.scalars(select(Site).where(Site.code == "CP001051")).one()
    assert (swapped.lat, swapped.lon) == (36.23054, 36.73389)
    assert sum("swapped" in w.message for w in report.warnings) == 2
    first = db.scalars(select(ReportedPopulation).join(Site).where(
        Site.code == "CP000457")).one()
    assert (first.girls, first.boys, first.women, first.men, first.families) == (
        487, 496, 345, 308, 269)
    assert first.individuals == 1636 and first.reported_on == MARCH_2020

    again = site_import.import_sites(db, actor=system, path=ISIMM_CSV, reported_on=MARCH_2020)
    assert (again.created, again.updated, again.unchanged) == ([], [], 884)
    assert again.population_written == 0 and _count(db, Site) == 884


def _count_estimated(db: Session) -> int:
    return int(db.scalar(select(func.count(Site.id)).where(Site.location_estimated)) or 0)


def test_isimm_csv_places_sites_in_zones(db: Session, system: Principal,
                                         geography: None) -> None:
    zone = service.create_zone(db, actor=system, data=ZoneCreate(
        code="SZ-SY07-001", name_en="Atmeh", admin_pcodes=["SY070301"],
        boundary=square(36.64, 36.28, 0.08)))
    report = site_import.import_sites(db, actor=system, path=ISIMM_CSV)
    assert len(report.created) == 884 and report.encoding == "utf-8"
    # No date given: the population figures are left out, with a clear warning.
    assert _count(db, ReportedPopulation) == 0
    assert any("--reported-on" in w.message for w in report.warnings)
    in_zone = db.scalars(select(Site).where(Site.zone_id == zone.id)).all()
    assert len(in_zone) > 100
    assert all(36.64 <= s.lon <= 36.72 and 36.28 <= s.lat <= 36.36 for s in in_zone)
    assert not any(s.location_estimated for s in in_zone)


def test_windows_1252_csv_with_other_headers(tmp_path: Path, db: Session, system: Principal,
                                             geography: None) -> None:
    path = _write_csv(tmp_path / "sites.csv",
                      ["Site code", "Site name", "Site type", "Lat", "Long", "Admin3 Pcode",
                       "Managing agency"],
                      [["cp900001", "Camp Café – Nord", "Planned camp", "36.30", "36.68",
                        "SY070301", "Agence Française"]], encoding="cp1252")
    report = site_import.import_sites(db, actor=system, path=path)
    assert report.encoding == "windows-1252" and report.created == ["CP900001"]
    site = db.scalars(select(Site)).one()
    assert site.name_en == "Camp Café – Nord" and site.managing_agency == "Agence Française"
    assert site.admin1_pcode == "SY07"


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(
        tmp_path: Path, db: Session, system: Principal, geography: None) -> None:
    header, rows = _isimm_rows(6)
    rows[1][header.index("Type_of_Location")] = "tent"
    rows[2][header.index("Admin3")] = "SY029999"
    rows[3][header.index("Latitude")] = "north"
    rows[4][header.index("PCODE_ Sites")] = rows[0][header.index("PCODE_ Sites")]
    path = _write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(ValidationFailed, match=r"4 row\(s\) with errors; nothing was imported"
                       ) as caught:
        site_import.import_sites(db, actor=system, path=path)
    problems = {(d["row"], d["column"]): d["message"] for d in caught.value.details}
    assert "Unknown site type 'tent'" in problems[(3, "Type_of_Location")]
    assert "SY029999" in problems[(4, "Admin3")]
    assert "'north' is not a number" in problems[(5, "Latitude")]
    assert "also on row 2" in problems[(6, "PCODE_ Sites")]
    assert _count(db, Site) == 0

    dry = site_import.import_sites(db, actor=system, path=path, dry_run=True)
    assert len(dry.errors) == 4 and len(dry.created) == 2 and _count(db, Site) == 0

    skipped = site_import.import_sites(db, actor=system, path=path, skip_invalid=True)
    assert skipped.skipped_rows == [3, 4, 5, 6] and len(skipped.created) == 2
    assert _count(db, Site) == 2


def test_missing_columns_are_named(tmp_path: Path, db: Session, system: Principal,
                                   geography: None) -> None:
    path = _write_csv(tmp_path / "no-type.csv", ["Site Name", "Latitude"], [["A", "36"]])
    with pytest.raises(ValidationFailed, match=r"no column for a site type.*coordinates"):
        site_import.import_sites(db, actor=system, path=path)


def test_hxl_tagged_file_with_one_coordinate_cell(tmp_path: Path, db: Session,
                                                  system: Principal, geography: None) -> None:
    path = _write_csv(tmp_path / "hxl.csv", [
        "Camp", "Camp (Arabic)", "Code", "Kind", "GPS", "Sub-district", "Girls", "Boys",
        "Women", "Men", "Households", "Date", "Agency"], [
        ["#loc +name +i_en", "#loc+name+i_ar", "#loc+code", "#loc+type", "#geo+coord",
         "#adm3+code", "#affected+f+children", "#affected+m+children", "#affected+f+adults",
         "#affected+m+adults", "#affected+hh", "#date+reported", "#org+name"],
        ["Atmeh 1", "أطمة 1", "Cp000951", "IS", "36.3101, 36.6702", "SY070301",
         "10", "12", "8", "6", "7", "2020-03-31", "SARC"],
        ["Dana Centre", "", "", "CC", "36.2201,36.7702", "SY070301", "", "", "", "", "", "",
         ""],
    ])
    report = site_import.import_sites(db, actor=system, path=path)
    assert report.hxl and report.errors == []
    assert report.columns["coord"] == "GPS" and report.columns["girls"] == "Girls"
    atmeh = db.scalars(select(Site).where(Site.code == "CP000951")).one()
    assert (atmeh.name_en, atmeh.name_ar, atmeh.lat, atmeh.lon) == (
        "Atmeh 1", "أطمة 1", 36.3101, 36.6702)
    assert atmeh.managing_agency == "SARC"
    population = db.scalars(select(ReportedPopulation)).one()
    assert (population.individuals, population.families) == (36, 7)
    assert population.reported_on == MARCH_2020
    generated = db.scalars(select(Site).where(Site.code.like("ST-%"))).one()
    assert generated.name_en == "Dana Centre" and generated.site_type.value == "CC"
    # Re-import: the uncoded row finds its generated site again.
    again = site_import.import_sites(db, actor=system, path=path)
    assert again.created == [] and again.unchanged == 2


def test_xlsx_sheet_choice_and_bad_coordinates(tmp_path: Path, db: Session, system: Principal,
                                               geography: None) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["This workbook lists sites"])
    sheet = book.create_sheet("Sites")
    sheet.append(["PCODE", "camp_name", "geo", "TypeSite"])
    sheet.append(["CP000457", "Duyuf Al Sharqia/ ضيوف الشرقية", "36.3862569,37.5052509", "IS"])
    sheet.append(["CP000449", "Broken", "36.52", "IS"])
    path = tmp_path / "sites.xlsx"
    book.save(path)
    with pytest.raises(ValidationFailed) as caught:
        site_import.import_sites(db, actor=system, path=path)
    assert caught.value.details == [{"row": 3, "column": "geo (C)", "message":
                                     "'36.52' is not 'latitude,longitude' (e.g. '36.38,37.50')"}]
    report = site_import.import_sites(db, actor=system, path=path, skip_invalid=True)
    assert report.sheet == "Sites" and report.created == ["CP000457"]
    with pytest.raises(ValidationFailed, match="no sheet 'Nope'"):
        site_import.import_sites(db, actor=system, path=path, sheet="Nope")


@pytest.mark.parametrize(("cell", "english", "arabic"), [
    ("Al Bab Transit/Reception Centre/ مركز استقبال الباب", "Al Bab Transit/Reception Centre",
     "مركز استقبال الباب"),
    ("Shahba'1 (Bab Al Hawa Lower/1)/ الشهبا 1", "Shahba'1 (Bab Al Hawa Lower/1)", "الشهبا 1"),
    ("Tarheen* / ترحين", "Tarheen*", "ترحين"),
    ("Ghouta Sharkiye", "Ghouta Sharkiye", None),
    ("أطمة / Atmeh", "Atmeh", "أطمة"),
])
def test_bilingual_names_split_where_the_scripts_change(cell: str, english: str,
                                                        arabic: str | None) -> None:
    assert split_bilingual(cell) == (english, arabic)


def test_headers_and_hashtags_map_to_fields() -> None:
    assert field_for_header("PCODE_\nSites") == "code"
    assert field_for_header("Site Name\nاسم الموقع") == "name"
    assert field_for_header("Total_Families_Mar") == "families"
    assert field_for_header("Girls_Mar") == "girls"
    assert field_for_header("Shelter") is None
    assert field_for_hashtag("#geo +lon") == "lon"
    assert field_for_hashtag("#adm2+code") == "admin2_pcode"
    assert field_for_hashtag("#affected+children+f") == "girls"
    assert field_for_hashtag("#loc+name+i_ar") == "name_ar"
    assert field_for_hashtag("#sector") is None


def test_semicolon_csv_with_decimal_commas(tmp_path: Path, db: Session, system: Principal,
                                           geography: None) -> None:
    path = tmp_path / "excel-fr.csv"
    path.write_text("Site Name;Type_of_Location;Latitude;Longitude;Admin3;Girls;Boys;Women;Men;"
                    "Date\nAtmeh 2/ أطمة 2;PC;36,3101;36,6702;SY070301;1 234;0;0;0;31/03/2020\n",
                    encoding="utf-8-sig")
    report = site_import.import_sites(db, actor=system, path=path)
    assert report.errors == [] and len(report.created) == 1
    site = db.scalars(select(Site)).one()
    assert (site.lat, site.lon, site.name_ar) == (36.3101, 36.6702, "أطمة 2")
    population = db.scalars(select(ReportedPopulation)).one()
    assert population.girls == 1234 and population.reported_on == MARCH_2020
