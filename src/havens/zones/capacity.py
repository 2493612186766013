"""Capacity of sites and zones: the one place where the Sphere space standard lives.

Sphere Handbook 2018, Shelter and settlement standard 2 (Location and settlement planning),
guidance note "Settlement planning": a minimum usable surface area of 45 m² per person in
camp-type settlements, including household plots and the space for roads, foot paths,
education, sanitation, firebreaks, administration, water storage, distribution areas, markets
and storage, plus limited kitchen gardens.

Rules:

* A site's *standard capacity* is ``floor(area / 45)`` people when its area is known (from its
  boundary polygon, else the declared area).
* A site may declare a capacity. At or below the standard it is simply the planning figure;
  above the standard it counts only with a recorded justification (the write is refused
  otherwise, see :func:`check_declared_capacity`).
* With no area, the declared capacity is the capacity; with neither, capacity is unknown.
* A zone's capacity is the sum over its sites that are not closed; unknown when no site has one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.exceptions import ValidationFailed
from havens.zones.models import Site, SiteStatus

#: Sphere Handbook 2018, Shelter and settlement standard 2: minimum site area per person (m²).
SPHERE_SITE_AREA_PER_PERSON_M2 = 45.0


class SiteFigures(Protocol):
    """What capacity is computed from: a ``Site``, or a row of these columns."""

    @property
    def area_m2(self) -> float | None: ...
    @property
    def declared_area_m2(self) -> float | None: ...
    @property
    def declared_capacity(self) -> int | None: ...
    @property
    def capacity_justification(self) -> str | None: ...


#: The columns of ``SiteFigures``, for queries that need capacity without loading sites.
FIGURE_COLUMNS = (Site.area_m2, Site.declared_area_m2, Site.declared_capacity,
                  Site.capacity_justification)


def site_area_m2(site: SiteFigures) -> float | None:
    """The site's area: measured from its boundary when drawn, else as declared."""
    return site.area_m2 if site.area_m2 is not None else site.declared_area_m2


def standard_capacity(area_m2: float | None) -> int | None:
    """People a site of this area can hold under the Sphere standard."""
    if area_m2 is None:
        return None
    return math.floor(area_m2 / SPHERE_SITE_AREA_PER_PERSON_M2)


def site_capacity(site: SiteFigures) -> int | None:
    """Capacity of one site in people (see the module's rules), or None when unknown."""
    return capacity_of(area_m2=site.area_m2, declared_area_m2=site.declared_area_m2,
                       declared_capacity=site.declared_capacity,
                       justification=site.capacity_justification)


def capacity_of(*, area_m2: float | None, declared_area_m2: float | None,
                declared_capacity: int | None, justification: str | None) -> int | None:
    """``site_capacity`` from the figures themselves."""
    standard = standard_capacity(area_m2 if area_m2 is not None else declared_area_m2)
    if declared_capacity is None:
        return standard
    if standard is None or declared_capacity <= standard or justification:
        return declared_capacity
    # Only reachable for data written around the services' checks.
    return standard


def check_declared_capacity(
    *, area_m2: float | None, declared_capacity: int | None, justification: str | None,
) -> None:
    """Refuse a declared capacity above the Sphere standard without a justification."""
    standard = standard_capacity(area_m2)
    if (declared_capacity is not None and standard is not None and declared_capacity > standard
            and not (justification or "").strip()):
        raise ValidationFailed(
            f"A declared capacity of {declared_capacity} is above the Sphere standard for "
            f"{area_m2:,.0f} m² ({standard} people at {SPHERE_SITE_AREA_PER_PERSON_M2:g} m² "
            "per person): record a capacity_justification.", field="declared_capacity")


def zone_capacity(db: Session, *, zone_id: int) -> int | None:
    """Sum of the capacities of the zone's open or planned sites; None when none is known."""
    return zone_figures(db, zone_ids=[zone_id])[zone_id][1]


def zone_figures(db: Session, *, zone_ids: Sequence[int]
                 ) -> dict[int, tuple[int, int | None]]:
    """(sites, capacity) of each zone in one light query whatever the number of zones: every
    site counts, capacity sums the open or planned ones (None when none is known)."""
    wanted = list(dict.fromkeys(zone_ids))
    counts = dict.fromkeys(wanted, 0)
    known: dict[int, list[int]] = {zone_id: [] for zone_id in wanted}
    if not wanted:
        return {}
    # The figures only, not Site objects (a tenth of the cost), so that the rule above stays
    # the one place where capacity is decided.
    for row in db.execute(select(Site.zone_id, Site.status, *FIGURE_COLUMNS)
                          .where(Site.zone_id.in_(wanted))):
        counts[row.zone_id] += 1
        capacity = site_capacity(row) if row.status != SiteStatus.closed else None
        if capacity is not None:
            known[row.zone_id].append(capacity)
    return {zone_id: (counts[zone_id], sum(known[zone_id]) if known[zone_id] else None)
            for zone_id in wanted}
