"""HXL round trips through the other domains' importers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from havens.assistance.activity_import import import_activities
from havens.assistance.models import Activity
from havens.config import Settings
from havens.orgs.models import Role, User
from havens.people.crypto import FieldCipher
from havens.people.importing import import_file
from havens.people.models import Household, Individual, Sex
from havens.zones.models import Site
from tests.conftest import principal
from tests.interop.conftest import TODAY, World
from tests.interop.helpers import run


def test_3w_exported_as_hxl_is_imported_back(db: Session, world: World) -> None:
    coordinator = world.p(world.coordinator)
    data = run(db, coordinator, "activities")
    before = [(a.implementing_org_id, a.sector, a.activity_type, a.zone_id, a.site_id,
               a.start_date, a.end_date, a.reached_total, a.reached_girls, a.quantity, a.unit,
               a.status, a.notes)
              for a in db.scalars(select(Activity).order_by(Activity.start_date))]
    db.execute(delete(Activity))
    report = import_activities(db, actor=coordinator, data=data, filename="3w.csv")
    assert report.created == 2 and not report.errors
    # Recognised by hashtag: the columns came from the HXL row.
    assert set(report.columns.values()) >= {"implementing_org", "sector", "activity_type",
                                            "start_date", "reached_total", "location_code"}
    after = [(a.implementing_org_id, a.sector, a.activity_type, a.zone_id, a.site_id,
              a.start_date, a.end_date, a.reached_total, a.reached_girls, a.quantity, a.unit,
              a.status, a.notes)
             for a in db.scalars(select(Activity).order_by(Activity.start_date))]
    assert after == before


def test_3w_xlsx_is_imported_back_too(db: Session, world: World) -> None:
    coordinator = world.p(world.coordinator)
    data = run(db, coordinator, "activities", "xlsx")
    db.execute(delete(Activity))
    report = import_activities(db, actor=coordinator, data=data, filename="3w.xlsx")
    assert report.created == 2


def test_registered_individuals_exported_as_hxl_are_imported_back(
        db: Session, world: World, settings: Settings, make_user: Callable[..., User]) -> None:
    """Moving a caseload between Havens instances: export it (with a purpose), import it
    elsewhere — here as another organisation of the same database."""
    data = run(db, world.p(world.registrar), "registered-individuals",
               purpose="Transfer of the caseload to SARC")
    sarc_registrar = principal(make_user(Role.registrar, org=world.sarc))
    report = import_file(db, actor=sarc_registrar, data=data, filename="caseload.csv",
                         cipher=FieldCipher.from_settings(settings), today=TODAY)
    assert not report.problems, report.problems[:3]

    def people(org_id: int) -> list[tuple[str, str | None, str, dt.date, str | None]]:
        rows = db.execute(select(Household.household_ref, Individual.given_name_ar,
                                 Individual.sex, Individual.date_of_birth, Site.code)
                          .join(Household, Household.id == Individual.household_id)
                          .join(Site, Site.id == Household.site_id)
                          .where(Individual.organisation_id == org_id))
        return sorted((ref or "", name, Sex(sex).value, born, site)
                      for ref, name, sex, born, site in rows)

    exported = people(world.unhcr.id)
    imported = [p for p in people(world.sarc.id) if p[0] in {e[0] for e in exported}]
    assert imported == exported and len(imported) == 6 * 4 + 3 * 3 + 2 * 3 + 1
