"""The zone safety rule: a zone's status from its recent incidents, on a given clock.

Looking back from ``now`` (an injectable clock, default the current UTC time):

1. **unsafe** — at least one *armed presence* incident inside the zone (an armed incursion or
   armed actors inside the boundary), or at least one severity-4 (critical) incident of any
   type, in the last 14 days;
2. **at_risk** — otherwise, at least one incident of severity 3 or more in the last 30 days;
3. **safe** — otherwise.

"In the last N days" means ``now - N days < occurred_at <= now``: an incident dated in the
future (a typing mistake) counts only once its time has come. Every incident attached to the
zone counts, including those reported near it; an armed presence reported at a point outside
the boundary is not an incursion and counts by its severity only. Sensitive incidents count
too — the status shows numbers, never their details.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from havens.database import utcnow
from havens.safety.incident_types import IncidentType

UNSAFE_DAYS = 14
AT_RISK_DAYS = 30
#: The longest window the rule looks at: incidents older than this never matter.
LOOKBACK = dt.timedelta(days=max(UNSAFE_DAYS, AT_RISK_DAYS))

Clock = Callable[[], dt.datetime]


class SafetyStatus(enum.StrEnum):
    safe = "safe"
    at_risk = "at_risk"
    unsafe = "unsafe"


@dataclass(frozen=True)
class IncidentFacts:
    """What the rule needs to know about one incident."""

    occurred_at: dt.datetime
    incident_type: IncidentType
    severity: int
    inside_zone: bool = True


@dataclass
class SafetyAssessment:
    status: SafetyStatus
    now: dt.datetime
    armed_presence_14d: int = 0
    critical_14d: int = 0
    serious_30d: int = 0
    reasons: list[str] = field(default_factory=list)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def assess(incidents: Iterable[IncidentFacts], *, now: dt.datetime | None = None
           ) -> SafetyAssessment:
    """Apply the rule to a zone's incidents."""
    now = now or utcnow()
    unsafe_since = now - dt.timedelta(days=UNSAFE_DAYS)
    at_risk_since = now - dt.timedelta(days=AT_RISK_DAYS)
    armed = critical = serious = 0
    for incident in incidents:
        when = incident.occurred_at
        if when > now:
            continue
        if when > unsafe_since:
            if incident.incident_type == IncidentType.armed_presence and incident.inside_zone:
                armed += 1
            if incident.severity >= 4:
                critical += 1
        if when > at_risk_since and incident.severity >= 3:
            serious += 1
    result = SafetyAssessment(SafetyStatus.safe, now, armed, critical, serious)
    if armed:
        result.reasons.append(f"{_plural(armed, 'armed presence incident')} inside the zone in "
                              f"the last {UNSAFE_DAYS} days")
    if critical:
        result.reasons.append(f"{_plural(critical, 'critical (severity 4) incident')} in the "
                              f"last {UNSAFE_DAYS} days")
    if armed or critical:
        result.status = SafetyStatus.unsafe
    elif serious:
        result.status = SafetyStatus.at_risk
        result.reasons.append(f"{_plural(serious, 'incident')} of severity 3 or more in the "
                              f"last {AT_RISK_DAYS} days")
    else:
        result.reasons.append(f"no armed presence and no incident of severity 3 or more in "
                              f"the last {AT_RISK_DAYS} days")
    return result
