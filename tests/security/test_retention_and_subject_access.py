"""Retention (pseudonymisation of households that left long ago) and subject access."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from havens.audit.models import AuditRecord
from havens.cli.main import app
from havens.exceptions import PermissionDenied
from havens.orgs.permissions import Principal
from havens.people import flows as people_flows
from havens.people import retention
from havens.people import service as people_service
from havens.people.crypto import FieldCipher
from havens.people.models import Individual
from havens.people.schemas import DepartRequest, HouseholdCreate
from tests.people.conftest import RealDatabase, World, household_payload

LEFT_ON = dt.date(2024, 1, 15)
TODAY = dt.date(2026, 3, 1)  # 25 months later


def _household(db: Session, world: World, cipher: FieldCipher, ref: str) -> int:
    return people_service.register_household(
        db, actor=world.p(world.registrar), cipher=cipher,
        data=HouseholdCreate.model_validate(household_payload(
            world.sites[0], household_ref=ref, arrival_date="2023-12-03",
            displacement_date="2023-12-01")), today=dt.date(2024, 1, 1)).id


def test_retention_pseudonymises_keeps_statistics_and_is_idempotent(
        db: Session, world: World, cipher: FieldCipher, system: Principal) -> None:
    gone = _household(db, world, cipher, "RET-1")
    stays = _household(db, world, cipher, "RET-2")
    people_service.depart_household(db, actor=world.p(world.registrar), household_id=gone,
                                    data=DepartRequest(destination_type="return_to_origin",
                                                       moved_on=LEFT_ON), cipher=cipher)
    flows_before = people_flows.count_flows(db, actor=system, start=LEFT_ON, end=LEFT_ON,
                                   site_id=world.sites[0].id)

    dry = retention.apply(db, actor=system, months=24, dry_run=True, today=TODAY)
    assert dry.households == [gone] and dry.individuals == 3
    assert db.scalar(select(Individual.given_name_en).where(
        Individual.household_id == gone).limit(1)) is not None
    assert retention.apply(db, actor=system, months=30, today=TODAY).households == []

    done = retention.apply(db, actor=system, months=24, today=TODAY)
    assert done.households == [gone]
    members = list(db.scalars(select(Individual).where(Individual.household_id == gone)))
    for m in members:
        assert m.given_name_en is None and m.family_name_ar is None and m.name_key_en == ""
        assert m.phone_enc is None and m.phone_hash is None
        assert m.document_number_enc is None and m.document_number_hash is None
        assert m.date_of_birth.month == 7 and m.date_of_birth.day == 1 and m.dob_estimated
    assert sorted(m.date_of_birth.year for m in members) == [1985, 1990, 2022]
    assert sorted(m.sex.value for m in members) == ["F", "M", "M"]
    kept = people_service.get_household(db, actor=world.p(world.registrar), household_id=gone,
                                        cipher=cipher)
    assert kept.origin_pcode == "SY070001" and kept.origin_locality is None
    assert kept.household_ref is None
    # The household that stays is untouched; flows are the same.
    assert people_service.get_household(db, actor=world.p(world.registrar), household_id=stays,
                                        cipher=cipher).members[0].given_name_en == "Mohammad"
    assert people_flows.count_flows(db, actor=system, start=LEFT_ON, end=LEFT_ON,
                           site_id=world.sites[0].id) == flows_before
    # Idempotent: nothing left to do, nothing audited twice.
    assert retention.apply(db, actor=system, months=24, today=TODAY).households == []
    assert len(list(db.scalars(select(AuditRecord).where(
        AuditRecord.action == "retention.pseudonymise")))) == 1
    with pytest.raises(PermissionDenied):
        retention.apply(db, actor=world.p(world.coordinator), months=24, today=TODAY)


def test_months_before_handles_month_ends() -> None:
    assert retention._months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert retention._months_before(dt.date(2026, 3, 1), 24) == dt.date(2024, 3, 1)


def test_cli_subject_report_and_retention(real_db: RealDatabase, tmp_path: Path) -> None:
    runner = CliRunner()
    payload = household_payload(real_db.site_codes[0], household_ref="SAR-1")
    form = tmp_path / "hh.json"
    form.write_text(json.dumps(payload))
    from havens.database import session_scope
    from havens.orgs import service as org_service

    with session_scope(real_db.url) as db:
        registrar = org_service.principal_for(
            org_service.get_user_by_email(db, email=real_db.registrar_email))  # type: ignore[arg-type]
        number = people_service.register_household(
            db, actor=registrar, data=HouseholdCreate.model_validate(payload)).registration_number
    assert runner.invoke(app, ["people", "show", number, "--as", real_db.registrar_email]
                         ).exit_code == 0
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["people", "subject-report", number, "--as",
                                 real_db.registrar_email, "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["household"]["members"][0]["phone"] == "+963944123456"
    assert [a["purpose"] for a in report["accesses"]] == ["view"]
    assert report["accesses"][0]["by"] == real_db.registrar_email
    assert [c["action"] for c in report["changes"]] == ["people.register"]
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    # The government liaison is not entitled: the household does not exist for them.
    refused = runner.invoke(app, ["people", "subject-report", number, "--as",
                                  real_db.liaison_email])
    assert refused.exit_code == 2 and "Phone" not in refused.output
    dry = runner.invoke(app, ["retention", "apply", "--dry-run"])
    assert dry.exit_code == 0 and "would pseudonymise 0 household(s)" in dry.output
