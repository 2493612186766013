"""3W activities: recording, permissions, coverage, and imports with row-level errors."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.assistance import activities, activity_import, gaps, service
from havens.assistance.models import Activity, ActivityStatus, Sector
from havens.assistance.schemas import ActivityCreate, ActivityUpdate, MeasurementsIn
from havens.exceptions import PermissionDenied, ValidationFailed
from havens.orgs.permissions import Principal
from tests.assistance.conftest import World, add_site, add_zone, zone_with_people

START = dt.date(2030, 2, 1)


def create(db: Session, w: World, *, actor: Principal | None = None, **overrides: object
           ) -> Activity:
    data = {"implementing_org": w.iom.acronym, "sector": "wash",
            "activity_type": "Water trucking", "start_date": START, "quantity": 60000,
            "unit": "l/day", "reached": {"girls": 10, "boys": 12, "women": 8, "men": 7},
            **overrides}
    return activities.create(db, actor=actor or w.p(w.provider),
                             data=ActivityCreate.model_validate(data, strict=False))


def test_create_list_update(db: Session, world: World) -> None:
    zone = add_zone(db)
    activity = create(db, world, zone=zone.code, funding_org="ECHO")
    assert (activity.activity_type, activity.reached_total, activity.donor) == (
        "water_trucking", 37, "ECHO")
    found = activities.list_activities(db, actor=world.p(world.viewer), zone=zone.code,
                                       sector=Sector.wash, on=dt.date(2030, 3, 1))
    assert [a.id for a in found] == [activity.id]
    assert activities.list_activities(db, actor=world.p(world.viewer),
                                      on=dt.date(2030, 1, 1)) == []
    activities.update(db, actor=world.p(world.provider), activity_id=activity.id,
                      data=ActivityUpdate(status=ActivityStatus.completed,
                                          end_date=dt.date(2030, 2, 28)))
    assert activities.list_activities(db, actor=world.p(world.viewer),
                                      on=dt.date(2030, 3, 1)) == []
    read = activities.read(activity, activities.zone_codes(db))
    assert read.activity_label == "Water trucking" and read.zone_code == zone.code


@pytest.mark.parametrize(("overrides", "field"), [
    ({"activity_type": "tent_distribution"}, "activity_type"),  # a shelter type under WASH
    ({"implementing_org": "NOPE"}, "implementing_org"),
    ({"end_date": dt.date(2030, 1, 1)}, "end_date"),
    ({"reached": {"total": 5, "girls": 3, "boys": 3}}, "reached"),
    ({"site": "CP999999"}, "site"),
])
def test_invalid_activities_name_the_field(db: Session, world: World,
                                           overrides: dict[str, object], field: str) -> None:
    zone = add_zone(db)
    with pytest.raises(ValidationFailed) as caught:
        create(db, world, zone=zone.code, **overrides)
    assert caught.value.field == field


def test_provider_records_only_its_own_organisations_activities(db: Session, world: World
                                                                 ) -> None:
    zone = add_zone(db)
    with pytest.raises(PermissionDenied):
        create(db, world, zone=zone.code, implementing_org=world.ngo.acronym)
    theirs = create(db, world, zone=zone.code, implementing_org=world.ngo.acronym,
                    actor=world.p(world.coordinator))
    with pytest.raises(PermissionDenied):
        activities.update(db, actor=world.p(world.provider), activity_id=theirs.id,
                          data=ActivityUpdate(status=ActivityStatus.cancelled))
    with pytest.raises(PermissionDenied):
        create(db, world, zone=zone.code, actor=world.p(world.viewer))


def test_coverage_shows_who_works_where_standards_are_not_met(db: Session, world: World
                                                               ) -> None:
    zone = zone_with_people(db, world.iom, 1000)
    create(db, world, zone=zone.code)
    create(db, world, zone=zone.code, sector="shelter", activity_type="tent_distribution",
           status="cancelled")
    service.record_measurements(db, actor=world.p(world.provider), data=MeasurementsIn(
        zone=zone.code, measured_on=START, values={"water_delivered_lpd": 10_000,
                                                   "covered_area_m2": 3000}))
    rows = {r["sector"]: r for r in gaps.coverage(db, actor=world.p(world.viewer),
                                                  on=dt.date(2030, 3, 1), zone_id=zone.id)}
    assert rows["wash"]["organisations"] == [{"organisation": world.iom.acronym,
                                              "activities": 1, "reached": 37}]
    assert rows["wash"]["unmet"] == ["needs 5,000 more l/day (Water quantity per person)"]
    assert rows["shelter"]["organisations"] == [] and rows["shelter"]["uncovered"] is True


# --- imports ---------------------------------------------------------------------------------

HXL_CSV = """Organisation,Donor,Sector,Activity,Governorate,Location,Start,End,Reached,Girls,Status
#org+impl,#org+funder,#sector,#activity,#adm1+code,#loc+name,#date+start,#date+end,#reached+ind,#reached+f+children,#status
{iom},ECHO,WASH,Water trucking,SY07,Test zone A,2030-02-01,,1200,300,ongoing
{iom},,Shelter/NFI,nfi_distribution,SY07,{code},01/03/2030,31/03/2030,"2,400",,completed
"""


def test_import_hxl_csv(db: Session, world: World) -> None:
    zone = add_zone(db, "SZ-TA-HXL")
    zone.name_en = "Test zone A"
    db.flush()
    data = HXL_CSV.format(iom=world.iom.acronym, code=zone.code).encode()
    report = activity_import.import_activities(db, actor=world.p(world.provider), data=data,
                                               filename="3w.csv")
    assert (report.rows, report.created, report.errors) == (2, 2, [])
    assert report.columns["Donor"] == "funding_org"
    rows = db.scalars(select(Activity).order_by(Activity.start_date)).all()
    assert [(a.sector, a.activity_type, a.reached_total, a.zone_id) for a in rows] == [
        (Sector.wash, "water_trucking", 1200, zone.id),
        (Sector.shelter, "nfi_distribution", 2400, zone.id)]
    assert rows[1].end_date == dt.date(2030, 3, 31) and rows[0].reached_girls == 300
    again = activity_import.import_activities(db, actor=world.p(world.provider), data=data,
                                              filename="3w.csv")
    assert again.already_imported and again.created == 0
    assert db.scalar(select(func.count()).select_from(Activity)) == 2


def test_import_is_atomic_with_row_errors(db: Session, world: World) -> None:
    zone = add_zone(db)
    site = add_site(db, zone)
    text = (
        "implementing_org,sector,activity_type,zone,site,start_date,reached,admin1\n"
        f"{world.iom.acronym},WASH,water_trucking,{zone.code},,2030-02-01,10,SY07\n"
        f"{world.iom.acronym},Nutrition,water_trucking,{zone.code},,2030-02-01,10,\n"
        f"{world.iom.acronym},WASH,water_trucking,,{site.code},2030-02-30,10,\n"
        f"{world.iom.acronym},WASH,water_trucking,{zone.code},,2030-02-01,ten,\n"
        f"{world.iom.acronym},WASH,water_trucking,{zone.code},,2030-02-01,10,SY02\n"
        f"{world.ngo.acronym},WASH,water_trucking,{zone.code},,2030-02-01,10,\n"
        f"{world.iom.acronym},WASH,tents,{zone.code},,2030-02-01,10,\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        activity_import.import_activities(db, actor=world.p(world.provider),
                                          data=text.encode(), filename="3w.csv")
    errors = [(e["row"], e["column"]) for e in caught.value.details["errors"]]
    assert errors == [(3, "sector"), (4, "start_date"), (5, "reached"), (6, "admin1"),
                      (7, "implementing_org"), (8, "activity_type")]
    reasons = [e["reason"] for e in caught.value.details["errors"]]
    assert "unknown sector 'Nutrition'" in reasons[0] and "not a number" in reasons[2]
    assert "not in governorate SY02" in reasons[3]
    assert db.scalar(select(func.count()).select_from(Activity)) == 0


def test_import_xlsx_and_missing_columns(db: Session, world: World) -> None:
    zone = add_zone(db)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Partner", "Cluster", "Activity", "Zone", "Start date", "Beneficiaries"])
    sheet.append([world.iom.acronym, "Health", "Vaccination", zone.code,
                  dt.datetime(2030, 2, 1), 150])
    buffer = io.BytesIO()
    book.save(buffer)
    report = activity_import.import_activities(db, actor=world.p(world.provider),
                                               data=buffer.getvalue(), filename="3w.xlsx")
    assert report.created == 1
    activity = db.scalar(select(Activity))
    assert activity is not None and activity.start_date == dt.date(2030, 2, 1)
    with pytest.raises(ValidationFailed) as caught:
        activity_import.import_activities(db, actor=world.p(world.provider),
                                          data=b"org,zone\nX,Y\n", filename="bad.csv")
    assert "sector" in caught.value.message and "start_date" in caught.value.message
