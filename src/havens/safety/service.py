"""Reporting and reading security incidents; each zone's safety status.

Who sees what:

- Every role may read incidents (``incidents.read``); all but viewers may report them.
- A *sensitive* incident (always: gender-based violence and child protection; any other when
  the reporter marks it) is shown with its narrative, place and casualties only to protection
  officers (``incidents.sensitive``) of the reporting organisation. Everyone else — including
  the operator and coordinators of any organisation — sees it only inside counts per zone and
  type and their totals, with counts of 1 to 4 shown as ``"<5"`` and enough others as ``"x"``
  that none can be worked out from the totals; asking for it by id answers ``NotFound``.
  This is applied in the queries here, so the API, the CLI and the pages all get the same.
- Every report is audited (never its narrative), and every read of a sensitive incident's
  details too.
- That an incident is a breach of its zone's agreement is shown to all; which version and
  commitment it breaks only to those who may see the agreement (its parties).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from havens.agreements import service as agreement_service
from havens.agreements.models import AgreementVersion, Commitment
from havens.audit import service as audit
from havens.database import utcnow
from havens.exceptions import NotFound, PermissionDenied, ValidationFailed
from havens.geo import service as geo_service
from havens.interop import disclosure
from havens.orgs import service as org_service
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, can, require
from havens.safety import breach, status
from havens.safety.incident_types import SENSITIVE_TYPES, TYPES, IncidentType, severity_label
from havens.safety.models import SecurityIncident
from havens.safety.schemas import (
    Casualties,
    IncidentCreate,
    IncidentList,
    IncidentRead,
    RestrictedCount,
    RestrictedTotals,
    ZoneSafetyRead,
)
from havens.zones import service as zone_service
from havens.zones.models import ACTIVE_ZONE_STATUSES, Site, Zone

SUPPRESSED = disclosure.SUPPRESSED
#: An incident may be reported a little ahead of the server clock (phones drift), not more.
_CLOCK_SKEW = dt.timedelta(hours=1)


# --- visibility ------------------------------------------------------------------------------

def may_see_sensitive_of(actor: Principal, organisation_id: int) -> bool:
    return (can(actor, "incidents.sensitive") and actor.organisation_id is not None
            and actor.organisation_id == organisation_id)


def can_see_details(actor: Principal, incident: SecurityIncident) -> bool:
    return not incident.sensitive or may_see_sensitive_of(actor, incident.organisation_id)


def visible_condition(actor: Principal) -> ColumnElement[bool]:
    """SQL condition: the incidents whose details the caller may see."""
    if can(actor, "incidents.sensitive") and actor.organisation_id is not None:
        return or_(SecurityIncident.sensitive.is_(False),
                   SecurityIncident.organisation_id == actor.organisation_id)
    return SecurityIncident.sensitive.is_(False)


# --- reporting -------------------------------------------------------------------------------

def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _zones_of_pcode(db: Session, pcode: str) -> list[Zone]:
    """Active zones covering the P-code, inside it or around it."""
    zones = db.scalars(select(Zone).where(Zone.status.in_(ACTIVE_ZONE_STATUSES))
                       .order_by(Zone.code))
    return [z for z in zones if any(p == pcode or pcode.startswith(p) or p.startswith(pcode)
                                    for p in z.admin_pcodes)]


def resolve_place(db: Session, *, actor: Principal, zone_code: str | None,
                  lon: float | None, lat: float | None, pcode: str | None
                  ) -> tuple[Zone, Site | None, str | None, bool]:
    """(zone, site, P-code, inside the zone?) of a report.

    A point is placed in the zone whose boundary holds it (and at its site). A named zone
    wins: a point outside it is *near* it. A P-code alone names the one active zone covering
    it, and the incident counts as near the zone (no point says it was inside)."""
    checked = None
    if pcode and pcode.strip():
        checked = geo_service.check_pcodes(db, pcodes=[pcode], field="pcode")[0]
    named = zone_service.get_zone_by_code(db, actor=actor, code=zone_code) if zone_code else None
    if lon is not None and lat is not None:
        located, site = zone_service.locate(db, lon=lon, lat=lat)
        if named is not None:
            inside = located is not None and located.id == named.id
            return named, site if inside else None, checked, inside
        if located is None:
            raise ValidationFailed(f"The point ({lon}, {lat}) is in no zone: name the zone it "
                                   "is near.", field="zone")
        return located, site, checked, True
    if named is not None:
        return named, None, checked, True
    if checked is None:
        raise ValidationFailed("Say where: a zone code, a point (lon, lat) or a P-code.",
                               field="zone")
    zones = _zones_of_pcode(db, checked)
    if len(zones) != 1:
        which = ", ".join(z.code for z in zones) or "none"
        raise ValidationFailed(f"P-code {checked} does not name one zone (zones: {which}): "
                               "name the zone.", field="zone")
    return zones[0], None, checked, False


def _reporting_organisation(db: Session, actor: Principal, acronym: str | None) -> int:
    if actor.organisation_id is not None:
        own = db.get(Organisation, actor.organisation_id)
        if acronym and own is not None and acronym.strip().lower() != own.acronym.lower():
            raise PermissionDenied("You report for your own organisation only.",
                                   field="organisation")
        return actor.organisation_id
    if not acronym:
        raise ValidationFailed("Name the reporting organisation.", field="organisation")
    org = org_service.get_organisation_by_acronym(db, acronym=acronym, missing_ok=True)
    if org is None:
        raise ValidationFailed(f"No organisation with acronym {acronym}.", field="organisation")
    return org.id


def sensitivity(incident_type: IncidentType, requested: bool | None) -> bool:
    if incident_type in SENSITIVE_TYPES:
        if requested is False:
            raise ValidationFailed(f"{TYPES[incident_type].label_en} incidents are always "
                                   "sensitive.", field="sensitive")
        return True
    return bool(requested)


def create_incident(db: Session, *, actor: Principal, data: IncidentCreate,
                    now: dt.datetime | None = None) -> SecurityIncident:
    """Record an incident, place it in its zone and check it against the agreement."""
    require(actor, "incidents.report")
    now = now or utcnow()
    occurred_at = _as_utc(data.occurred_at)
    if occurred_at > now + _CLOCK_SKEW:
        raise ValidationFailed("The incident time is in the future.", field="occurred_at")
    zone, site, pcode, inside = resolve_place(db, actor=actor, zone_code=data.zone,
                                              lon=data.lon, lat=data.lat, pcode=data.pcode)
    organisation_id = _reporting_organisation(db, actor, data.organisation)
    ref = (data.external_ref or "").strip() or None
    if ref and db.scalar(select(SecurityIncident.id).where(
            SecurityIncident.organisation_id == organisation_id,
            SecurityIncident.external_ref == ref)):
        raise ValidationFailed(f"Your organisation reported incident {ref} already.",
                               field="external_ref")
    incident = SecurityIncident(
        zone=zone, site_id=site.id if site else None, lon=data.lon, lat=data.lat, pcode=pcode,
        inside_zone=inside, occurred_at=occurred_at, incident_type=data.incident_type,
        severity=data.severity, casualties=data.casualties.model_dump(),
        killed=data.casualties.killed.total, injured=data.casualties.injured.total,
        organisation_id=organisation_id, reported_by_user_id=actor.user_id,
        narrative=data.narrative.strip(),
        sensitive=sensitivity(data.incident_type, data.sensitive), external_ref=ref,
        reported_at=now)
    db.add(incident)
    db.flush()
    audit.record(db, actor=actor, action="incident.report", object_type="security_incident",
                 object_id=incident.id, detail={
                     "zone": zone.code, "type": incident.incident_type.value,
                     "severity": incident.severity, "sensitive": incident.sensitive,
                     "inside_zone": inside, "occurred_at": occurred_at})
    breach.check(db, incident, actor=actor)
    return incident


# --- reading ---------------------------------------------------------------------------------

def get_incident(db: Session, *, actor: Principal, incident_id: int) -> SecurityIncident:
    """One incident whose details the caller may see (else ``NotFound``); reads of sensitive
    incidents are audited."""
    require(actor, "incidents.read")
    incident = db.scalar(select(SecurityIncident).where(
        SecurityIncident.id == incident_id, visible_condition(actor)))
    if incident is None:
        raise NotFound(f"No incident {incident_id} that you may see.", field="incident_id")
    if incident.sensitive:
        audit.record(db, actor=actor, action="incident.read_sensitive",
                     object_type="security_incident", object_id=incident.id)
    return incident


def to_read(db: Session, incident: SecurityIncident, *, actor: Principal) -> IncidentRead:
    """The incident as the caller may see it (restricted when sensitive and not theirs)."""
    read = IncidentRead(
        id=incident.id, zone_id=incident.zone_id, zone_code=incident.zone.code,
        occurred_at=incident.occurred_at, incident_type=incident.incident_type,
        severity=incident.severity, severity_label=severity_label(incident.severity),
        organisation=incident.organisation.acronym, sensitive=incident.sensitive,
        restricted=not can_see_details(actor, incident), inside_zone=incident.inside_zone,
        breach=incident.breach, breach_flag=incident.breach_flag,
        reported_at=incident.reported_at)
    version = db.get(AgreementVersion, incident.breach_version_id) \
        if incident.breach_version_id else None
    if version is not None and _may_see_agreement(db, actor, version.agreement_id):
        read.breach_agreement_version = version.number
        commitment = db.get(Commitment, incident.breach_commitment_id) \
            if incident.breach_commitment_id else None
        if commitment is not None:
            read.breach_commitment_ref, read.breach_commitment = commitment.ref, commitment.what
    else:
        read.breach_flag = None
    if read.restricted:
        return read
    site = db.get(Site, incident.site_id) if incident.site_id else None
    read.site_code = site.code if site else None
    read.lon, read.lat, read.pcode = incident.lon, incident.lat, incident.pcode
    read.casualties = Casualties.model_validate(incident.casualties or {}, strict=False)
    read.killed, read.injured = incident.killed, incident.injured
    read.narrative, read.external_ref = incident.narrative, incident.external_ref
    return read


def _may_see_agreement(db: Session, actor: Principal, agreement_id: int) -> bool:
    try:
        agreement_service.get_agreement(db, actor=actor, agreement_id=agreement_id)
    except (NotFound, PermissionDenied):
        return False
    return True


def list_incidents(
    db: Session, *, actor: Principal, zone_id: int | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None,
    types: Sequence[IncidentType] | None = None, min_severity: int | None = None,
    breaches_only: bool = False, limit: int = 500,
) -> IncidentList:
    """Incidents the caller may see, newest first, and the sensitive ones they may not see
    counted per zone and type (small counts suppressed). For the API, the CLI and the pages."""
    require(actor, "incidents.read")
    filters: list[ColumnElement[bool]] = []
    if zone_id is not None:
        filters.append(SecurityIncident.zone_id == zone_id)
    if since is not None:
        filters.append(SecurityIncident.occurred_at >= _as_utc(since))
    if until is not None:
        filters.append(SecurityIncident.occurred_at <= _as_utc(until))
    if types:
        filters.append(SecurityIncident.incident_type.in_(list(types)))
    if min_severity is not None:
        filters.append(SecurityIncident.severity >= min_severity)
    if breaches_only:
        filters.append(SecurityIncident.breach.is_(True))
    visible = visible_condition(actor)
    rows = db.scalars(select(SecurityIncident).where(visible, *filters)
                      .order_by(SecurityIncident.occurred_at.desc(), SecurityIncident.id.desc())
                      .limit(limit))
    items = [to_read(db, incident, actor=actor) for incident in rows]
    restricted, totals = _restricted(db, ~visible, filters)
    shown = [item.id for item in items if item.sensitive and not item.restricted]
    if shown:
        audit.record(db, actor=actor, action="incident.read_sensitive",
                     object_type="security_incident", detail={"incidents": shown})
    return IncidentList(items=items, restricted=restricted, restricted_totals=totals)


def _restricted(db: Session, hidden: ColumnElement[bool], filters: list[ColumnElement[bool]]
                ) -> tuple[list[RestrictedCount], RestrictedTotals]:
    """The incidents the caller may not see, per zone and type, with their totals: a table
    under primary and secondary suppression (``havens.interop.disclosure``), so that no count
    of 1 to 4 can be worked out from the totals and the other counts."""
    counts = {(code, IncidentType(kind)): int(n) for code, kind, n in db.execute(
        select(Zone.code, SecurityIncident.incident_type, func.count(SecurityIncident.id))
        .join(Zone, Zone.id == SecurityIncident.zone_id)
        .where(hidden, *filters)
        .group_by(Zone.code, SecurityIncident.incident_type))}
    zones = sorted({code for code, _kind in counts})
    kinds = sorted({kind for _code, kind in counts}, key=lambda kind: kind.value)
    table = disclosure.protect_keyed(counts, rows=zones, columns=kinds)
    restricted = [RestrictedCount(zone_code=code, incident_type=kind,
                                  count=table.cells[(code, kind)])
                  for code in zones for kind in kinds if counts.get((code, kind))]
    return restricted, RestrictedTotals(by_zone=table.row_totals,
                                        by_type=table.column_totals, total=table.total)


# --- safety status ---------------------------------------------------------------------------

RULE = ("unsafe: armed presence inside the zone or a severity-4 incident in the last "
        f"{status.UNSAFE_DAYS} days; at_risk: severity 3 or more in the last "
        f"{status.AT_RISK_DAYS} days; else safe")


def zones_safety(db: Session, *, actor: Principal, zone_ids: Sequence[int] | None = None,
                 now: dt.datetime | None = None) -> dict[int, ZoneSafetyRead]:
    """Safety status of each zone (all zones when none are named), in one query."""
    require(actor, "incidents.read")
    now = now or utcnow()
    zone_query = select(Zone).order_by(Zone.code)
    if zone_ids is not None:
        zone_query = zone_query.where(Zone.id.in_(list(zone_ids)))
    zones = list(db.scalars(zone_query))
    facts: dict[int, list[status.IncidentFacts]] = {z.id: [] for z in zones}
    breaches: dict[int, int] = dict.fromkeys(facts, 0)
    in_window = and_(SecurityIncident.occurred_at > now - status.LOOKBACK,
                     SecurityIncident.occurred_at <= now)
    rows = db.execute(select(
        SecurityIncident.zone_id, SecurityIncident.occurred_at, SecurityIncident.incident_type,
        SecurityIncident.severity, SecurityIncident.inside_zone, SecurityIncident.breach,
    ).where(in_window, SecurityIncident.zone_id.in_(list(facts)) if zone_ids is not None
            else true()))
    for zone_id, occurred_at, kind, severity, inside, is_breach in rows:
        if zone_id in facts:
            facts[zone_id].append(status.IncidentFacts(occurred_at, kind, severity, inside))
            breaches[zone_id] += bool(is_breach)
    result = {}
    for zone in zones:
        assessed = status.assess(facts[zone.id], now=now)
        result[zone.id] = ZoneSafetyRead(
            zone_id=zone.id, zone_code=zone.code, status=assessed.status, as_of=now,
            reasons=assessed.reasons, armed_presence_14d=assessed.armed_presence_14d,
            critical_14d=assessed.critical_14d, serious_30d=assessed.serious_30d,
            breaches_30d=breaches[zone.id], rule=RULE)
    return result


def zone_safety(db: Session, *, actor: Principal, zone_id: int,
                now: dt.datetime | None = None) -> ZoneSafetyRead:
    """One zone's safety status (``NotFound`` for an unknown zone)."""
    zone = zone_service.get_zone(db, actor=actor, zone_id=zone_id)
    return zones_safety(db, actor=actor, zone_ids=[zone.id], now=now)[zone.id]


def type_list() -> list[dict[str, Any]]:
    """The documented incident types, for forms and the API."""
    return [{"code": t.value, "label_en": i.label_en, "label_ar": i.label_ar,
             "always_sensitive": i.always_sensitive} for t, i in TYPES.items()]

