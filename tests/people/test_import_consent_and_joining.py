"""Import: consent to registration is recorded, and rows joining registered households are
checked against them (site, status, merge, head), closed sites refuse new households."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from havens.audit.models import AuditRecord
from havens.cli.main import app
from havens.database import session_scope
from havens.exceptions import ValidationFailed
from havens.people import importing, records
from havens.people.crypto import FieldCipher
from havens.people.models import (
    Household,
    HouseholdStatus,
    Individual,
    Movement,
    MovementKind,
)
from havens.people.xlsform import survey_rows
from havens.zones.models import SiteStatus
from tests.people.conftest import RealDatabase, World
from tests.people.test_odk_exports import central_export, zipped
from tests.web.test_pages import _csrf, log_in

TODAY = dt.date(2026, 6, 1)
HEADER = ["household_ref", "site_code", "relationship", "given_name", "family_name", "sex",
          "date_of_birth", "arrival_date", "consent", "consent_given_by"]


def member(ref: str, relationship: str, given: str, site: str, consent: str = "yes"
           ) -> list[str]:
    return [ref, site, relationship, given, "الحمود", "M" if given != "سارة" else "F",
            "1990-01-01" if relationship == "head" else "2015-01-01", "2026-04-01", consent,
            "head"]


def as_csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def run(db: Session, world: World, cipher: FieldCipher, data: bytes, name: str, **options: bool
        ) -> importing.ImportReport:
    return importing.import_file(db, actor=world.p(world.registrar), data=data, filename=name,
                                 cipher=cipher, today=TODAY, **options)


def problems(report: importing.ImportReport) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in report.problems]


# --- consent ------------------------------------------------------------------------------

def test_a_file_without_consent_needs_the_importers_word(db: Session, world: World,
                                                         cipher: FieldCipher) -> None:
    site = world.sites[0].code
    rows = [row[:-2] for row in (member("C-1", "head", "أحمد", site),
                                 member("C-1", "child", "سارة", site))]
    data = as_csv(rows, HEADER[:-2])
    with pytest.raises(ValidationFailed) as refused:
        run(db, world, cipher, data, "no-consent.csv")
    assert refused.value.field == "consent" and "--consent-recorded" in refused.value.message
    assert db.scalar(select(Household.id)) is None

    report = run(db, world, cipher, data, "no-consent.csv", consent_recorded=True)
    assert report.written and report.individuals_created == 2
    household = db.scalars(select(Household)).one()
    assert household.consent_registration and household.consent_given_by is None
    audit = db.scalars(select(AuditRecord).where(AuditRecord.action == "people.import")).one()
    assert audit.detail["consent_recorded"] is True


def test_blank_or_refused_consent_is_named_on_its_row(db: Session, world: World,
                                                      cipher: FieldCipher) -> None:
    site = world.sites[0].code
    data = as_csv([member("C-1", "head", "أحمد", site), member("C-2", "head", "خالد", site, ""),
                   member("C-3", "head", "عمر", site, "no")])
    report = run(db, world, cipher, data, "consent.csv")
    assert not report.written
    assert problems(report) == [
        (3, "consent", "is required: yes when the household consented to registration"),
        (4, "consent", "registration without consent is not recorded")]
    # The importer's word covers blank cells, never a household's "no".
    report = run(db, world, cipher, data, "consent.csv", consent_recorded=True)
    assert problems(report) == [(4, "consent", "registration without consent is not recorded")]
    report = run(db, world, cipher, data, "consent.csv", consent_recorded=True,
                 skip_invalid=True)
    assert report.written and report.skipped_rows == [4] and report.individuals_created == 2
    givers = {h.household_ref: h.consent_given_by for h in db.scalars(select(Household))}
    assert givers == {"C-1": "head", "C-2": "head"}


def test_template_and_form_carry_consent_and_who_gave_it() -> None:
    assert {"consent", "consent_given_by"} <= set(records.COLUMNS)
    names = [row["name"] for row in survey_rows()]
    assert names.index("consent") < names.index("consent_given_by") < names.index("member")


# --- rows joining households registered before ---------------------------------------------

def test_a_later_export_adds_members_and_counts_them_in_the_arrival(
        db: Session, world: World, cipher: FieldCipher) -> None:
    site = world.sites[0].code
    first = [member("J-1", "head", "أحمد", site)]
    assert run(db, world, cipher, as_csv(first), "day1.csv").individuals_created == 1
    # The next day's export holds yesterday's row again and a new member.
    report = run(db, world, cipher, as_csv([*first, member("J-1", "child", "سارة", site)]),
                 "day2.csv")
    assert report.written and report.problems == []
    assert (report.rows_already_present, report.households_created,
            report.individuals_created) == (1, 0, 1)
    household = db.scalars(select(Household)).one()
    assert len(db.scalars(select(Individual).where(
        Individual.household_id == household.id)).all()) == 2
    # The child arrives the day the registration learns of her: the household's own arrival,
    # perhaps published already, is not rewritten.
    arrivals = db.execute(select(Movement.moved_on, Movement.individuals, Movement.site_id)
                          .where(Movement.kind == MovementKind.arrival)
                          .order_by(Movement.id)).all()
    assert [tuple(a) for a in arrivals] == [(dt.date(2026, 4, 1), 1, world.sites[0].id),
                                            (TODAY, 1, world.sites[0].id)]


def test_rows_already_imported_are_not_judged_again(db: Session, world: World,
                                                    cipher: FieldCipher) -> None:
    """A later export repeats every earlier submission: rules that changed since (a site
    closed, consent now required) judge only the new rows."""
    here, there = world.sites[0], world.sites[1]
    old = [member("O-1", "head", "أحمد", here.code)[:-2]]
    assert run(db, world, cipher, as_csv(old, HEADER[:-2]), "old.csv",
               consent_recorded=True).written
    here.status = SiteStatus.closed
    db.flush()
    later = [[*old[0], "", ""], member("O-2", "head", "خالد", there.code)]
    report = run(db, world, cipher, as_csv(later), "later.csv")
    assert report.problems == [] and report.written
    assert (report.rows_already_present, report.individuals_created) == (1, 1)
    # A new row at the closed site is judged, and refused.
    report = run(db, world, cipher, as_csv([*later, member("O-3", "head", "عمر", here.code)]),
                 "latest.csv")
    assert problems(report) == [(4, "site_code", f"site {here.code} is closed, not open")]


def test_rows_cannot_join_a_household_elsewhere_gone_merged_or_with_a_head(
        db: Session, world: World, cipher: FieldCipher) -> None:
    here, there = world.sites[0].code, world.sites[1].code
    run(db, world, cipher, as_csv([member(ref, "head", "أحمد", here)
                                   for ref in ("K-1", "K-2", "K-3", "K-4")]), "first.csv")
    numbers = {h.household_ref: h.registration_number for h in db.scalars(select(Household))}
    gone = db.scalars(select(Household).where(Household.household_ref == "K-3")).one()
    gone.status = HouseholdStatus.departed
    kept = db.scalars(select(Household).where(Household.household_ref == "K-1")).one()
    merged = db.scalars(select(Household).where(Household.household_ref == "K-4")).one()
    merged.merged_into_id = kept.id
    db.flush()

    report = run(db, world, cipher, as_csv([
        member("K-1", "child", "سارة", there),   # row 2: at another site
        member("K-2", "head", "خالد", here),     # row 3: a second head
        member("K-3", "child", "عمر", here),     # row 4: departed
        member("K-4", "child", "علي", here),     # row 5: merged away
        member("K-2", "child", "ليلى", here),    # row 6: joins K-2: fine
    ]), "second.csv")
    assert not report.written
    assert problems(report) == [
        (2, "site_code", f"household K-1 ({numbers['K-1']}) is registered at site {here}; "
                         "a move is recorded, not imported"),
        (3, "relationship", f"household K-2 ({numbers['K-2']}) already has a head"),
        (4, "household_ref", f"household K-3 ({numbers['K-3']}) is departed, no longer at "
                             "its site"),
        (5, "household_ref", f"household K-4 ({numbers['K-4']}) was merged into another "
                             "registration; add members there")]


def test_a_closed_or_planned_site_takes_no_registrations(db: Session, world: World,
                                                         cipher: FieldCipher) -> None:
    closed, planned = world.sites[0], world.sites[1]
    closed.status, planned.status = SiteStatus.closed, SiteStatus.planned
    db.flush()
    report = run(db, world, cipher, as_csv([member("S-1", "head", "أحمد", closed.code),
                                            member("S-2", "head", "خالد", planned.code)]),
                 "sites.csv")
    assert problems(report) == [
        (2, "site_code", f"site {closed.code} is closed, not open"),
        (3, "site_code", f"site {planned.code} is planned, not open")]


# --- the API and the page -------------------------------------------------------------------

def test_api_and_page_take_the_importers_word(client: TestClient, world: World,
                                              token_for, db: Session) -> None:
    site = world.sites[0].code
    data = as_csv([row[:-2] for row in (member("A-1", "head", "أحمد", site),)], HEADER[:-2])
    refused = client.post("/api/v1/imports", headers=token_for(world.registrar),
                          files={"file": ("a.csv", data, "text/csv")})
    assert refused.status_code == 422 and "consent" in refused.text
    done = client.post("/api/v1/imports", headers=token_for(world.registrar),
                       files={"file": ("a.csv", data, "text/csv")},
                       data={"consent_recorded": "true"})
    assert done.status_code == 200 and done.json()["individuals_created"] == 1

    log_in(client, world.registrar.email)
    form = client.get("/people/import").text
    assert 'name="consent_recorded"' in form and 'name="mapping"' in form
    mapped = "Famille,Lien,Nom,Genre,Né,Venu\nP-1,head,Lina,F,1990-02-02,2026-04-02\n"
    page = client.post("/people/import", data={
        "csrf_token": _csrf(form), "site_code": site, "consent_recorded": "1"}, files={
        "file": ("mapped.csv", mapped.encode(), "text/csv"),
        "mapping": ("mapping.json", json.dumps({
            "Famille": "household_ref", "Lien": "relationship", "Nom": "given_name",
            "Genre": "sex", "Né": "date_of_birth", "Venu": "arrival_date"}).encode(),
            "application/json")})
    assert page.status_code == 200 and 'class="alert ok"' in page.text, page.text
    # The page checks what the file is, as the API does.
    fake = client.post("/people/import", data={"csrf_token": _csrf(form), "site_code": site},
                       files={"file": ("book.xlsx", b"not a workbook", "application/zip")})
    assert fake.status_code == 422 and "not an Excel workbook" in fake.text


def test_api_takes_an_odk_central_zip(client: TestClient, world: World, token_for) -> None:
    data = zipped(central_export(world))
    done = client.post("/api/v1/imports", headers=token_for(world.registrar),
                       files={"file": ("export.zip", data, "application/zip")})
    assert done.status_code == 200, done.text
    assert (done.json()["households_created"], done.json()["individuals_created"]) == (2, 5)
    renamed = client.post("/api/v1/imports", headers=token_for(world.registrar),
                          files={"file": ("export.zip", b"id,name\n1,a\n", "text/csv")})
    assert renamed.status_code == 422 and "not a ZIP file" in renamed.text


def test_cli_takes_the_importers_word(real_db: RealDatabase, tmp_path) -> None:
    site = real_db.site_codes[0]
    path = tmp_path / "no-consent.csv"
    path.write_bytes(as_csv([member("L-1", "head", "أحمد", site)[:-2]], HEADER[:-2]))
    runner = CliRunner()
    refused = runner.invoke(app, ["people", "import", str(path), "--org", "UNHCR"])
    assert refused.exit_code == 2 and "[consent]" in refused.output
    assert "--consent-recorded" in refused.output
    done = runner.invoke(app, ["people", "import", str(path), "--org", "UNHCR",
                               "--consent-recorded"])
    assert done.exit_code == 0, done.output
    with session_scope(real_db.url) as db:
        audit = db.scalars(select(AuditRecord).where(
            AuditRecord.action == "people.import")).one()
        assert audit.detail["consent_recorded"] is True


def test_the_same_file_imported_at_the_same_moment_lands_once(
        db: Session, world: World, cipher: FieldCipher, monkeypatch: pytest.MonkeyPatch) -> None:
    data = as_csv([member("R-1", "head", "أحمد", world.sites[0].code)])
    assert run(db, world, cipher, data, "race.csv").written
    # The other session's import commits between this one's first look and its own record.
    looked = importing._previous_import
    calls: list[int] = []

    def not_yet(*args: object, **kwargs: object) -> importing.ImportReport | None:
        calls.append(1)
        return None if len(calls) == 1 else looked(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importing, "_previous_import", not_yet)
    again = run(db, world, cipher, data, "race.csv")
    assert again.already_imported and not again.written and len(calls) == 2
    assert len(db.scalars(select(Individual)).all()) == 1


def test_consent_to_registration_is_not_withdrawn_by_an_update(
        client: TestClient, world: World, token_for, db: Session, cipher: FieldCipher) -> None:
    run(db, world, cipher, as_csv([member("W-1", "head", "أحمد", world.sites[0].code)]),
        "w.csv")
    household = db.scalars(select(Household)).one()
    refused = client.patch(f"/api/v1/households/{household.id}",
                           headers=token_for(world.registrar),
                           json={"consent": {"registration": False}})
    assert refused.status_code == 422 and "consent.registration" in refused.text
    db.refresh(household)
    assert household.consent_registration


def test_a_mapping_file_that_is_not_utf8_or_too_deep_is_refused(
        db: Session, world: World, cipher: FieldCipher) -> None:
    data = as_csv([member("M-1", "head", "أحمد", world.sites[0].code)])
    for mapping, reason in ((json.dumps({"العائلة": "household_ref"}, ensure_ascii=False)
                             .encode("cp1256"), "UTF-8"), (b"[" * 20_000, "flat JSON")):
        with pytest.raises(ValidationFailed) as refused:
            run(db, world, cipher, data, "m.csv", mapping=mapping)  # type: ignore[arg-type]
        assert refused.value.field == "mapping" and reason in refused.value.message


def test_a_new_household_needs_its_head(db: Session, world: World,
                                        cipher: FieldCipher) -> None:
    site = world.sites[0].code
    unread = member("N-2", "hed", "خالد", site)  # the head, mistyped: its own problem only
    report = run(db, world, cipher, as_csv([
        member("N-1", "child", "سارة", site), member("N-1", "child", "عمر", site),
        unread, member("N-2", "child", "ليلى", site),
        member("N-3", "head", "أحمد", site), member("N-3", "child", "علي", site)]), "n.csv")
    assert [(row, column) for row, column, _reason in problems(report)] == [
        (2, "relationship"), (3, "relationship"), (4, "relationship")]
    assert problems(report)[0][2] == "household N-1 has no head: one member's relationship " \
                                     "is head"
    skipped = run(db, world, cipher, as_csv([
        member("N-1", "child", "سارة", site), member("N-3", "head", "أحمد", site)]), "n2.csv",
        skip_invalid=True)
    assert skipped.skipped_rows == [2] and skipped.households_created == 1


def test_an_upload_is_checked_the_same_way_for_the_api_and_the_page(world: World) -> None:
    actor = world.p(world.registrar)
    csv_data = as_csv([member("U-1", "head", "أحمد", world.sites[0].code)])
    importing.check_upload_for_import(actor, "f.csv", csv_data, max_bytes=10_000, mapping=b"{}")
    with pytest.raises(ValidationFailed) as too_big:
        importing.check_upload_for_import(actor, "f.csv", csv_data, max_bytes=10,
                                          mapping=None)
    assert too_big.value.field == "file"
    with pytest.raises(ValidationFailed) as long_mapping:
        importing.check_upload_for_import(actor, "f.csv", csv_data, max_bytes=10_000,
                                          mapping=b" " * (importing.MAX_MAPPING_BYTES + 1))
    assert long_mapping.value.field == "mapping"
