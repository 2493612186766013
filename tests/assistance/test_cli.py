"""``havens assistance`` commands against a real database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from havens.cli.main import app
from havens.database import make_engine, session_scope
from havens.models import metadata
from havens.orgs.models import Organisation, OrgKind
from havens.zones.models import ReportedPopulation, Site, SiteType, Zone

runner = CliRunner()


@pytest.fixture
def cli_zone(cli_env: str) -> str:
    # Until the lead generates the migration of the new domains (and of the columns other
    # domains are adding), the schema comes from the models.
    engine = make_engine(cli_env)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()
    with session_scope(cli_env) as db:
        db.add(Organisation(name="IOM test", acronym="IOMC", kind=OrgKind.un_agency,
                            country="SYR"))
        zone = Zone(code="SZ-CLI-001", name_en="CLI zone", admin_pcodes=["SY070301"])
        db.add(zone)
        db.flush()
        site = Site(code="CP900001", name_en="Camp", site_type=SiteType.planned_camp, lon=36.7,
                    lat=36.2, zone_id=zone.id)
        db.add(site)
        db.flush()
        db.add(ReportedPopulation(site_id=site.id, reported_on=dt.date(2030, 1, 1),
                                  girls=1250, boys=1250, women=1250, men=1250))
    return "SZ-CLI-001"


def run(*args: str) -> str:
    result = runner.invoke(app, ["assistance", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_measure_indicators_gaps(cli_zone: str) -> None:
    out = run("measure", cli_zone, "toilets_functional=180", "water_delivered_lpd=60,000",
              "--on", "2030-02-01", "--source", "WASH round 3")
    assert "2 measurement(s)" in out
    out = run("indicators", cli_zone, "--on", "2030-02-10")
    assert "5,000 people (reported)" in out and "needs 70 more toilets" in out
    out = run("gaps", "--on", "2030-02-10")
    assert "needs 15,000 more l/day" in out
    bad = runner.invoke(app, ["assistance", "measure", cli_zone, "toilets=3"])
    assert bad.exit_code == 2 and "Unknown metric" in bad.output


def test_standards_and_override(cli_zone: str) -> None:
    assert "Sphere Handbook 2018" in run("standards", "list")
    out = run("standards", "override", "people_per_toilet", "--threshold", "30", "--reason",
              "Cluster decision: 1:30 during the winter", "--from", "2030-01-01")
    assert "threshold 30.0 for all zones" in out
    run("measure", cli_zone, "toilets_functional=180", "--on", "2030-02-01")
    assert "people_per_toilet" not in run("gaps", "--on", "2030-02-10")


def test_activities_import_and_list(cli_zone: str, tmp_path: Path) -> None:
    good = tmp_path / "3w.csv"
    good.write_text("org,sector,activity,zone,start,reached\n"
                    f"IOMC,WASH,Water trucking,{cli_zone},2030-01-05,500\n")
    assert "1 activities imported" in run("activities", "import", str(good))
    assert "imported before" in run("activities", "import", str(good))
    assert "Water trucking" in run("activities", "list", "--zone", cli_zone)
    bad = tmp_path / "bad.csv"
    bad.write_text("org,sector,activity,zone,start\nIOMC,WASH,Water trucking,NOPE,2030-01-05\n")
    result = runner.invoke(app, ["assistance", "activities", "import", str(bad)])
    assert result.exit_code == 2 and "No zone NOPE" in result.output
    out = run("activities", "add", "--org", "IOMC", "--sector", "health", "--type",
              "vaccination", "--zone", cli_zone, "--start", "2030-02-01", "--reached", "40")
    assert "recorded" in out
