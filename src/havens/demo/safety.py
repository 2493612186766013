"""Demo data of the safety domain: a few incidents in each demo zone over the last weeks.

- ``SZ-SY07-001`` (operational): armed men inside the zone today — a breach of its agreement
  (TR-MFA's commitment "No armed presence inside the zone"); a gender-based violence incident
  reported by UNHCR's protection officer (sensitive: only she sees its details); a tent fire;
  explosive remnants found.
- ``SZ-SY02-001``: shelling twelve days ago (the zone is *at risk*), a theft.
- ``SZ-SY07-002``: a deadly strike six days ago (the zone is *unsafe*), an eviction threat.

Zones or organisations that do not exist are skipped quietly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.database import utcnow
from havens.orgs import service as org_service
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal
from havens.safety import service
from havens.safety.schemas import IncidentCreate
from havens.zones.models import Zone

PROTECTION_OFFICER = "protection@unhcr.demo.havens.org"

#: (zone, days ago, type, severity, organisation, casualties, narrative, extra fields)
INCIDENTS: list[tuple[str, float, str, int, str, dict[str, Any], str, dict[str, Any]]] = [
    ("SZ-SY07-001", 0, "armed_presence", 3, "SARC", {},
     "About ten armed men in uniform set up a checkpoint at the Atmeh camp entrance and "
     "searched tents. They left after three hours.", {"lon": 36.70, "lat": 36.25}),
    ("SZ-SY07-001", 4, "gbv", 3, "UNHCR", {},
     "Woman reported sexual harassment near the water point at night; referred to case "
     "management and the women's safe space.", {}),
    ("SZ-SY07-001", 9, "fire", 2, "IOM", {"injured": {"female_child": 1, "male_adult": 1}},
     "Heater fire destroyed two tents in Karama camp.", {}),
    ("SZ-SY07-001", 20, "explosive_remnants", 2, "NRC", {},
     "Unexploded mortar shell found by children near the olive grove; area marked.", {}),
    ("SZ-SY02-001", 12, "shelling", 3, "SARC",
     {"killed": {"male_adult": 1}, "injured": {"female_adult": 2, "male_child": 1}},
     "Artillery shells hit the edge of the zone near the road to A'zaz.", {}),
    ("SZ-SY02-001", 40, "crime", 1, "IOM", {}, "Solar panels stolen from the health point.", {}),
    ("SZ-SY07-002", 6, "shelling", 4, "SARC",
     {"killed": {"male_adult": 2, "female_child": 1}, "injured": {"unknown": 7}},
     "Air strike on a market next to Kelly camp.", {}),
    ("SZ-SY07-002", 25, "eviction_threat", 2, "NRC", {},
     "Landowner told families in Harbanoush to leave within a week.", {}),
]


def load(db: Session, *, actor: Principal, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    zones = {z.code for z in db.scalars(select(Zone).where(
        Zone.code.in_({row[0] for row in INCIDENTS})))}
    orgs = {o.acronym for o in db.scalars(select(Organisation))}
    officer = org_service.get_user_by_email(db, email=PROTECTION_OFFICER)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for code, days, kind, severity, org, casualties, narrative, extra in INCIDENTS:
        if code not in zones or org not in orgs:
            continue
        # "Today" stays on today's date, the day the demo agreement came into force.
        when = max(now - dt.timedelta(days=days, hours=2), midnight) if days == 0 else (
            now - dt.timedelta(days=days, hours=3))
        reporter = actor
        if org == "UNHCR" and kind == "gbv" and officer is not None:
            reporter = org_service.principal_for(officer)
        data = IncidentCreate.model_validate({
            "zone": None if "lon" in extra else code, **extra, "occurred_at": when,
            "incident_type": kind, "severity": severity, "casualties": casualties,
            "narrative": narrative, "organisation": None if reporter is not actor else org,
            "external_ref": f"DEMO-{code}-{int(days)}-{kind}"}, strict=False)
        service.create_incident(db, actor=reporter, data=data, now=now)
