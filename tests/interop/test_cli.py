"""``havens export`` and ``havens report sitrep`` (on the test transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hxl
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from havens.cli.main import app
from tests.interop.conftest import World

runner = CliRunner()


@pytest.fixture
def on_test_db(db: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        yield db

    monkeypatch.setattr("havens.cli.export.unit_of_work", unit_of_work)
    monkeypatch.setattr("havens.cli.report.unit_of_work", unit_of_work)
    return db


def test_export_writes_hxl_csv(on_test_db: Session, world: World, tmp_path: Path) -> None:
    out = tmp_path / "population.csv"
    result = runner.invoke(app, ["export", "population", "--format", "csv", "--out", str(out),
                                 "--on", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 rows of population" in result.output
    dataset = hxl.data(str(out), hxl.input.InputOptions(allow_local=True))
    rows = list(dataset)
    assert rows[-1].get("#loc+code") == "TOTAL" and rows[-1].get("#affected+idps+ind") == "41"


def test_export_xlsx_geojson_and_list(on_test_db: Session, world: World,
                                      tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "dtm-sites", "-f", "xlsx", "-o",
                                 str(tmp_path / "sites.xlsx")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sites.xlsx").read_bytes()[:2] == b"PK"
    result = runner.invoke(app, ["export", "zones", "-f", "geojson", "-o",
                                 str(tmp_path / "zones.geojson")])
    assert result.exit_code == 0 and "Wrote 2 features" in result.output
    listing = runner.invoke(app, ["export", "--list"])
    assert "dtm-sites" in listing.output and "registered-individuals" in listing.output


def test_export_errors(on_test_db: Session, world: World, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "nothing", "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 2 and "No export named" in result.output
    result = runner.invoke(app, ["export", "population", "-f", "geojson",
                                 "-o", str(tmp_path / "x.geojson")])
    assert result.exit_code == 2
    # The operator belongs to no organisation: personal data is not exported from the shell.
    result = runner.invoke(app, ["export", "registered-individuals", "--purpose",
                                 "A long enough purpose", "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 2 and not (tmp_path / "p.csv").exists()
    assert not list(tmp_path.glob("*.part"))


def test_report_sitrep(on_test_db: Session, world: World, tmp_path: Path) -> None:
    out = tmp_path / "sitrep.pdf"
    result = runner.invoke(app, ["report", "sitrep", "--zone", "SZ-TEST-001", "--lang", "ar",
                                 "--out", str(out), "--on", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    result = runner.invoke(app, ["report", "sitrep", "--zone", "NOPE", "--out", str(out)])
    assert result.exit_code == 2
