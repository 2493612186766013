"""Retention: pseudonymise households that left more than N months ago.

What identifies a person goes — every name part (Arabic and Latin) and the folded search keys,
the day and month of birth (the year stays, marked estimated), the phone and identity document
(encrypted value, keyed hash and type), the import row key (a hash of the row's content), the
household's own reference, its locality of origin and its shelter position. What anonymous
statistics need stays: sex, age group (year of birth), relationship, specific-needs codes,
origin admin3 P-code, site, status and the dates of every movement.

Idempotent: a household with nothing left to remove is not touched again (nor audited again).
Audited: one record per run listing the household ids (never their content).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import ValidationFailed
from havens.orgs.permissions import Principal, require
from havens.people.models import Household, HouseholdStatus, Individual, Movement, MovementKind
from havens.people.records import NAME_PARTS

_NAME_COLUMNS = [f"{part}_{lang}" for part in NAME_PARTS for lang in ("ar", "en")]


@dataclass
class RetentionReport:
    months: int
    cutoff: dt.date
    dry_run: bool
    households: list[int] = field(default_factory=list)
    individuals: int = 0


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):  # the same day of the month, or the month's last day
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _identifying_left() -> ColumnElement[bool]:
    """SQL: the household still holds something that identifies someone."""
    member = exists().where(Individual.household_id == Household.id, or_(
        *[getattr(Individual, c).is_not(None) for c in _NAME_COLUMNS],
        Individual.name_key_ar != "", Individual.name_key_en != "",
        Individual.phone_enc.is_not(None), Individual.phone_hash.is_not(None),
        Individual.document_number_enc.is_not(None),
        Individual.document_number_hash.is_not(None), Individual.document_type.is_not(None),
        Individual.row_key.is_not(None), Individual.dob_estimated.is_(False)))
    return or_(Household.household_ref.is_not(None), Household.origin_locality.is_not(None),
               Household.shelter_lon.is_not(None), Household.shelter_lat.is_not(None), member)


def due(db: Session, *, cutoff: dt.date) -> list[int]:
    """Households no longer present whose last departure was before ``cutoff`` and that still
    hold identifying data."""
    last_left = (select(Movement.household_id, func.max(Movement.moved_on).label("left_on"))
                 .where(Movement.kind == MovementKind.departure)
                 .group_by(Movement.household_id).subquery())
    query = (select(Household.id).join(last_left, last_left.c.household_id == Household.id)
             .where(and_(Household.status != HouseholdStatus.present,
                         last_left.c.left_on < cutoff, _identifying_left()))
             .order_by(Household.id))
    return list(db.scalars(query))


def apply(db: Session, *, actor: Principal, months: int, dry_run: bool = False,
          today: dt.date | None = None) -> RetentionReport:
    """Pseudonymise the households that left more than ``months`` months ago."""
    require(actor, "people.retention")
    if months < 1:
        raise ValidationFailed("Keep households at least one month.", field="months")
    cutoff = _months_before(today or dt.date.today(), months)
    report = RetentionReport(months=months, cutoff=cutoff, dry_run=dry_run,
                             households=due(db, cutoff=cutoff))
    if not report.households:
        return report
    report.individuals = int(db.scalar(select(func.count()).where(
        Individual.household_id.in_(report.households))) or 0)
    if dry_run:
        return report
    for chunk in _chunks(report.households, 500):
        _pseudonymise(db, chunk)
    db.flush()
    audit.record(db, actor=actor, action="retention.pseudonymise", object_type="household",
                 detail={"months": months, "cutoff": cutoff.isoformat(),
                         "households": report.households, "individuals": report.individuals})
    return report


def _pseudonymise(db: Session, household_ids: list[int]) -> None:
    people = Individual.household_id.in_(household_ids)
    cleared = {c: None for c in _NAME_COLUMNS}
    db.execute(update(Individual).where(people).values(
        **cleared, name_key_ar="", name_key_en="", phone_enc=None, phone_hash=None,
        document_type=None, document_number_enc=None, document_number_hash=None, row_key=None,
        dob_estimated=True), execution_options={"synchronize_session": False})
    # Day and month of birth: mid-year, as for any estimated date (the age group survives).
    for person_id, born in db.execute(select(Individual.id, Individual.date_of_birth)
                                      .where(people)).all():
        if (born.month, born.day) != (7, 1):
            db.execute(update(Individual).where(Individual.id == person_id).values(
                date_of_birth=dt.date(born.year, 7, 1)),
                execution_options={"synchronize_session": False})
    db.execute(update(Household).where(Household.id.in_(household_ids)).values(
        household_ref=None, origin_locality=None, shelter_lon=None, shelter_lat=None),
        execution_options={"synchronize_session": False})
    db.expire_all()


def _chunks(values: list[int], size: int) -> list[list[int]]:
    return [values[i:i + size] for i in range(0, len(values), size)]
