"""Security incidents: counts per zone and type, and the incidents the caller may see as points.

Sensitive incidents (gender-based violence, child protection, any marked so) are never points or
rows to a caller outside the reporting organisation's protection officers: they only enter the
counts, where a cell holding one the caller may not see is under disclosure control (``<5``
and complements ``x``, see :mod:`havens.interop.disclosure`). Narratives are never exported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from havens.interop import disclosure
from havens.interop.common import zones_of
from havens.interop.geojson import feature, point
from havens.interop.registry import Column, Export, Params, Row, register
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, require
from havens.safety.incident_types import TYPES, IncidentType
from havens.safety.models import SecurityIncident
from havens.safety.service import visible_condition
from havens.zones.models import Zone

KINDS = tuple(IncidentType)
DEFAULT_DAYS = 90

COUNT_COLUMNS = (
    Column("zone_code", "#loc+code", "Zone code; TOTAL for the last rows"),
    Column("zone_name", "#loc+name", "Zone name (English)"),
    Column("start", "#date+start", "First day of the period"),
    Column("end", "#date+end", "Last day of the period"),
    Column("incident_type", "#event+type", "Incident type code; `all` for the zone's total"),
    Column("incident_type_label", "#event+type+name", "Incident type in words"),
    Column("incidents", "#event+num", "Incidents in the period"),
)


def _window(params: Params) -> tuple[dt.date, dt.date, dt.datetime, dt.datetime]:
    start, end = params.period(DEFAULT_DAYS)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return start, end, since, until


def count_table(db: Session, actor: Principal, params: Params, zones: list[Zone]
                ) -> disclosure.Protected:
    """Incidents per zone (rows) and type (columns) in the period, under disclosure control."""
    require(actor, "incidents.read")
    _start, _end, since, until = _window(params)
    index = {z.id: n for n, z in enumerate(zones)}
    position = {k: n for n, k in enumerate(KINDS)}
    cells = [[0] * len(KINDS) for _ in zones]
    seen = [[0] * len(KINDS) for _ in zones]
    rows = db.execute(
        select(SecurityIncident.zone_id, SecurityIncident.incident_type, func.count(),
               func.coalesce(func.sum(case((visible_condition(actor), 1), else_=0)), 0))
        .where(SecurityIncident.occurred_at >= since, SecurityIncident.occurred_at < until,
               SecurityIncident.zone_id.in_(list(index)))
        .group_by(SecurityIncident.zone_id, SecurityIncident.incident_type))
    for zone_id, kind, count, visible in rows:
        r, c = index[zone_id], position[IncidentType(kind)]
        cells[r][c], seen[r][c] = int(count), int(visible)
    # Counts of what the caller may see anyway are shown; any cell holding a sensitive
    # incident the caller may not see is protected (for everyone, the operator included).
    return disclosure.protect(cells, exempt=[[c == s for c, s in zip(row, srow, strict=True)]
                                             for row, srow in zip(cells, seen, strict=True)])


def count_rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    zones = zones_of(db, params.zone)
    start, end, _since, _until = _window(params)
    table = count_table(db, actor, params, zones)
    for n, zone in enumerate(zones):
        for c, kind in enumerate(KINDS):
            if table.cells[n][c] != 0:
                yield (zone.code, zone.name_en, start, end, kind, TYPES[kind].label_en,
                       table.cells[n][c])
        yield (zone.code, zone.name_en, start, end, "all", "All incidents", table.row_totals[n])
    for c, kind in enumerate(KINDS):
        yield ("TOTAL", "All zones", start, end, kind, TYPES[kind].label_en,
               table.column_totals[c])
    yield ("TOTAL", "All zones", start, end, "all", "All incidents", table.total)


def incident_features(db: Session, actor: Principal, params: Params
                      ) -> Iterator[dict[str, Any]]:
    """Incidents the caller may see in detail, with a location, as points."""
    require(actor, "incidents.read")
    _start, _end, since, until = _window(params)
    query = (select(SecurityIncident, Zone.code, Organisation.acronym)
             .join(Zone, Zone.id == SecurityIncident.zone_id)
             .join(Organisation, Organisation.id == SecurityIncident.organisation_id)
             .where(visible_condition(actor), SecurityIncident.lon.is_not(None),
                    SecurityIncident.occurred_at >= since, SecurityIncident.occurred_at < until)
             .order_by(SecurityIncident.occurred_at, SecurityIncident.id)
             .execution_options(yield_per=500))
    if params.zone:
        query = query.where(Zone.id == zones_of(db, params.zone)[0].id)
    for incident, zone_code, org in db.execute(query):
        yield feature(point(incident.lon, incident.lat), {
            "id": incident.id, "zone_code": zone_code,
            "incident_type": incident.incident_type.value,
            "incident_type_label": TYPES[incident.incident_type].label_en,
            "severity": incident.severity, "occurred_at": incident.occurred_at.isoformat(),
            "inside_zone": incident.inside_zone, "killed": incident.killed,
            "injured": incident.injured, "breach": incident.breach,
            "sensitive": incident.sensitive, "reported_by": org}, incident.id)


register(Export(
    name="incidents", title="Security incidents: counts by zone and type",
    description="Incidents per zone and type over a period (default: the 90 days ending on "
    "the date). Tabular formats give counts only; a count holding a sensitive incident the "
    "caller may not see is under disclosure control. GeoJSON: the incidents the caller may see "
    "in detail, as points, without narratives.",
    columns=COUNT_COLUMNS, rows=count_rows, features=incident_features,
    action="incidents.read"))
