"""3W activities, standards indicators with their gaps, and the commitments' statuses."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from havens.assistance import commitments as commitment_service
from havens.assistance import indicators as indicator_service
from havens.assistance.models import Activity
from havens.assistance.standards import activity_types
from havens.interop import disclosure
from havens.interop.common import Areas, zones_of
from havens.interop.registry import Column, Export, Params, Row, register
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal, require
from havens.zones.models import Site, Zone

_SPLIT = (("girls", "f+children", "Girls"), ("boys", "m+children", "Boys"),
          ("women", "f+adults", "Women"), ("men", "m+adults", "Men"),
          ("older_women", "f+elderly", "Older women"), ("older_men", "m+elderly", "Older men"))

ACTIVITY_COLUMNS = (
    Column("implementing_org", "#org+impl", "Implementing organisation (acronym)"),
    Column("funding_org", "#org+funder", "Funding organisation or donor"),
    Column("sector", "#sector", "Cluster / sector code"),
    Column("activity_type", "#activity+code", "Activity type code (activity_types.json)"),
    Column("activity", "#activity+name", "Activity type, in words"),
    Column("admin1_pcode", "#adm1+code", "Governorate P-code of the zone"),
    # The site before the zone: the activity importer reads the first #loc+code (a site
    # code gives the zone; without one, the zone's name does).
    Column("site_code", "#loc+code+site", "Site code when the activity is at one site"),
    Column("zone_code", "#loc+code+zone", "Zone code"),
    Column("zone_name", "#loc+name", "Zone name (English)"),
    Column("start_date", "#date+start", "Start date"),
    Column("end_date", "#date+end", "End date (blank: open-ended)"),
    Column("status", "#status", "planned, ongoing, completed or cancelled"),
    Column("quantity", "#output+num", "Quantity delivered"),
    Column("unit", "#output+unit", "Unit of the quantity"),
    Column("reached", "#reached+ind", "People reached"),
    *(Column(f"reached_{key}", f"#reached+{tags}", f"{label} reached")
      for key, tags, label in _SPLIT),
    Column("notes", "#description", "Notes"),
)


def activity_rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    """The 3W: programme data, no personal data; reached counts are the partners' own."""
    require(actor, "assistance.read")
    areas = Areas(db)
    labels = activity_types()
    funder = aliased(Organisation)
    implementer = aliased(Organisation)
    query = (select(Activity, implementer.acronym, funder.acronym, Zone, Site.code)
             .join(implementer, implementer.id == Activity.implementing_org_id)
             .outerjoin(funder, funder.id == Activity.funding_org_id)
             .join(Zone, Zone.id == Activity.zone_id)
             .outerjoin(Site, Site.id == Activity.site_id)
             .order_by(Zone.code, Activity.start_date, Activity.id)
             .execution_options(yield_per=1000))
    if params.zone:
        query = query.where(Zone.id == zones_of(db, params.zone)[0].id)
    for a, impl, fund, zone, site_code in db.execute(query):
        adm1 = areas.of_zone(zone, 1)
        yield (impl, fund or a.donor, a.sector, a.activity_type,
               labels.get(a.sector.value, {}).get(a.activity_type, a.activity_type),
               adm1.pcode if adm1 else None, site_code, zone.code, zone.name_en,
               a.start_date, a.end_date, a.status, a.quantity, a.unit, a.reached_total,
               *(getattr(a, f"reached_{key}") for key, _t, _l in _SPLIT), a.notes)


def activity_count(db: Session, actor: Principal, params: Params) -> int | None:
    query = select(func.count(Activity.id))
    if params.zone:
        query = query.where(Activity.zone_id == zones_of(db, params.zone)[0].id)
    return db.scalar(query)


register(Export(
    name="activities", title="3W: who does what where",
    description="Activities of the 3W with the hashtags the activity importer reads (`havens "
    "assistance import` takes this file back).",
    columns=ACTIVITY_COLUMNS, rows=activity_rows, count=activity_count,
    action="assistance.read"))


INDICATOR_COLUMNS = (
    Column("zone_code", "#loc+code", "Zone code"),
    Column("zone_name", "#loc+name", "Zone name (English)"),
    Column("date", "#date", "Date the indicators are computed for"),
    Column("population", "#affected+ind", "Population the indicator is computed on"),
    Column("population_source", "#affected+source", "registered or reported"),
    Column("sector", "#sector", "Sector of the standard"),
    Column("indicator_code", "#indicator+code", "Standard code (standards.json)"),
    Column("indicator", "#indicator+name", "Standard, in words"),
    Column("value", "#indicator+value", "Value measured (blank: unknown)"),
    Column("threshold", "#indicator+value+threshold", "Threshold of the standard"),
    Column("unit", "#indicator+unit", "Unit of value and threshold"),
    Column("threshold_source", "#meta+source", "handbook, emergency phase or the override"),
    Column("status", "#status", "met, not_met or unknown"),
    Column("gap", "#indicator+value+gap", "Quantity missing to meet the standard"),
    Column("gap_unit", "#indicator+unit+gap", "Unit of the gap"),
    Column("citation", "#meta+citation", "Where the standard comes from (Sphere...)"),
)


def indicator_rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    require(actor, "assistance.read")
    zone_ids = [z.id for z in zones_of(db, params.zone)] if params.zone else None
    strict = disclosure.must_suppress(actor)
    for facts, results in indicator_service.compute(db, on=params.on, zone_ids=zone_ids):
        population = (disclosure.primary(facts.population, on=strict)
                      if facts.population is not None else None)
        for r in results:
            yield (facts.zone_code, facts.zone_name, params.on, population,
                   facts.population_source, r.sector, r.standard, r.name, r.value, r.threshold,
                   r.unit, r.threshold_source, r.status, r.gap, r.gap_unit, r.citation)


register(Export(
    name="indicators", title="Standards indicators and gaps",
    description="Every standard for every zone on the date: value, threshold, met / not met / "
    "unknown, and the gap to meet it. A population of 1–4 shows as `<5` to callers without "
    "personal-data rights.",
    columns=INDICATOR_COLUMNS, rows=indicator_rows, action="assistance.read"))


COMMITMENT_COLUMNS = (
    Column("zone_code", "#loc+code", "Zone code"),
    Column("ref", "#meta+ref", "Commitment reference in the agreement"),
    Column("party", "#org", "Party that committed"),
    Column("what", "#description", "What was committed"),
    Column("indicator", "#indicator+code", "Indicator it is measured by (blank: attested)"),
    Column("target", "#indicator+value+target", "Target"),
    Column("value", "#indicator+value", "Value on the date"),
    Column("unit", "#indicator+unit", "Unit"),
    Column("due_date", "#date+due", "Due date"),
    Column("status", "#status", "kept, partly_kept, broken, pending or waived"),
    Column("since", "#date+status", "Status since"),
    Column("reason", "#meta+reason", "Why this status"),
)


def commitment_rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    zone_id = zones_of(db, params.zone)[0].id if params.zone else None
    for c in commitment_service.statuses(db, actor=actor, on=params.on, zone_id=zone_id):
        yield (c.zone_code, c.ref, c.party, c.what, c.indicator, c.target, c.value, c.unit,
               c.due_date, c.status, c.since, c.reason)


register(Export(
    name="commitments", title="Commitments of the agreements in force",
    description="Each commitment of the agreement versions in force on the date that the "
    "caller may see (parties of the agreement), with its status.",
    columns=COMMITMENT_COLUMNS, rows=commitment_rows, action="assistance.read"))
