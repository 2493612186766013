"""Is an incident a breach of the zone's agreement?

An *armed presence* incident inside a zone (not a point outside its boundary) breaks the
agreement version in force on the incident's day when that version says "no armed presence":

- a commitment of the version about armed presence — its indicator mentions ``armed``
  (e.g. ``armed_presence_incidents``) or its text speaks of armed presence/actors/weapons — is
  the commitment broken, and the incident is linked to that row;
- else, the version's security flag ``no_armed_presence`` is what is broken (linked to the
  version, ``breach_flag`` names the flag).

The decision is stored on the incident and audited (``incident.breach``).
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from havens.agreements import lifecycle
from havens.agreements.models import AgreementVersion, Commitment
from havens.audit import service as audit
from havens.orgs.permissions import Principal
from havens.safety.incident_types import IncidentType
from havens.safety.models import SecurityIncident

NO_ARMED_PRESENCE = "no_armed_presence"

_ARMED_TEXT = re.compile(
    r"armed\s+(presence|actors?|groups?|men|personnel|forces)|\bweapons?\b|demilitari[sz]"
    r"|مسلح|سلاح", re.IGNORECASE)


def is_about_armed_presence(commitment: Commitment) -> bool:
    indicator = (commitment.indicator or "").lower()
    return "armed" in indicator or bool(_ARMED_TEXT.search(commitment.what or ""))


def broken_by_armed_presence(version: AgreementVersion
                             ) -> tuple[Commitment | None, str | None] | None:
    """What of the version an armed presence breaks: (commitment, flag), or None."""
    commitment = next((c for c in version.commitments if is_about_armed_presence(c)), None)
    flags = [str(f) for f in (version.terms.get("security") or {}).get("flags", [])]
    flag = NO_ARMED_PRESENCE if NO_ARMED_PRESENCE in flags else None
    if commitment is None and flag is None:
        return None
    return commitment, flag


def check(db: Session, incident: SecurityIncident, *, actor: Principal) -> bool:
    """Set (or clear) the incident's breach fields; audit a breach. True if it is one."""
    incident.breach = False
    incident.breach_version_id = incident.breach_commitment_id = None
    incident.breach_flag = None
    if incident.incident_type != IncidentType.armed_presence or not incident.inside_zone:
        return False
    agreement = lifecycle.agreement_of(db, incident.zone)
    if agreement is None:
        return False
    version = lifecycle.in_force(db, agreement, incident.occurred_at.date())
    if version is None:
        return False
    broken = broken_by_armed_presence(version)
    if broken is None:
        return False
    commitment, flag = broken
    incident.breach = True
    incident.breach_version_id = version.id
    incident.breach_commitment_id = commitment.id if commitment else None
    incident.breach_flag = flag
    db.flush()
    audit.record(db, actor=actor, action="incident.breach", object_type="security_incident",
                 object_id=incident.id, detail={
                     "zone": incident.zone.code, "agreement_version": version.number,
                     "version_hash": version.hash,
                     "commitment_ref": commitment.ref if commitment else None,
                     "flag": flag, "occurred_at": incident.occurred_at})
    return True
