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

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.exceptions import ValidationFailed
from havens.zones.models import Site, SiteStatus

#: Sphere Handbook 2018, Shelter and settlement standard 2: minimum site area per person (m²).
SPHERE_SITE_AREA_PER_PERSON_M2 = 45.0


def site_area_m2(site: Site) -> float | None:
    """The site's area: measured from its boundary when drawn, else as declared."""
    return site.area_m2 if site.area_m2 is not None else site.declared_area_m2


def standard_capacity(area_m2: float | None) -> int | None:
    """People a site of this area can hold under the Sphere standard."""
    if area_m2 is None:
        return None
    return math.floor(area_m2 / SPHERE_SITE_AREA_PER_PERSON_M2)


def site_capacity(site: Site) -> int | None:
    """Capacity of one site in people (see the module's rules), or None when unknown."""
    standard = standard_capacity(site_area_m2(site))
    declared = site.declared_capacity
    if declared is None:
        return standard
    if standard is None or declared <= standard or site.capacity_justification:
        return declared
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
    sites = db.scalars(select(Site).where(Site.zone_id == zone_id,
                                          Site.status != SiteStatus.closed))
    known = [c for c in (site_capacity(s) for s in sites) if c is not None]
    return sum(known) if known else None
