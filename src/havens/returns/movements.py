"""Recording a household's return home: voluntary, informed, and checked against the area.

- Every return is *voluntary* (``voluntary`` must be true: a forced movement is a protection
  incident, not a return) and is recorded by the household's registering organisation
  (registrar, coordinator or admin, as any change of registration).
- A **facilitated** return (organised by an agency) needs an informed-consent record — who
  informed the household, when, and of what, including at least the conditions in the area
  and their right to stay (:data:`REQUIRED_FOR_FACILITATED`) — and is **refused** when the
  destination is ``not_conducive`` or was never assessed, unless a coordinator (or admin)
  overrides it with a recorded reason. The refusal and the override are both audited; the
  refusal's audit record is kept although the request fails (``keep_writes``).
- A **spontaneous** return (the household's own decision and means) is always recordable;
  a consent record is kept when one was made.

The household leaves its site through the people domain (a departure with destination
``return_to_origin``; its status becomes ``returned``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import Conflict, PermissionDenied, ValidationFailed
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, can, require
from havens.people import service as people_service
from havens.people.crypto import FieldCipher
from havens.people.models import DestinationType, HouseholdStatus, Movement, MovementKind
from havens.people.schemas import DepartRequest
from havens.returns import households
from havens.returns.criteria import NOT_ASSESSED, ReturnStatus
from havens.returns.models import ReturnKind, ReturnMovement
from havens.returns.schemas import ReturnCreate, ReturnRead
from havens.returns.service import acting_organisation, check_origin, current_assessment
from havens.zones.models import Site

#: What a household may be informed of before returning.
INFORMED_OF: dict[str, str] = {
    "conditions_in_area": "Conditions in the area of return (the latest area assessment)",
    "safety_situation": "The safety and security situation, including explosive remnants",
    "right_to_remain": "That return is voluntary and they may stay in the zone",
    "assistance_available": "Assistance available for the return and at destination",
    "housing_land_property": "How to reclaim housing, land and property",
    "documentation": "How to obtain or replace civil documentation",
    "transport_arrangements": "Transport arrangements and what to bring",
}
REQUIRED_FOR_FACILITATED = ("conditions_in_area", "right_to_remain")
#: Destination statuses to which an agency may not organise a return without an override.
BLOCKING = frozenset({ReturnStatus.not_conducive.value, NOT_ASSESSED})
MIN_OVERRIDE_REASON = 10


class ReturnRefused(Conflict):
    """A facilitated return to an area that is not conducive, without an override."""

    code = "return_refused"
    keep_writes = True  # the refusal's audit record must survive the failed request


class OverrideNotAllowed(PermissionDenied):
    code = "override_not_allowed"
    keep_writes = True


def _check_consent(data: ReturnCreate) -> None:
    consent = data.consent
    if consent is None:
        if data.kind == ReturnKind.facilitated:
            raise ValidationFailed("A facilitated return needs the informed-consent record: "
                                   "who informed the household, when, of what.",
                                   field="consent")
        return
    unknown = [t for t in consent.informed_of if t not in INFORMED_OF]
    if unknown:
        raise ValidationFailed(f"Unknown topic(s): {', '.join(unknown)} (known: "
                               f"{', '.join(INFORMED_OF)}).", field="consent.informed_of")
    if consent.informed_on > data.returned_on:
        raise ValidationFailed("The household must be informed before it returns.",
                               field="consent.informed_on")
    missing = [t for t in REQUIRED_FOR_FACILITATED if t not in consent.informed_of]
    if data.kind == ReturnKind.facilitated and missing:
        raise ValidationFailed(f"Before a facilitated return the household must be informed "
                               f"of: {', '.join(missing)}.", field="consent.informed_of")


def record_return(db: Session, *, actor: Principal, data: ReturnCreate,
                  organisation: str | None = None, cipher: FieldCipher | None = None,
                  today: dt.date | None = None) -> ReturnMovement:
    """Record a return movement (see the module's rules). Nothing is written before the
    area check, so a refusal leaves only its audit record."""
    require(actor, "returns.write")
    if not can(actor, "people.register"):
        raise PermissionDenied("A return changes the household's registration: it is recorded "
                               "by a registrar, coordinator or admin.")
    if not data.voluntary:
        raise ValidationFailed("Only voluntary returns are recorded as returns; report a "
                               "forced movement as a protection incident.", field="voluntary")
    org_id = households.organisation_of_records(db, actor=actor, acronym=organisation)
    household = households.find_household(
        db, organisation_id=org_id, household_id=data.household_id,
        registration_number=data.registration_number)
    if household.status != HouseholdStatus.present:
        raise Conflict(f"The household is {household.status.value}, not present in a zone.",
                       field="status")
    today = today or dt.date.today()
    if data.returned_on > today:
        raise ValidationFailed("The return date is in the future.", field="returned_on")
    if data.returned_on < household.arrival_date:
        raise ValidationFailed("The return date is before the household arrived.",
                               field="returned_on")
    destination = data.destination_pcode or household.origin_pcode
    if not destination:
        raise ValidationFailed("The household has no origin area: give destination_pcode.",
                               field="destination_pcode")
    pcode = check_origin(db, destination, field="destination_pcode")
    facilitator: Organisation | None = None
    if data.kind == ReturnKind.facilitated:
        if not data.facilitated_by:
            raise ValidationFailed("Name the agency that organises the return.",
                               field="facilitated_by")
        facilitator = acting_organisation(db, actor=Principal.system(),
                                          acronym=data.facilitated_by, field="facilitated_by")
    elif data.facilitated_by:
        raise ValidationFailed("A return organised by an agency is facilitated, not "
                               "spontaneous.", field="kind")
    _check_consent(data)
    assessment = current_assessment(db, pcode=pcode, on=data.returned_on)
    area_status = assessment.status.value if assessment else NOT_ASSESSED
    site = db.get(Site, household.site_id)
    context = {"household_id": household.id, "pcode": pcode, "area_status": area_status,
               "assessment_id": assessment.id if assessment else None,
               "facilitated_by": facilitator.acronym if facilitator else None,
               "returned_on": data.returned_on}
    overridden = False
    if data.kind == ReturnKind.facilitated and area_status in BLOCKING:
        reason = (data.override_reason or "").strip()
        if not reason:
            audit.record(db, actor=actor, action="return.refused", object_type="household",
                         object_id=household.id, detail={**context, "why": "no override"})
            raise ReturnRefused(
                f"Area {pcode} is {area_status.replace('_', ' ')}: a facilitated return there "
                "is refused. A coordinator may override it with a recorded reason.",
                field="override_reason")
        if not can(actor, "returns.override"):
            audit.record(db, actor=actor, action="return.refused", object_type="household",
                         object_id=household.id, detail={
                             **context, "why": "override by a role that may not override",
                             "role": actor.role.value})
            raise OverrideNotAllowed("Only a coordinator (or admin) may override the area "
                                     "status for a facilitated return.",
                                     field="override_reason")
        if len(reason) < MIN_OVERRIDE_REASON:
            raise ValidationFailed("Explain the override (at least a sentence).",
                                   field="override_reason")
        overridden = True
    consent = data.consent
    movement = ReturnMovement(
        household_id=household.id, organisation_id=org_id, kind=data.kind,
        facilitating_org_id=facilitator.id if facilitator else None,
        from_site_id=household.site_id, from_zone_id=site.zone_id if site else None,
        destination_pcode=pcode, returned_on=data.returned_on,
        individuals=len(household.members), voluntary=True,
        consent_recorded=consent is not None,
        informed_by=consent.informed_by if consent else None,
        informed_on=consent.informed_on if consent else None,
        informed_of=list(consent.informed_of) if consent else [],
        consent_given_by=consent.given_by if consent else None,
        consent_notes=consent.notes if consent else None,
        transport_support=data.transport_support, transport_details=data.transport_details,
        area_status=area_status, assessment_id=assessment.id if assessment else None,
        overridden=overridden, override_reason=(data.override_reason or "").strip()
        if overridden else None, override_by_user_id=actor.user_id if overridden else None,
        recorded_by_user_id=actor.user_id)
    db.add(movement)
    db.flush()
    if overridden:
        audit.record(db, actor=actor, action="return.override", object_type="return_movement",
                     object_id=movement.id, detail={**context, "reason": movement.override_reason})
    _depart(db, actor=actor, household_id=household.id, movement=movement, cipher=cipher)
    audit.record(db, actor=actor, action="return.record", object_type="return_movement",
                 object_id=movement.id, detail={
                     **context, "kind": data.kind.value, "individuals": movement.individuals,
                     "consent_recorded": movement.consent_recorded, "overridden": overridden,
                     "transport_support": data.transport_support.value})
    return movement


def _depart(db: Session, *, actor: Principal, household_id: int, movement: ReturnMovement,
            cipher: FieldCipher | None) -> None:
    """The household leaves its site through the people domain; link its departure."""
    request = DepartRequest(destination_type=DestinationType.return_to_origin,
                            moved_on=movement.returned_on,
                            destination_pcode=movement.destination_pcode,
                            details=f"{movement.kind.value} return (return {movement.id})")
    if actor.organisation_id is None:
        # The operator acts for the organisation: the people service wants one of its users'
        # principals, so act as the organisation (audited under the operator's name).
        actor = Principal(user_id=None, organisation_id=movement.organisation_id,
                          role=actor.role, email=actor.email or "system")
    people_service.depart_household(db, actor=actor, household_id=household_id, data=request,
                                    cipher=cipher)
    movement.movement_id = db.scalar(
        select(Movement.id).where(Movement.household_id == household_id,
                                  Movement.kind == MovementKind.departure)
        .order_by(Movement.id.desc()).limit(1))
    db.flush()


def return_read(db: Session, movement: ReturnMovement) -> ReturnRead:
    read = ReturnRead.model_validate(movement)
    if movement.facilitating_org_id:
        org = db.get(Organisation, movement.facilitating_org_id)
        read.facilitated_by = org.acronym if org else None
    return read


def list_returns(db: Session, *, actor: Principal, household_id: int | None = None,
                 limit: int = 500) -> list[ReturnMovement]:
    """Return movements of the caller's organisation's households (personal data)."""
    require(actor, "returns.read")
    org_id = people_service.personal_organisation(actor)
    query = select(ReturnMovement).where(ReturnMovement.organisation_id == org_id)
    if household_id is not None:
        query = query.where(ReturnMovement.household_id == household_id)
    rows = list(db.scalars(query.order_by(ReturnMovement.returned_on.desc(),
                                          ReturnMovement.id.desc()).limit(limit)))
    audit.record(db, actor=actor, action="returns.read", object_type="household",
                 object_id=household_id, detail={"households": sorted({r.household_id
                                                                       for r in rows})})
    return rows
