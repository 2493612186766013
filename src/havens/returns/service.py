"""Area assessments of origin areas and the return status that follows from them.

An origin area is an admin3 P-code (sub-district). Any organisation may assess an area
(``returns.write``); everyone may read assessments (they hold no personal data). The area's
current status is that of its latest assessment (by date, then by recording order); the
status history is every assessment's status in date order. Rule: :mod:`criteria`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import NotFound, PermissionDenied, ValidationFailed
from havens.geo import service as geo_service
from havens.orgs import service as org_service
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, require
from havens.returns.criteria import CRITERIA, NOT_ASSESSED, Criterion, Rating, area_status
from havens.returns.models import AreaAssessment
from havens.returns.schemas import (
    AreaStatusRead,
    AssessmentCreate,
    AssessmentRead,
    CriterionRead,
    StatusChange,
)

ORIGIN_LEVEL = 3


def acting_organisation(db: Session, *, actor: Principal, acronym: str | None,
                        field: str = "organisation") -> Organisation:
    """The caller's organisation, or for the operator the one named."""
    if actor.organisation_id is not None:
        own = db.get(Organisation, actor.organisation_id)
        assert own is not None
        if acronym and acronym.strip().lower() != own.acronym.lower():
            raise PermissionDenied("You act for your own organisation only.", field=field)
        return own
    if not acronym:
        raise ValidationFailed("Name the organisation (acronym).", field=field)
    org = org_service.get_organisation_by_acronym(db, acronym=acronym, missing_ok=True)
    if org is None:
        raise ValidationFailed(f"No organisation with acronym {acronym}.", field=field)
    return org


def check_origin(db: Session, pcode: str, *, field: str = "pcode") -> str:
    """A known admin3 P-code, normalised."""
    checked = geo_service.check_pcodes(db, pcodes=[pcode], level=ORIGIN_LEVEL, field=field)
    if not checked:
        raise ValidationFailed("The P-code is empty.", field=field)
    return checked[0]


def create_assessment(db: Session, *, actor: Principal, data: AssessmentCreate,
                      today: dt.date | None = None) -> AssessmentRead:
    """Record an assessment of the eight criteria in an origin area; the rule gives its
    status, which is audited with the change it makes."""
    require(actor, "returns.write")
    pcode = check_origin(db, data.pcode)
    if data.assessed_on > (today or dt.date.today()):
        raise ValidationFailed("The assessment date is in the future.", field="assessed_on")
    ratings: dict[Criterion, Rating] = {}
    criteria: dict[str, dict[str, str | None]] = {}
    for index, item in enumerate(data.criteria):
        if item.criterion in ratings:
            raise ValidationFailed(f"{item.criterion.value} is rated twice.",
                                   field=f"criteria[{index}].criterion")
        ratings[item.criterion] = item.rating
        criteria[item.criterion.value] = {"rating": item.rating.value,
                                          "notes": (item.notes or "").strip() or None}
    for criterion in Criterion:
        criteria.setdefault(criterion.value, {"rating": Rating.unknown.value, "notes": None})
    org = acting_organisation(db, actor=actor, acronym=data.organisation)
    before = current_assessment(db, pcode=pcode)
    status, reason = area_status(ratings)
    assessment = AreaAssessment(
        pcode=pcode, assessed_on=data.assessed_on, organisation_id=org.id,
        assessed_by_user_id=actor.user_id, criteria=criteria, status=status,
        status_reason=reason, notes=(data.notes or "").strip() or None)
    db.add(assessment)
    db.flush()
    after = current_assessment(db, pcode=pcode)
    audit.record(db, actor=actor, action="return_area.assess", object_type="area_assessment",
                 object_id=assessment.id, detail={
                     "pcode": pcode, "assessed_on": data.assessed_on, "org": org.acronym,
                     "status": status.value, "reason": reason,
                     "area_status_before": before.status.value if before else NOT_ASSESSED,
                     "area_status_after": after.status.value if after else NOT_ASSESSED})
    return assessment_read(db, assessment)


def assessment_read(db: Session, assessment: AreaAssessment) -> AssessmentRead:
    area = geo_service.get_area(db, pcode=assessment.pcode)
    org = db.get(Organisation, assessment.organisation_id)
    return AssessmentRead(
        id=assessment.id, pcode=assessment.pcode, area_name_en=area.name_en,
        area_name_ar=area.name_ar, assessed_on=assessment.assessed_on,
        organisation=org.acronym if org else "?",
        criteria=[CriterionRead(
            criterion=c, label_en=CRITERIA[c].label_en, label_ar=CRITERIA[c].label_ar,
            rating=Rating(assessment.criteria.get(c.value, {}).get("rating", "unknown")),
            notes=assessment.criteria.get(c.value, {}).get("notes")) for c in Criterion],
        status=assessment.status, status_reason=assessment.status_reason,
        notes=assessment.notes)


def get_assessment(db: Session, *, actor: Principal, assessment_id: int) -> AssessmentRead:
    require(actor, "returns.read")
    assessment = db.get(AreaAssessment, assessment_id)
    if assessment is None:
        raise NotFound(f"No assessment {assessment_id}.", field="assessment_id")
    return assessment_read(db, assessment)


def _in_order(pcode: str, on: dt.date | None = None) -> Select[AreaAssessment]:
    query = select(AreaAssessment).where(AreaAssessment.pcode == pcode)
    if on is not None:
        query = query.where(AreaAssessment.assessed_on <= on)
    return query.order_by(AreaAssessment.assessed_on, AreaAssessment.id)


def current_assessment(db: Session, *, pcode: str, on: dt.date | None = None
                       ) -> AreaAssessment | None:
    """The latest assessment of the area (on or before ``on`` when given)."""
    query = _in_order(pcode, on).order_by(None).order_by(
        AreaAssessment.assessed_on.desc(), AreaAssessment.id.desc()).limit(1)
    return db.scalar(query)


def area_status_read(db: Session, *, actor: Principal, pcode: str) -> AreaStatusRead:
    """The area's current return status and its history."""
    require(actor, "returns.read")
    pcode = check_origin(db, pcode)
    area = geo_service.get_area(db, pcode=pcode)
    assessments = list(db.scalars(_in_order(pcode)))
    orgs = {o.id: o.acronym for o in db.scalars(select(Organisation).where(
        Organisation.id.in_({a.organisation_id for a in assessments})))}
    history: list[StatusChange] = []
    for assessment in assessments:
        changed = not history or history[-1].status != assessment.status
        history.append(StatusChange(
            assessed_on=assessment.assessed_on, status=assessment.status,
            organisation=orgs.get(assessment.organisation_id, "?"),
            assessment_id=assessment.id, changed=changed))
    latest = assessments[-1] if assessments else None
    return AreaStatusRead(
        pcode=pcode, area_name_en=area.name_en, area_name_ar=area.name_ar,
        status=latest.status.value if latest else NOT_ASSESSED,
        status_reason=latest.status_reason if latest else None,
        assessment_id=latest.id if latest else None,
        assessed_on=latest.assessed_on if latest else None, history=history)


def list_assessments(db: Session, *, actor: Principal, pcode: str | None = None,
                     limit: int = 500) -> list[AssessmentRead]:
    require(actor, "returns.read")
    query = select(AreaAssessment).order_by(AreaAssessment.assessed_on.desc(),
                                            AreaAssessment.id.desc()).limit(limit)
    if pcode:
        query = query.where(AreaAssessment.pcode == check_origin(db, pcode))
    return [assessment_read(db, a) for a in db.scalars(query)]
