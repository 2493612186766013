"""The command line, the field form round trip, SIGKILL during an import, and concurrency."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from havens.cli.main import app
from havens.database import session_scope
from havens.exceptions import Conflict
from havens.orgs import service as org_service
from havens.people import service
from havens.people.crypto import cipher_for
from havens.people.generator import Generator, to_csv
from havens.people.models import Household, Individual
from havens.people.records import COLUMNS
from havens.people.schemas import HouseholdCreate
from tests.people.conftest import RealDatabase, household_payload

runner = CliRunner()


def count(url: str, model: type) -> int:
    with session_scope(url) as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_template_lists_the_canonical_columns() -> None:
    result = runner.invoke(app, ["people", "template", "--hxl"])
    assert result.exit_code == 0
    header, tags = list(csv.reader(io.StringIO(result.stdout)))
    assert header == list(COLUMNS)
    assert tags[header.index("phone")] == "#contact+phone"


def test_cli_import_show_search_move_depart(real_db: RealDatabase, tmp_path: Path) -> None:
    rows = list(Generator(seed=5, origins=["SY070001"], ref_prefix="C").rows(30))
    rows[3]["sex"] = "?"
    path = tmp_path / "reg.csv"
    path.write_bytes(to_csv(rows))
    site = real_db.site_codes[0]
    refused = runner.invoke(app, ["people", "import", str(path), "--site", site,
                                  "--org", "UNHCR"])
    assert refused.exit_code == 1 and "nothing written" in refused.stdout
    assert "5" in refused.stdout and count(real_db.url, Individual) == 0
    done = runner.invoke(app, ["people", "import", str(path), "--site", site, "--org",
                               "UNHCR", "--skip-invalid"])
    assert done.exit_code == 0, done.output
    assert f"imported {len(rows) - 1} individuals" in done.stdout
    assert "skipped rows: 5" in done.stdout

    number = f"{site}-000001"
    shown = runner.invoke(app, ["people", "show", number, "--as", real_db.registrar_email])
    assert shown.exit_code == 0 and rows[0]["given_name_en"] in shown.stdout
    denied = runner.invoke(app, ["people", "show", number, "--as", real_db.liaison_email])
    assert denied.exit_code == 2 and rows[0]["given_name_en"] not in denied.output
    found = runner.invoke(app, ["people", "search", rows[0]["family_name_ar"], "--as",
                                real_db.registrar_email])
    assert found.exit_code == 0 and number in found.stdout
    moved = runner.invoke(app, ["people", "move", number, "--to", real_db.site_codes[1],
                                "--on", rows[0]["arrival_date"], "--as",
                                real_db.registrar_email])
    assert moved.exit_code == 0, moved.output
    left = runner.invoke(app, ["people", "depart", number, "--destination", "abroad",
                               "--country", "TUR", "--on", rows[0]["arrival_date"], "--as",
                               real_db.registrar_email])
    assert left.exit_code == 0 and "departed" in left.stdout
    occupancy = runner.invoke(app, ["people", "occupancy", "Z-REAL"])
    assert occupancy.exit_code == 0 and "total" in occupancy.stdout
    rotated = runner.invoke(app, ["people", "rotate-keys"])
    assert rotated.exit_code == 0 and "re-encrypted 0" in rotated.stdout


def test_xlsform_is_valid_and_its_kobo_export_round_trips(real_db: RealDatabase,
                                                          tmp_path: Path) -> None:
    from pyxform.xls2xform import convert

    result = runner.invoke(app, ["people", "xlsform"])
    assert result.exit_code == 0
    form = tmp_path / "registration.xlsx"
    form.write_bytes(result.stdout_bytes)
    converted = convert(xlsform=str(form))
    assert converted.warnings == [] and "<h:title>Havens household registration" in (
        converted.xform)
    book = load_workbook(form)
    survey = [dict(zip([c.value for c in book["survey"][1]], [c.value for c in row], strict=False))
              for row in book["survey"].iter_rows(min_row=2)]
    assert {"label::English (en)", "label::Arabic (ar)"} <= set(survey[0])
    assert any(r["type"] == "begin_repeat" and r["name"] == "member" for r in survey)

    # A Kobo XLSX export of two submissions: group paths in headers, members on their own
    # sheet linked by _parent_index, select_multiple split into 0/1 columns as well.
    paths: dict[str, str] = {}
    group: list[str] = []
    for row in survey:
        if row["type"] in ("begin_group", "begin_repeat"):
            group.append(row["name"])
        elif row["type"] in ("end_group", "end_repeat"):
            group.pop()
        elif row["name"] and row["type"] not in ("start", "end"):
            paths[row["name"]] = "/".join([*group, row["name"]])
    export = Workbook()
    main = export.active
    assert main is not None
    main.title = "Havens household registration"
    household_fields = ["household_ref", "site_code", "consent", "consent_given_by",
                        "consent_sharing", "consent_purposes", "origin_pcode", "arrival_date"]
    main.append([paths[f] for f in household_fields] + ["_id", "_uuid", "_index"])
    main.append([f"uuid:{n}" for n in ("a1",)] + [real_db.site_codes[0], "yes", "head", "yes",
                 "assistance protection", "SY070001", "2026-01-02", 1, "u-1", 1])
    main.append(["uuid:b2", real_db.site_codes[1], "yes", "guardian", "no", "", "SY070000",
                 "2026-01-03", 2, "u-2", 2])
    members = export.create_sheet("member")
    member_fields = ["relationship", "given_name_ar", "given_name_en", "family_name_ar",
                     "sex", "dob_known", "date_of_birth", "birth_year", "specific_needs",
                     "phone", "document_type", "document_number"]
    members.append([paths[f] for f in member_fields]
                   + [paths["specific_needs"] + "/DS", "_index", "_parent_index"])
    members.append(["head", "سامر", "Samer", "الخطيب", "M", "yes", "1980-04-04", None,
                    "DS", "0944000111", "national_id", "A-1", 1, 1, 1])
    members.append(["child", "ريم", "Reem", "الخطيب", "F", "no", None, 2018, "", None, None,
                    None, 0, 2, 1])
    members.append(["head", "هدى", "Huda", "منصور", "F", "yes", "1975-01-01", None, "SP",
                    None, None, None, 0, 3, 2])
    path = tmp_path / "kobo_export.xlsx"
    export.save(path)
    done = runner.invoke(app, ["people", "import", str(path), "--org", "UNHCR"])
    assert done.exit_code == 0, done.output
    assert "imported 3 individuals in 2 new households" in done.stdout
    with session_scope(real_db.url) as db:
        givers = {ref: giver for ref, giver in db.execute(
            select(Household.household_ref, Household.consent_given_by))}
        assert givers == {"uuid:a1": "head", "uuid:b2": "guardian"}
        child = db.scalar(select(Individual).where(Individual.given_name_en == "Reem"))
        assert child is not None and child.dob_estimated and child.date_of_birth.year == 2018
    again = runner.invoke(app, ["people", "import", str(path), "--org", "UNHCR"])
    assert again.exit_code == 0 and "imported before" in again.stdout


def test_sigkill_during_import_leaves_none_or_all(real_db: RealDatabase,
                                                  tmp_path: Path) -> None:
    rows = list(Generator(seed=9, origins=["SY070001"], ref_prefix="K").rows(8_000))
    path = tmp_path / "big.csv"
    path.write_bytes(to_csv(rows))
    havens = Path(sys.executable).parent / "havens"
    process = subprocess.Popen(
        [str(havens), "people", "import", str(path), "--site", real_db.site_codes[0],
         "--org", "UNHCR"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=os.environ.copy())
    assert process.stderr is not None
    started = False
    for line in io.TextIOWrapper(process.stderr, encoding="utf-8"):
        if line.startswith("writing "):
            started = True
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert started, "the import never reached its writing stage"
    individuals = count(real_db.url, Individual)
    households = count(real_db.url, Household)
    assert individuals in (0, len(rows))
    assert (individuals == 0) == (households == 0)
    # The database is usable after the kill, and the import can be run again to the end.
    done = runner.invoke(app, ["people", "import", str(path), "--site",
                               real_db.site_codes[0], "--org", "UNHCR"])
    assert done.exit_code == 0, done.output
    assert count(real_db.url, Individual) == len(rows)


def test_concurrent_registration_of_the_same_household(real_db: RealDatabase) -> None:
    """Two sessions register the same household_ref at once: one household results."""
    data = HouseholdCreate.model_validate(household_payload(real_db.site_codes[0],
                                                            household_ref="SAME-1"))
    outcomes: list[str] = []
    first_wrote = threading.Event()

    def register(wait: bool) -> None:
        try:
            with session_scope(real_db.url) as db:
                user = org_service.get_user_by_email(db, email=real_db.registrar_email)
                assert user is not None
                if wait:
                    first_wrote.wait(timeout=30)
                service.register_household(db, actor=org_service.principal_for(user),
                                           data=data, cipher=cipher_for())
                if not wait:
                    first_wrote.set()
                    # Hold the transaction open while the other session tries.
                    other.join(timeout=0.5)
            outcomes.append("registered")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # SQLite refuses a stale writer: "database is locked"
            outcomes.append(type(exc).__name__)
        finally:
            first_wrote.set()

    other = threading.Thread(target=register, args=(True,))
    other.start()
    register(False)
    other.join(timeout=60)
    assert outcomes.count("registered") == 1, outcomes
    assert len(outcomes) == 2
    with session_scope(real_db.url) as db:
        assert db.scalar(select(func.count()).select_from(Household).where(
            Household.household_ref == "SAME-1")) == 1


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HAVENS_FIELD_KEYS", raising=False)
