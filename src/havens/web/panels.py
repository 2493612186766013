"""What each domain contributes to the overview and the zone page, gathered defensively.

A page never fails because one panel's domain has nothing yet: a panel that finds nothing
returns ``None`` and its template section says so. Rules stay in the domains' services; here
is only the choosing of what to show.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from havens.exceptions import HavensError
from havens.orgs.permissions import Principal, can
from havens.web.charts import PyramidRow, Series, bars, meter, pyramid
from havens.zones.models import Zone


def zones_by_status(zones: list[Zone]) -> list[tuple[str, int]]:
    counts = Counter(z.status.value for z in zones)
    return sorted(counts.items())


def registered_population(db: Session, *, actor: Principal, zone: Zone,
                          gettext: Any) -> dict[str, Any] | None:
    """Registered people present in the zone, with a population pyramid."""
    from havens.people import occupancy

    try:
        result = occupancy.zone_occupancy(db, actor=actor, zone_id=zone.id)
    except HavensError:
        return None
    population = result.population
    rows = [PyramidRow(group,
                       _num(population.by_sex_age.get("F", {}).get(group)),
                       _num(population.by_sex_age.get("M", {}).get(group)))
            for group, _low, _high in occupancy.AGE_GROUPS]
    return {
        "occupancy": result,
        "pyramid": pyramid(rows, title=gettext("Population by sex and age"),
                           female_label=gettext("Women and girls"),
                           male_label=gettext("Men and boys")),
        "meter": meter(_num(population.individuals), result.capacity,
                       title=gettext("Occupancy against capacity")),
    }


def flows_chart(db: Session, *, actor: Principal, zone: Zone, gettext: Any, days: int = 30
                ) -> dict[str, Any] | None:
    from havens.people import flows as people_flows

    end = dt.date.today()
    try:
        result = people_flows.count_flows(db, actor=actor,
                                          start=end - dt.timedelta(days=days - 1), end=end,
                                          zone_id=zone.id)
    except HavensError:
        return None
    labels = [d.day.strftime("%d/%m") for d in result.days]
    arrivals = [_num(d.arrivals) for d in result.days]
    departures = [_num(sum(_num(v) or 0 for v in d.departures.values())) for d in result.days]
    chart = bars(labels, [Series(gettext("Arrivals"), arrivals, "#1e7b34"),
                          Series(gettext("Departures"), departures, "#c05621")],
                 title=gettext("Arrivals and departures, last 30 days"))
    return {"flows": result, "chart": chart}


def _num(value: Any) -> int | None:
    """A count as a number, or None where it is suppressed ("<5")."""
    return value if isinstance(value, int) else None


def may_see_personal_data(actor: Principal) -> bool:
    return can(actor, "people.personal")


def agreement(db: Session, *, actor: Principal, zone: Zone) -> dict[str, Any]:
    """The zone's agreement and its latest version (parties, who signed, who is pending)."""
    from havens.agreements import service as agreement_service
    from havens.agreements import views as agreement_views

    try:
        found = agreement_service.agreement_for_zone(db, actor=actor, zone_code=zone.code)
    except HavensError:
        return {"agreement": None, "agreement_version": None}
    summary = agreement_views.agreement_read(db, found)
    number = summary.version_in_force or summary.versions[-1].number
    version = agreement_views.version_read(db, agreement_service.get_version(
        db, actor=actor, agreement_id=found.id, number=number))
    return {"agreement": summary, "agreement_version": version}


def services(db: Session, *, actor: Principal, zone: Zone) -> dict[str, Any]:
    """Services against the Sphere/INEE standards for the zone, today."""
    from havens.assistance import indicators

    try:
        facts, results = indicators.zone_indicators(db, actor=actor, zone_id=zone.id,
                                                    on=dt.date.today())
    except HavensError:
        return {"standards": None}
    return {"standards": results, "standards_facts": facts}


def safety(db: Session, *, actor: Principal, zone: Zone) -> dict[str, Any]:
    """The zone's safety status and its recent incidents, as this caller may see them."""
    from havens.safety import service as safety_service

    try:
        status = safety_service.zone_safety(db, actor=actor, zone_id=zone.id)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=90)
        incidents = safety_service.list_incidents(db, actor=actor, zone_id=zone.id,
                                                  since=since, limit=20)
    except HavensError:
        return {"safety": None, "incidents": None}
    return {"safety": status, "incidents": incidents}


def overview(db: Session, *, actor: Principal, zones: list[Zone]) -> dict[str, Any]:
    """Totals for the first page: zones by status, people present, movements in the last
    30 days (departures abroad apart), incidents, and each zone's safety status."""
    from havens.people import flows as people_flows
    from havens.people import occupancy
    from havens.safety import service as safety_service

    end = dt.date.today()
    start = end - dt.timedelta(days=29)
    arrivals = departures = abroad = 0
    try:
        by_zone = occupancy.zones_present(db, actor=actor)
    except HavensError:
        by_zone = {}
    suppressed = any(not isinstance(v, int) for v in by_zone.values())
    present = sum(v for v in by_zone.values() if isinstance(v, int))
    for zone in zones:
        try:
            moved = people_flows.count_flows(db, actor=actor, start=start, end=end,
                                             zone_id=zone.id)
        except HavensError:
            continue
        totals = moved.totals
        suppressed = suppressed or moved.suppressed
        arrivals += _num(totals.arrivals) or 0
        departures += sum(_num(v) or 0 for v in totals.departures.values())
        abroad += _num(totals.departures_abroad) or 0
    try:
        safety_by_zone = safety_service.zones_safety(db, actor=actor)
        recent = safety_service.list_incidents(
            db, actor=actor, since=dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
        # The restricted counts' total, under the same disclosure control as the counts.
        hidden = _num(recent.restricted_totals.total)
        incidents = len(recent.items) + (hidden or 0)
        suppressed = suppressed or hidden is None
    except HavensError:
        safety_by_zone, incidents = {}, None
    return {"by_status": zones_by_status(zones), "present": present, "arrivals": arrivals,
            "departures": departures, "abroad": abroad, "incidents": incidents,
            "suppressed": suppressed, "safety_by_zone": safety_by_zone}
