"""Importing incident lists (all or nothing, row-level problems) and the command line."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from havens.cli.main import app
from havens.database import make_engine, session_scope
from havens.exceptions import ValidationFailed
from havens.models import metadata
from havens.orgs import service as org_service
from havens.orgs.models import OrgKind
from havens.orgs.permissions import Principal
from havens.orgs.schemas import OrganisationCreate
from havens.safety.importing import import_incidents
from havens.safety.models import SecurityIncident
from tests.safety.conftest import NOW, World, add_zone

GOOD = (
    "incident/ref,Zone,Date,Time,Incident type,Severity,killed,injured_female_child,"
    "Description,Sensitive\n"
    "INC-1,SZ-T-001,2026-06-10,14:30,Air strike,4,2,1,Strike on the market,\n"
    "INC-2,SZ-T-001,11/06/2026,,armed incursion,serious,,,Armed group crossed the line,no\n"
    "INC-3,SZ-T-001,2026-06-12,,SGBV,3,,,,\n"
)


def count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(SecurityIncident)) or 0)


def test_a_good_list_is_imported_and_a_second_time_adds_nothing(world: World) -> None:
    actor = world.p(world.protection)
    report = import_incidents(world.db, actor=actor, data=GOOD.encode(), filename="list.csv",
                              now=NOW)
    assert (report.rows, report.created, report.skipped_existing) == (3, 3, 0)
    strike, incursion, gbv = (world.db.get(SecurityIncident, i) for i in report.incident_ids)
    assert strike is not None and incursion is not None and gbv is not None
    assert strike.occurred_at == dt.datetime(2026, 6, 10, 14, 30, tzinfo=dt.UTC)
    assert (strike.severity, strike.killed, strike.injured) == (4, 2, 1)
    assert strike.casualties["killed"]["unknown"] == 2
    assert incursion.occurred_at.date() == dt.date(2026, 6, 11) and incursion.severity == 3
    assert gbv.sensitive and strike.external_ref == "INC-1"
    again = import_incidents(world.db, actor=actor, data=GOOD.encode(), filename="list.csv",
                             now=NOW)
    assert (again.created, again.skipped_existing) == (0, 3)
    assert count(world.db) == 3


def test_every_problem_is_reported_and_nothing_is_imported(world: World) -> None:
    bad = (
        "ref,zone,date,type,severity,killed,killed_male_adult,lon,lat\n"
        "A,SZ-T-001,2026-06-10,fire,2,,,,\n"  # fine
        "B,SZ-T-001,2026-06-10,flood,2,,,,\n"  # unknown type
        "C,SZ-NOPE,2026-06-10,fire,2,,,,\n"  # unknown zone
        "D,SZ-T-001,31/02/2026,fire,2,,,,\n"  # no such date
        "E,SZ-T-001,2026-06-10,fire,7,,,,\n"  # severity out of range
        "F,SZ-T-001,2026-06-10,fire,2,3,1,,\n"  # totals disagree
        "A,SZ-T-001,2026-06-10,fire,2,,,,\n"  # reference twice
        "G,,2026-06-10,fire,2,,,36.95,36.20\n"  # point in no zone
        "H,SZ-T-001,2026-06-10,gbv,2,,,,\n"  # fine
        "I,SZ-T-001,2026-06-10,crime,2,-1,,,\n"  # negative count
    )
    with pytest.raises(ValidationFailed) as error:
        import_incidents(world.db, actor=world.p(world.coordinator), data=bad.encode(),
                         filename="bad.csv", now=NOW)
    problems = {(p["row"], p["column"]): p["reason"] for p in error.value.details}
    assert set(problems) == {(3, "type"), (4, "zone"), (5, "occurred_at"), (6, "severity"),
                             (7, "killed"), (8, "ref"), (9, "zone"), (11, "killed")}
    assert "flood" in problems[(3, "type")] and "SZ-NOPE" in problems[(4, "zone")]
    assert "row 2" in problems[(8, "ref")]
    assert "nothing was imported" in error.value.message
    assert count(world.db) == 0


def test_xlsx_with_excel_dates(world: World) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Zone", "Date", "Type", "Severity", "Narrative"])
    sheet.append(["SZ-T-001", dt.datetime(2026, 6, 9, 8, 15), "fire", 2.0, "Tent fire"])
    sheet.append(["SZ-T-001", dt.datetime(2026, 6, 9), "UXO", 3, "Shell found"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_incidents(world.db, actor=world.p(world.coordinator),
                              data=buffer.getvalue(), filename="list.xlsx", now=NOW)
    assert report.created == 2
    fire = world.db.get(SecurityIncident, report.incident_ids[0])
    assert fire is not None and fire.occurred_at.hour == 8 and fire.narrative == "Tent fire"


def test_a_file_without_the_needed_columns(world: World) -> None:
    with pytest.raises(ValidationFailed, match="needs at least"):
        import_incidents(world.db, actor=world.p(world.coordinator),
                         data=b"zone,severity\nSZ-T-001,2\n", filename="x.csv", now=NOW)


runner = CliRunner()


@pytest.fixture
def cli_db(cli_env: str) -> str:
    engine = make_engine(cli_env)
    # The models' current schema (the migration may lag behind the domains being written).
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()
    with session_scope(cli_env) as db:
        org_service.create_organisation(db, actor=Principal.system(), data=OrganisationCreate(
            name="UN agency", acronym="UNA", kind=OrgKind.un_agency, country="SYR"))
        add_zone(db, "SZ-T-001", (36.60, 36.10, 36.80, 36.30))
    return cli_env


def test_cli_report_list_import_and_safety(cli_db: str, tmp_path: Path) -> None:
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    result = runner.invoke(app, ["incidents", "report", "--type", "armed incursion",
                                 "--severity", "3", "--at", yesterday, "--lon", "36.7",
                                 "--lat", "36.2", "--org", "UNA", "--narrative",
                                 "Checkpoint set up inside the zone"])
    assert result.exit_code == 0, result.output
    assert "inside zone SZ-T-001" in result.output
    result = runner.invoke(app, ["incidents", "report", "--type", "gbv", "--severity", "2",
                                 "--at", yesterday, "--zone", "SZ-T-001", "--org", "UNA",
                                 "--narrative", "Confidential survivor account"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["incidents", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Checkpoint set up" in listed.output
    assert "Confidential" not in listed.output and "gbv: <5" in listed.output
    file = tmp_path / "list.csv"
    file.write_text("zone,date,type,severity\nSZ-T-001,2026-01-01,fire,1\n"
                    "SZ-T-001,2026-01-02,volcano,1\n", encoding="utf-8")
    failed = runner.invoke(app, ["incidents", "import", str(file), "--org", "UNA"])
    assert failed.exit_code == 2
    assert "volcano" in failed.output and "nothing was imported" in failed.output
    file.write_text("zone,date,type,severity\nSZ-T-001,2026-01-01,fire,1\n", encoding="utf-8")
    imported = runner.invoke(app, ["incidents", "import", str(file), "--org", "UNA"])
    assert imported.exit_code == 0, imported.output
    assert "1 incident(s) imported" in imported.output
    safety = runner.invoke(app, ["incidents", "safety"])
    assert safety.exit_code == 0 and "unsafe" in safety.output
