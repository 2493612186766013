"""Bulk import: validation report, all-or-nothing, skip-invalid, idempotence, file shapes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from functools import lru_cache

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.audit.models import AuditRecord
from havens.exceptions import ValidationFailed
from havens.orgs.models import User
from havens.people import importing
from havens.people.crypto import FieldCipher
from havens.people.generator import CSV_COLUMNS, Generator, to_csv
from havens.people.models import Household, Individual
from tests.people.conftest import World

TODAY = dt.date(2026, 6, 1)


@lru_cache
def generated(count: int) -> tuple[dict[str, str], ...]:
    return tuple(Generator(seed=11, origins=["SY070000", "SY070001"], today=TODAY,
                           ref_prefix="T").rows(count))


def count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def run(db: Session, world: World, cipher: FieldCipher, data: bytes, *, name: str = "f.csv",
        **options: object) -> importing.ImportReport:
    options.setdefault("site_code", world.sites[0].code)
    return importing.import_file(db, actor=world.p(world.registrar), data=data, filename=name,
                                 cipher=cipher, today=TODAY, **options)  # type: ignore[arg-type]


def test_ten_thousand_rows_with_three_bad_rows(db: Session, world: World,
                                               cipher: FieldCipher) -> None:
    rows = [dict(r) for r in generated(10_000)[:10_000]]
    rows[10]["sex"] = "X"                      # file row 12
    rows[5000]["date_of_birth"] = "2031-02-30"  # file row 5002
    rows[9998]["specific_needs"] = "DS;ZZ"     # file row 10000
    data = to_csv(rows)
    report = run(db, world, cipher, data)
    assert not report.written and report.rows == 10_000
    assert [(p.row, p.column) for p in report.problems] == [
        (12, "sex"), (5002, "date_of_birth"), (10000, "specific_needs")]
    assert count(db, Individual) == 0 and count(db, Household) == 0

    skipped = run(db, world, cipher, data, skip_invalid=True)
    assert skipped.written and skipped.skipped_rows == [12, 5002, 10000]
    assert skipped.individuals_created == 9_997 == count(db, Individual)
    assert count(db, Household) == skipped.households_created
    audits = db.scalars(select(AuditRecord).where(AuditRecord.action == "people.import")).all()
    assert len(audits) == 1 and audits[0].detail["individuals_created"] == 9_997

    again = run(db, world, cipher, data, skip_invalid=True)
    assert again.already_imported and not again.written
    # The same rows in another file (other order, one row fixed): only the fixed row is new.
    rows[10]["sex"] = "F"
    reordered = to_csv(list(reversed(rows)))
    third = run(db, world, cipher, reordered, skip_invalid=True)
    assert third.written and third.rows_already_present == 9_997
    assert third.individuals_created == 1 and third.households_created == 0
    assert count(db, Individual) == 9_998


def test_households_and_numbers_from_rows(db: Session, world: World, cipher: FieldCipher
                                         ) -> None:
    rows = list(generated(40))
    report = run(db, world, cipher, to_csv(rows))
    assert report.written and report.problems == []
    refs = {r["household_ref"] for r in rows}
    assert report.households_created == len(refs)
    numbers = sorted(db.scalars(select(Household.registration_number)))
    assert numbers[0] == f"{world.sites[0].code}-000001"
    assert numbers[-1] == f"{world.sites[0].code}-{len(refs):06d}"
    sizes = {ref: n for ref, n in db.execute(
        select(Household.household_ref, func.count(Individual.id))
        .join(Individual).group_by(Household.household_ref))}
    assert sizes == {ref: sum(1 for r in rows if r["household_ref"] == ref) for ref in refs}


def test_row_level_rules(db: Session, world: World, cipher: FieldCipher) -> None:
    rows = [dict(r) for r in generated(40)[:6]]
    ref = rows[0]["household_ref"]
    rows[1]["household_ref"] = ref
    rows[1]["relationship"] = "head"
    rows[2]["household_ref"] = ref
    rows[2]["arrival_date"] = "2020-01-01"
    rows[2]["displacement_date"] = "2019-12-01"
    rows[3]["origin_pcode"] = "SY0700"
    rows[4]["site_code"] = "CP999999"
    rows[5]["phone"] = "12"
    rows.append(dict(rows[0]))
    report = run(db, world, cipher, to_csv(rows))
    got = {(p.row, p.column) for p in report.problems}
    assert {(3, "relationship"), (4, "arrival_date"), (5, "origin_pcode"), (6, "site_code"),
            (7, "phone"), (8, "household_ref")} <= got
    assert "not an admin3" in next(p.reason for p in report.problems if p.row == 5)


def test_kobo_xlsx_export_with_repeat_sheet(db: Session, world: World, cipher: FieldCipher
                                           ) -> None:
    book = Workbook()
    main = book.active
    assert main is not None
    main.title = "Havens registration"
    main.append(["start", "household/site_code", "household/consent",
                 "household/origin_pcode", "household/arrival_date", "_id", "_uuid", "_index"])
    main.append(["2026-05-01", world.sites[1].code, "yes", "SY070001",
                 dt.datetime(2026, 5, 1), 77, "uuid-aaa", 1])
    members = book.create_sheet("member")
    members.append(["household/member/relationship", "household/member/given_name_ar",
                    "household/member/given_name_en", "household/member/sex",
                    "household/member/birth_year", "household/member/specific_needs",
                    "household/member/specific_needs/DS", "_index", "_parent_index"])
    members.append(["head", "خالد", "Khaled", "M", 1970, "DS SM", 1, 1, 1])
    members.append(["child", "ريم", "Reem", "F", 2015, "", 0, 2, 1])
    out = io.BytesIO()
    book.save(out)
    report = run(db, world, cipher, out.getvalue(), name="export.xlsx", site_code=None)
    assert report.written, report.problems
    assert report.individuals_created == 2 and report.households_created == 1
    household = db.scalar(select(Household))
    assert household is not None and household.household_ref == "uuid-aaa"
    assert household.site_id == world.sites[1].id
    head = db.scalar(select(Individual).where(Individual.relationship == "head"))
    assert head is not None and head.specific_needs == ["DS", "SM"] and head.dob_estimated


def test_hxl_tagged_file_and_mapping_file(db: Session, world: World, cipher: FieldCipher
                                         ) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Household", "Relation", "Prénom", "Sexe", "Naissance", "Arrivée",
                     "Téléphone"])
    writer.writerow(["#beneficiary+household+code", "#beneficiary+relationship",
                     "#beneficiary+name+given+i_en", "#beneficiary+sex", "#date+birth",
                     "#date+arrival", "#contact+phone"])
    writer.writerow(["H1", "head", "Omar", "M", "1980-01-01", "2026-04-01", "0944 111 222"])
    writer.writerow(["H1", "child", "Sara", "F", "2019", "2026-04-01", ""])
    # HXL has no hashtag for consent: the importer confirms the form recorded it.
    report = run(db, world, cipher, out.getvalue().encode(), name="hxl.csv",
                 consent_recorded=True)
    assert report.written and report.individuals_created == 2, report.problems
    assert report.mapping["Prénom"] == "given_name_en"

    mapped = "Famille,Lien,Nom,Genre,Né,Venu\nF9,head,Lina,F,1990-02-02,2026-04-02\n"
    mapping = json.dumps({"Famille": "household_ref", "Lien": "relationship",
                          "Nom": "given_name", "Genre": "sex", "Né": "date_of_birth",
                          "Venu": "arrival_date"})
    report = run(db, world, cipher, mapped.encode(), name="mapped.csv", mapping=mapping,
                 consent_recorded=True)
    assert report.written and report.individuals_created == 1
    with pytest.raises(ValidationFailed):
        run(db, world, cipher, mapped.encode(), name="m2.csv",
            mapping=json.dumps({"Nom": "nickname"}))
    with pytest.raises(ValidationFailed) as no_key:
        run(db, world, cipher, b"given_name,sex\nA,M\n", name="nokey.csv")
    assert no_key.value.field == "household_ref"


def test_api_upload(client: TestClient, world: World,
                    token_for: Callable[[User], dict[str, str]]) -> None:
    data = to_csv(list(generated(40)[:12]))
    response = client.post("/api/v1/imports", headers=token_for(world.registrar),
                           files={"file": ("reg.csv", data, "text/csv")},
                           data={"site_code": world.sites[0].code})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["written"] and body["individuals_created"] == 12
    refused = client.post("/api/v1/imports", headers=token_for(world.liaison),
                          files={"file": ("reg.csv", data, "text/csv")},
                          data={"site_code": world.sites[0].code})
    assert refused.status_code == 403
    wrong_type = client.post("/api/v1/imports", headers=token_for(world.registrar),
                             files={"file": ("reg.exe", b"MZ", "application/octet-stream")})
    assert wrong_type.status_code == 422


def test_generated_columns_are_canonical() -> None:
    from havens.people.tabular import KNOWN_COLUMNS

    assert set(CSV_COLUMNS) <= KNOWN_COLUMNS
