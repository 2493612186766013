"""Each tabular export, as HXL CSV (read back with libhxl) and XLSX (openpyxl), under the
access model: a government liaison gets suppressed aggregates and never a name."""

from __future__ import annotations

import re
from pathlib import Path

import hxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit.models import AuditRecord
from havens.exceptions import PermissionDenied, ValidationFailed
from havens.interop import registry
from havens.orgs.permissions import Principal
from tests.conftest import ROOT
from tests.interop.conftest import World
from tests.interop.helpers import hxl_rows, run, xlsx_rows

DOCS = ROOT / "docs" / "exports.md"


def test_every_export_is_documented_with_its_columns_and_hashtags() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert registry.exports(), "the registry is empty"
    assert registry.skipped() == {}
    for export in registry.exports().values():
        heading = re.search(rf"^## `{re.escape(export.name)}`", text, re.MULTILINE)
        assert heading, f"docs/exports.md has no section for export {export.name}"
        section = text[heading.end():].split("\n## ", 1)[0]
        for column in export.columns:
            assert f"| `{column.name}` | `{column.hashtag}` |" in section, (
                f"{export.name}: column {column.name} ({column.hashtag}) is not documented")


def test_every_hashtag_is_valid_hxl_and_unique_per_export() -> None:
    pattern = re.compile(r"^#[a-z][a-z0-9_]*(\s*\+\s*[a-z][a-z0-9_]*)*$")
    for export in registry.exports().values():
        tags = [c.hashtag for c in export.columns]
        assert all(pattern.match(t) for t in tags), export.name
        assert len(set(tags)) == len(tags), f"{export.name}: a hashtag is used twice"
        assert len({c.name for c in export.columns}) == len(tags)


def test_population_in_full_for_the_operator(db: Session, world: World, system: Principal,
                                             tmp_path: Path) -> None:
    dataset, rows = hxl_rows(run(db, system, "population"), tmp_path)
    assert "#affected+idps+ind" in [c.display_tag for c in dataset.columns]
    zone, other, total = rows
    assert zone["#loc+code"] == "SZ-TEST-001"
    # 6 households of 4, 3 of 3 (UNHCR) and 1 of 2 (SARC); the departed household is gone.
    assert zone["#affected+idps+ind"] == "35" and zone["#affected+idps+hh"] == "10"
    assert zone["#affected+idps+f+elderly+age60plus"] == "1"
    assert zone["#affected+idps+f+children+age5_11"] == "6"
    assert other["#affected+idps+ind"] == "6"
    assert total["#loc+code"] == "TOTAL" and total["#affected+idps+ind"] == "41"
    # libhxl's tag patterns work on it, e.g. all the children of either sex:
    children = [c for c in dataset.columns if hxl.model.TagPattern.parse(
        "#affected+children").match(c)]
    assert len(children) == 6


def test_liaison_gets_suppressed_aggregates(db: Session, world: World, tmp_path: Path) -> None:
    _dataset, rows = hxl_rows(run(db, world.p(world.liaison), "population"), tmp_path)
    zone, other, total = rows
    assert zone["#affected+idps+f+elderly+age60plus"] == "<5"
    assert other["#affected+idps+hh"] == "<5"
    values = [v for row in rows for v in row.values()]
    assert "x" in values  # secondary suppression happened
    assert total["#affected+idps+ind"] == "41"  # large totals stay published


def test_own_organisation_counts_are_shown_to_its_registrar(db: Session, world: World,
                                                            tmp_path: Path) -> None:
    # Zone 2 holds only UNHCR's registrations: UNHCR's registrar sees its small counts;
    # zone 1 mixes in SARC's household, so the same small cells stay protected there.
    _d, rows = hxl_rows(run(db, world.p(world.registrar), "population"), tmp_path)
    zone, other, _total = rows
    assert other["#affected+idps+hh"] == "2"
    assert zone["#affected+idps+f+elderly+age60plus"] == "<5"
    assert zone["#affected+idps+ind"] == "35"


def test_flows(db: Session, world: World, system: Principal, tmp_path: Path) -> None:
    _d, rows = hxl_rows(run(db, system, "flows"), tmp_path)
    zone = rows[0]
    assert zone["#affected+idps+ind+arrived"] == "35"
    assert zone["#affected+idps+hh+arrived"] == "10"
    assert zone["#affected+idps+ind+departed+abroad"] == "1"
    _d, rows = hxl_rows(run(db, world.p(world.liaison), "flows"), tmp_path)
    assert rows[0]["#affected+idps+ind+departed+abroad"] == "<5"


def test_dtm_site_list(db: Session, world: World, system: Principal, tmp_path: Path) -> None:
    _d, rows = hxl_rows(run(db, system, "dtm-sites"), tmp_path)
    first = rows[0]
    assert first["#loc+code"] == "CP900001" and first["#loc+name+i_ar"] == "مخيم 1"
    assert first["#adm3+code"] == "SY070000" and first["#adm1+name"] == "Idleb"
    assert float(first["#geo+lat"]) == pytest.approx(35.93)
    assert first["#loc+type"] == "PC" and first["#org+name+cccm"] == "UNHCR"
    assert first["#affected+idps+ind"] == "26" and first["#affected+idps+hh"] == "7"
    assert first["#service+wash"] == "yes" and first["#service+health"] == "yes"
    assert first["#service+education"] == "no"
    assert rows[2]["#service+health"] == "no"  # the clinic runs in zone 1 only
    _d, rows = hxl_rows(run(db, world.p(world.liaison), "dtm-sites"), tmp_path)
    assert rows[2]["#affected+idps+hh"] == "<5"


def test_activities_indicators_commitments(db: Session, world: World, system: Principal,
                                           tmp_path: Path) -> None:
    _d, rows = hxl_rows(run(db, world.p(world.viewer), "activities"), tmp_path)
    wash = next(r for r in rows if r["#sector"] == "wash")
    assert wash["#org+impl"] == "UNHCR" and wash["#activity+code"] == "water_trucking"
    assert wash["#reached+ind"] == "26" and wash["#reached+f+children"] == "6"
    assert wash["#date+start"] == "2026-10-11" and wash["#org+funder"] == "ECHO"
    _d, rows = hxl_rows(run(db, system, "indicators", zone="SZ-TEST-001"), tmp_path)
    water = next(r for r in rows if r["#indicator+code"] == "water_lpd")
    assert water["#indicator+name"] == "Water quantity per person"
    assert float(water["#indicator+value"]) == pytest.approx(2100 / 35)
    assert water["#status"] == "met"
    toilets = next(r for r in rows if r["#indicator+code"] == "people_per_toilet")
    assert float(toilets["#indicator+value"]) == pytest.approx(35 / 3, abs=0.01)
    _d, rows = hxl_rows(run(db, system, "commitments"), tmp_path)
    assert rows == []  # no agreement in force in this world


def test_incident_counts(db: Session, world: World, system: Principal, tmp_path: Path) -> None:
    for actor in (system, world.p(world.coordinator), world.p(world.liaison)):
        _d, rows = hxl_rows(run(db, actor, "incidents"), tmp_path)
        cells = {(r["#loc+code"], r["#event+type"]): r["#event+num"] for r in rows}
        assert cells[("SZ-TEST-001", "shelling")] == "1"  # visible to all: shown
        assert cells[("SZ-TEST-001", "gbv")] == "<5"  # sensitive: protected, even for system
        assert cells[("SZ-TEST-001", "all")] == "<5"
    # SARC's protection officer may see SARC's GBV report: the count is shown.
    _d, rows = hxl_rows(run(db, world.p(world.sarc_protection), "incidents"), tmp_path)
    cells = {(r["#loc+code"], r["#event+type"]): r["#event+num"] for r in rows}
    assert cells[("SZ-TEST-001", "gbv")] == "1"


def test_zones_and_admin_areas(db: Session, world: World, system: Principal,
                               tmp_path: Path) -> None:
    _d, rows = hxl_rows(run(db, world.p(world.liaison), "zones"), tmp_path)
    assert [r["#loc+code"] for r in rows] == ["SZ-TEST-001", "SZ-TEST-002"]
    assert rows[0]["#adm1+code"] == "SY07" and rows[0]["#status"] == "proposed"
    assert float(rows[0]["#geo+area+km2"]) > 50
    assert rows[0]["#meta+sites+num"] == "2"
    _d, rows = hxl_rows(run(db, system, "admin-areas"), tmp_path)
    assert {r["#adm+code"] for r in rows} >= {"SY07", "SY0700", "SY070000"}


def test_returns_total_row_when_nothing_returned(db: Session, world: World, system: Principal,
                                                 tmp_path: Path) -> None:
    _d, rows = hxl_rows(run(db, system, "returns"), tmp_path)
    assert rows == [{**rows[0], "#adm3+code+origin": "TOTAL", "#affected+returnees+ind": "0"}]


def test_xlsx_has_header_hashtags_rows_and_about(db: Session, world: World,
                                                 system: Principal) -> None:
    for name in ("population", "dtm-sites", "activities"):
        header, tags, rows, about = xlsx_rows(run(db, system, name, "xlsx"))
        export = registry.get(name)
        assert header == [c.name for c in export.columns]
        assert tags == [c.hashtag for c in export.columns]
        assert rows, name
        assert about[0] == ["column", "hashtag", "meaning"]
        assert [r[1] for r in about[1:len(export.columns) + 1]] == tags
    _h, _t, rows, _a = xlsx_rows(run(db, system, "population", "xlsx"))
    assert rows[-1][0] == "TOTAL" and rows[-1][4] == 41


def test_personal_export_needs_rights_purpose_and_is_audited(
        db: Session, world: World, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        run(db, world.p(world.liaison), "registered-individuals", purpose="checking the list")
    with pytest.raises(PermissionDenied):
        run(db, world.p(world.viewer), "registered-individuals", purpose="checking the list")
    with pytest.raises(ValidationFailed) as missing:
        run(db, world.p(world.registrar), "registered-individuals")
    assert missing.value.field == "purpose"
    data = run(db, world.p(world.registrar), "registered-individuals",
               purpose="Distribution list for the winter NFI round")
    _d, rows = hxl_rows(data, tmp_path)
    # UNHCR's own registrations only (not SARC's), names included, no phone or document.
    assert len(rows) == 6 * 4 + 3 * 3 + 2 * 3 + 1
    assert {r["#beneficiary+name+family+i_ar"] for r in rows} == {"الحسن"}
    assert not any("#contact" in tag for tag in rows[0])
    audit = db.scalars(select(AuditRecord).where(AuditRecord.action == "export.personal")).all()
    assert audit[-1].detail["purpose"] == "Distribution list for the winter NFI round"
    assert audit[-1].detail["export"] == "registered-individuals"


def test_no_aggregate_export_holds_a_name(db: Session, world: World) -> None:
    """Whatever the government liaison may download holds no personal data."""
    actor = world.p(world.liaison)
    for export in registry.exports().values():
        if export.personal:
            continue
        for fmt in export.formats:
            text = run(db, actor, export.name, fmt).decode("utf-8", errors="replace") \
                if fmt != "xlsx" else _xlsx_text(run(db, actor, export.name, fmt))
            for secret in ("Fatima", "فاطمة", "Al-Hasan", "الحسن", "HH-1", "sensitive narrative",
                           "northern gate"):
                assert secret not in text, (export.name, fmt, secret)


def _xlsx_text(data: bytes) -> str:
    _h, _t, rows, _a = xlsx_rows(data)
    return " ".join(str(v) for row in rows for v in row)


def test_unknown_export_format_and_zone(db: Session, world: World, system: Principal) -> None:
    from havens.exceptions import NotFound

    with pytest.raises(NotFound):
        registry.get("nope")
    with pytest.raises(ValidationFailed):
        run(db, system, "population", "geojson")
    with pytest.raises(NotFound):
        run(db, system, "population", zone="SZ-NOPE-9")



def test_xlsx_refused_beyond_a_worksheet(db: Session, world: World,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "XLSX_MAX_ROWS", 10)
    with pytest.raises(ValidationFailed) as refused:
        run(db, world.p(world.registrar), "registered-individuals", "xlsx",
            purpose="Distribution list for the winter NFI round")
    assert "download the CSV" in refused.value.message
    assert run(db, world.p(world.registrar), "registered-individuals", "csv",
               purpose="Distribution list for the winter NFI round")


def test_site_list_and_population_cannot_be_subtracted(db: Session, world: World,
                                                       tmp_path: Path) -> None:
    """The population export publishes each zone's households and individuals; the site list
    publishes them per site. A zone never has exactly one withheld site (its value would be
    the zone's total minus the others)."""
    actor = world.p(world.liaison)
    _d, zones = hxl_rows(run(db, actor, "population"), tmp_path)
    _d, sites = hxl_rows(run(db, actor, "dtm-sites"), tmp_path)
    for tag in ("#affected+idps+hh", "#affected+idps+ind"):
        for zone in zones[:-1]:
            values = [s[tag] for s in sites if s["#loc+code+zone"] == zone["#loc+code"]]
            withheld = [v for v in values if not v.isdigit()]
            assert len(withheld) != 1 or not zone[tag].isdigit(), (tag, zone, values)
            if not withheld:
                assert sum(map(int, values)) == int(zone[tag])
    households = {s["#loc+code"]: s["#affected+idps+hh"] for s in sites}
    assert households == {"CP900001": "x", "CP900002": "<5", "CP900003": "<5"}
