"""Demo data of the returns domain: assessments of the demo households' home areas, return
intention answers, and a few returns.

- The home areas most households come from are assessed against the eight IASC criteria,
  in turn not conducive, partly conducive and (one) conducive; the first two were assessed
  twice, so their status has a history.
- Some households (every n-th, up to ``INTENTIONS``) answered the return intention survey.
- A few households went home: spontaneously (also to an area not conducive, which is always
  recordable) and with IOM's facilitation to areas partly conducive or conducive.

What does not exist (organisations, households, geography) is skipped quietly.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.geo.models import AdminArea
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal
from havens.people.crypto import FieldCipher
from havens.people.models import Household, HouseholdStatus
from havens.returns import intentions, movements, service
from havens.returns.criteria import Criterion, Rating, ReturnStatus
from havens.returns.models import Intention
from havens.returns.schemas import (
    AssessmentCreate,
    ConsentIn,
    CriterionIn,
    IntentionCreate,
    ReturnCreate,
)

AREAS = 6
INTENTIONS = 60
ASSESSORS = ("UNHCR", "IOM", "NRC")
C, R = Criterion, Rating

#: Rating patterns, used in turn: not conducive, partly conducive, conducive.
PATTERNS: list[tuple[dict[Criterion, Rating], str]] = [
    ({C.safety_security: R.not_met, C.standard_of_living: R.not_met,
      C.livelihoods: R.not_met, C.housing_land_property: R.not_met,
      C.documentation: R.partly_met, C.family_reunification: R.unknown,
      C.participation: R.unknown, C.remedies_justice: R.not_met},
     "Front line within 5 km; daily shelling reported; most houses damaged."),
    ({C.safety_security: R.partly_met, C.standard_of_living: R.partly_met,
      C.livelihoods: R.not_met, C.housing_land_property: R.partly_met,
      C.documentation: R.met, C.family_reunification: R.partly_met,
      C.participation: R.partly_met, C.remedies_justice: R.not_met},
     "No shelling for three months; water network repaired; few jobs; property disputes."),
    ({C.safety_security: R.met, C.standard_of_living: R.partly_met, C.livelihoods: R.partly_met,
      C.housing_land_property: R.not_met, C.documentation: R.met,
      C.family_reunification: R.met, C.participation: R.partly_met,
      C.remedies_justice: R.partly_met},
     "Stable; schools and clinic open; housing, land and property claims pending."),
    (dict.fromkeys(Criterion, R.met), "Stable for a year; services restored; claims settled."),
]
#: Which pattern each home area gets, from the most common one down.
ORDER = (0, 1, 2, 3, 1, 0)
#: The earlier, worse assessment of the first areas (their status history).
EARLIER = ({**dict.fromkeys(Criterion, R.unknown), C.safety_security: R.not_met},
           "Area inaccessible; remote information only.")


def _home_areas(db: Session) -> list[str]:
    """The admin3 areas most present households come from (else a few Idlib sub-districts)."""
    counted = list(db.scalars(
        select(Household.origin_pcode).join(AdminArea, AdminArea.pcode == Household.origin_pcode)
        .where(AdminArea.level == 3, Household.status == HouseholdStatus.present)
        .group_by(Household.origin_pcode)
        .order_by(func.count(Household.id).desc(), Household.origin_pcode).limit(AREAS)))
    if counted:
        return [p for p in counted if p]
    return list(db.scalars(select(AdminArea.pcode).where(
        AdminArea.level == 3, AdminArea.pcode.like("SY07%")).order_by(AdminArea.pcode)
        .limit(AREAS)))


def load(db: Session, *, actor: Principal, cipher: FieldCipher | None = None,
         today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    orgs = {o.acronym: o for o in db.scalars(select(Organisation))}
    assessors = [a for a in ASSESSORS if a in orgs]
    if not assessors:
        return
    areas = _home_areas(db)
    statuses: dict[str, ReturnStatus] = {}
    for index, pcode in enumerate(areas):
        ratings, notes = PATTERNS[ORDER[index % len(ORDER)]]
        if index < 2:
            _assess(db, actor, pcode, *EARLIER, on=today - dt.timedelta(days=120),
                    org=assessors[0])
        statuses[pcode] = _assess(db, actor, pcode, ratings, notes,
                                  on=today - dt.timedelta(days=30 - index),
                                  org=assessors[index % len(assessors)])
    if not areas:
        return
    rng = random.Random(2026)
    present = list(db.scalars(select(Household).where(
        Household.status == HouseholdStatus.present).order_by(Household.id)))
    acronyms = {o.id: o.acronym for o in orgs.values()}
    for household in present[::max(1, len(present) // INTENTIONS)][:INTENTIONS]:
        _intention(db, actor, household, acronyms[household.organisation_id], rng, today)
    from_areas = [h for h in present if h.origin_pcode in statuses]
    _returns(db, actor, from_areas, statuses, acronyms, orgs, cipher, today)


def _assess(db: Session, actor: Principal, pcode: str, ratings: dict[Criterion, Rating],
            notes: str, *, on: dt.date, org: str) -> ReturnStatus:
    return service.create_assessment(db, actor=actor, data=AssessmentCreate(
        pcode=pcode, assessed_on=on, notes=notes, organisation=org,
        criteria=[CriterionIn(criterion=c, rating=r) for c, r in ratings.items()])).status


def _intention(db: Session, actor: Principal, household: Household, acronym: str,
               rng: random.Random, today: dt.date) -> None:
    intention = rng.choices(list(Intention), weights=[2, 3, 4, 3, 5])[0]
    surveyed_on = max(household.arrival_date, today - dt.timedelta(days=rng.randint(5, 60)))
    if surveyed_on > today:
        return
    preconditions = rng.sample(sorted(intentions.PRECONDITIONS), k=rng.randint(1, 3))
    intentions.record_intention(db, actor=actor, organisation=acronym, today=today,
                                data=IntentionCreate(
                                    household_id=household.id, surveyed_on=surveyed_on,
                                    intention=intention, preconditions=preconditions,
                                    external_ref=f"DEMO-INT-{household.id}"))


def _returns(db: Session, actor: Principal, households: list[Household],
             statuses: dict[str, ReturnStatus], acronyms: dict[int, str],
             orgs: dict[str, Organisation], cipher: FieldCipher | None, today: dt.date) -> None:
    """Two spontaneous returns and, with IOM, two facilitated ones to areas that allow it."""
    spontaneous = facilitated = 0
    for number, household in enumerate(households):
        returned_on = today - dt.timedelta(days=3 + 4 * number)
        if returned_on < household.arrival_date or household.origin_pcode not in statuses:
            continue
        allowed = statuses[household.origin_pcode] != ReturnStatus.not_conducive
        if facilitated < 2 and allowed and "IOM" in orgs:
            data = ReturnCreate(
                household_id=household.id, kind="facilitated", facilitated_by="IOM",
                returned_on=returned_on, voluntary=True, transport_support="vehicle",
                transport_details="IOM bus from the zone to the district centre",
                consent=ConsentIn(informed_by="IOM return counsellor",
                                  informed_on=returned_on - dt.timedelta(days=10),
                                  informed_of=["conditions_in_area", "right_to_remain",
                                               "safety_situation", "assistance_available"]))
            facilitated += 1
        elif spontaneous < 2:
            data = ReturnCreate(household_id=household.id, kind="spontaneous",
                                returned_on=returned_on, voluntary=True)
            spontaneous += 1
        else:
            continue
        movements.record_return(db, actor=actor, data=data,
                                organisation=acronyms[household.organisation_id],
                                cipher=cipher, today=today)
        if facilitated >= 2 and spontaneous >= 2:
            return
