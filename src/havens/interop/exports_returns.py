"""Returns by area of origin: households returned (facilitated, spontaneous), individuals,
the displaced still present from each area (households merged into another left out: each
household once), and the area's current return status."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.interop import disclosure
from havens.interop.common import Areas, own_count, own_sum
from havens.interop.registry import Column, Export, Params, Row, register
from havens.orgs.permissions import Principal, require
from havens.people.merges import not_merged
from havens.people.models import Household, HouseholdStatus
from havens.returns import service as returns_service
from havens.returns.models import ReturnKind, ReturnMovement

COLUMNS = (
    Column("origin_pcode", "#adm3+code+origin", "Sub-district of origin (P-code); TOTAL last"),
    Column("origin_name", "#adm3+name+origin", "Sub-district of origin"),
    Column("admin2_pcode", "#adm2+code+origin", "District of origin"),
    Column("admin1_pcode", "#adm1+code+origin", "Governorate of origin"),
    Column("area_status", "#status", "conducive, partly_conducive, not_conducive or "
           "not_assessed (latest area assessment)"),
    Column("returned_hh_facilitated", "#affected+returnees+hh+facilitated",
           "Households returned with an agency's help"),
    Column("returned_hh_spontaneous", "#affected+returnees+hh+spontaneous",
           "Households returned by their own means"),
    Column("returned_ind", "#affected+returnees+ind", "Individuals returned"),
    Column("displaced_hh", "#affected+idps+hh+origin",
           "Households from the area still present in a zone"),
)


def rows(db: Session, actor: Principal, params: Params) -> Iterator[Row]:
    require(actor, "returns.read")
    start, end = params.start, params.end or params.on
    returned: dict[str, dict[str, tuple[int, int]]] = {}
    people: dict[str, tuple[int, int]] = {}
    query = (select(ReturnMovement.destination_pcode, ReturnMovement.kind, func.count(),
                    own_count(ReturnMovement.organisation_id, actor),
                    func.coalesce(func.sum(ReturnMovement.individuals), 0),
                    own_sum(ReturnMovement.organisation_id, ReturnMovement.individuals, actor))
             .where(ReturnMovement.returned_on <= end)
             .group_by(ReturnMovement.destination_pcode, ReturnMovement.kind))
    if start is not None:
        query = query.where(ReturnMovement.returned_on >= start)
    for pcode, kind, hh, hh_own, ind, ind_own in db.execute(query):
        returned.setdefault(pcode, {})[ReturnKind(kind).value] = (int(hh), int(hh_own))
        before = people.get(pcode, (0, 0))
        people[pcode] = (before[0] + int(ind), before[1] + int(ind_own))
    displaced = {pcode: (int(n), int(n_own)) for pcode, n, n_own in db.execute(
        select(Household.origin_pcode, func.count(),
               own_count(Household.organisation_id, actor))
        .where(Household.status == HouseholdStatus.present, not_merged(Household),
               Household.origin_pcode.in_(list(returned))).group_by(Household.origin_pcode))}
    origins = sorted(returned)
    strict, suppress = disclosure.must_suppress(actor), not actor.is_system
    kinds = (ReturnKind.facilitated.value, ReturnKind.spontaneous.value)
    cells = [[returned[p].get(k, (0, 0))[0] for k in kinds] for p in origins]
    own = [[returned[p].get(k, (0, 0))[1] for k in kinds] for p in origins]
    table = disclosure.protect(cells, suppress=suppress, exempt=None if strict else [
        [c == o for c, o in zip(r, ro, strict=True)] for r, ro in zip(cells, own, strict=True)])

    def column(values: dict[str, tuple[int, int]]) -> tuple[list[disclosure.Count],
                                                            disclosure.Count]:
        pairs = [values.get(p, (0, 0)) for p in origins]
        return disclosure.protect_column([v for v, _o in pairs], suppress=suppress,
                                         exempt=None if strict else [v == o for v, o in pairs])

    individuals, individuals_total = column(people)
    still, still_total = column(displaced)
    areas = Areas(db)
    for n, pcode in enumerate(origins):
        adm2, adm1 = areas.at_level(pcode, 2), areas.at_level(pcode, 1)
        status = returns_service.current_assessment(db, pcode=pcode, on=end)
        yield (pcode, areas.name(pcode), adm2.pcode if adm2 else None,
               adm1.pcode if adm1 else None, status.status.value if status else "not_assessed",
               *table.cells[n], individuals[n], still[n])
    totals = table.column_totals if origins else [0, 0]
    yield ("TOTAL", "All areas", None, None, None, *totals, individuals_total, still_total)


register(Export(
    name="returns", title="Returns by area of origin",
    description="Returns recorded per sub-district of origin (up to the date; from `start` "
    "when given), with the households from there still displaced and the area's return "
    "status; disclosure control as for `population`.",
    columns=COLUMNS, rows=rows, action="returns.read"))
