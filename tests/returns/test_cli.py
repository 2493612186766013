"""``havens returns``: assess, import intentions, record a return (refused, overridden),
report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from havens.audit.models import AuditRecord
from havens.cli.main import app
from havens.database import make_engine, session_scope
from havens.geo.models import AdminArea
from havens.models import metadata
from havens.orgs import service as org_service
from havens.orgs.models import OrgKind
from havens.orgs.permissions import Principal
from havens.orgs.schemas import OrganisationCreate
from havens.people.models import Household, HouseholdStatus, Individual, Relationship, Sex
from havens.zones.models import Site, SiteType, Zone, ZoneStatus

runner = CliRunner()
ORIGIN = "SY070301"


@pytest.fixture
def cli_db(cli_env: str) -> str:
    engine = make_engine(cli_env)
    # The models' current schema (the migration may lag behind the domains being written).
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()
    with session_scope(cli_env) as db:
        org = org_service.create_organisation(db, actor=Principal.system(), data=OrganisationCreate(
            name="UN agency", acronym="UNA", kind=OrgKind.un_agency, country="SYR"))
        for pcode, level, parent in (("SY07", 1, None), ("SY0703", 2, "SY07"),
                                     (ORIGIN, 3, "SY0703")):
            db.add(AdminArea(pcode=pcode, country="SYR", level=level, parent_pcode=parent,
                             name_en=f"Area {pcode}"))
        zone = Zone(code="SZ-C-001", name_en="Zone", status=ZoneStatus.operational)
        db.add(zone)
        db.flush()
        site = Site(code="CP700001", name_en="Camp", site_type=SiteType.planned_camp,
                    lon=36.7, lat=36.2, zone_id=zone.id)
        db.add(site)
        db.flush()
        for number in (1, 2):
            household = Household(registration_number=f"CP700001-{number:06d}",
                                  site_id=site.id, organisation_id=org.id, origin_pcode=ORIGIN,
                                  arrival_date=dt.date(2025, 1, 1))
            db.add(household)
            db.flush()
            db.add(Individual(household_id=household.id, organisation_id=org.id,
                              site_id=site.id, relationship=Relationship.head, sex=Sex.female,
                              date_of_birth=dt.date(1985, 5, 5)))
    return cli_env


def _run(args: list[str], code: int = 0) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    return result.output


def test_assess_import_return_and_report(cli_db: str, tmp_path: Path) -> None:
    out = _run(["returns", "assess", ORIGIN, "--rate", "safety_security=not_met",
                "--rate", "livelihoods=partly met", "--note",
                "safety_security=Shelling twice a week", "--on", "2026-01-10", "--org", "UNA"])
    assert "not_conducive" in out and "Shelling twice a week" in out
    _run(["returns", "assess", ORIGIN, "--rate", "bogus=met", "--org", "UNA"], code=2)
    answers = tmp_path / "kobo.csv"
    answers.write_text("group/registration_number,group/intention,today,_uuid\n"
                       "CP700001-000001,within_3_months,2026-02-01,u1\n", encoding="utf-8")
    assert "1 answer(s) imported" in _run(["returns", "intentions", "import", str(answers),
                                            "--org", "UNA"])
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    attempt = ["returns", "return", "CP700001-000001", "--kind", "facilitated", "--by", "UNA",
               "--voluntary", "--on", yesterday, "--informed-by", "Field officer",
               "--informed-on", "2026-01-20", "--informed-of", "conditions_in_area",
               "--informed-of", "right_to_remain", "--transport", "vehicle", "--org", "UNA"]
    refused = _run(attempt, code=2)
    assert "refused" in refused
    with session_scope(cli_db) as db:
        actions = list(db.scalars(select(AuditRecord.action)))
        assert "return.refused" in actions  # kept although the command failed
    ok = _run([*attempt, "--override-reason", "Urgent family reunification, escorted convoy"])
    assert "overridden" in ok
    with session_scope(cli_db) as db:
        household = db.scalar(select(Household).where(
            Household.registration_number == "CP700001-000001"))
        assert household is not None and household.status == HouseholdStatus.returned
        assert "return.override" in set(db.scalars(select(AuditRecord.action)))
    _run(["returns", "return", "CP700001-000002", "--kind", "spontaneous", "--org", "UNA"],
         code=2)  # --voluntary is required
    report = _run(["returns", "report", "--area", ORIGIN])
    assert "within_3_months 1" in report and "not_conducive" in report
    zone = _run(["returns", "report", "--zone", "SZ-C-001"])
    assert "return_to_origin" in zone
