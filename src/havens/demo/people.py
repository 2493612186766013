"""Demo data of the people domain: a few thousand registered people across the demo sites.

Households are generated (``havens.people.generator``) with origins on real admin3 P-codes and
registered by UNHCR, SARC and IOM through the same writer as an import. A few people are
registered twice — by UNHCR and again by SARC, with another transliteration of their names —
as the deduplication work will meet them in the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.geo.models import AdminArea
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal
from havens.people.crypto import cipher_for
from havens.people.generator import Generator, Person, person_row
from havens.people.records import CheckedRow, check_row
from havens.people.writer import write_rows
from havens.zones.models import Site

INDIVIDUALS = 4_000
#: Share of the households registered by each organisation.
REGISTERING = (("UNHCR", 0.5), ("SARC", 0.3), ("IOM", 0.2))
DUPLICATES = 6


def _sites(db: Session) -> list[Site]:
    zoned = list(db.scalars(select(Site).where(Site.zone_id.is_not(None)).order_by(Site.code)))
    return zoned or list(db.scalars(select(Site).order_by(Site.code).limit(5)))


def load(db: Session, *, actor: Principal, individuals: int = INDIVIDUALS,
         seed: int = 2026) -> None:
    sites = _sites(db)
    orgs = {o.acronym: o for o in db.scalars(select(Organisation).where(
        Organisation.acronym.in_([a for a, _share in REGISTERING])))}
    if not sites or not orgs:
        return
    origins = list(db.scalars(select(AdminArea.pcode).where(AdminArea.level == 3)
                              .order_by(AdminArea.pcode)))
    today = dt.date.today()
    generator = Generator(seed=seed, origins=origins, today=today, ref_prefix="DEMO")
    by_code = {s.code: s for s in sites}
    households = generator.households(site_codes=list(by_code))
    cipher = cipher_for()
    duplicates: list[tuple[dict[str, str], list[Person]]] = []
    counts: dict[str, int] = {}
    for acronym, share in REGISTERING:
        org = orgs.get(acronym)
        if org is None:
            continue
        rows: list[CheckedRow] = []
        for shared, members in _take(households, int(individuals * share)):
            rows += [_checked(person_row(p, shared, variant=0), today) for p in members]
            if acronym == "UNHCR" and len(duplicates) < DUPLICATES:
                duplicates.append((shared, members))
        if acronym == "SARC":
            # The same families met again by SARC: new household key, other transliteration.
            for shared, members in duplicates:
                again = {**shared, "household_ref": shared["household_ref"] + "-SARC"}
                rows += [_checked(person_row(p, again, variant=1), today) for p in members]
        result = write_rows(db, rows=rows, organisation_id=org.id, sites=by_code,
                            cipher=cipher)
        counts[acronym] = result.individuals_created
    audit.record(db, actor=actor, action="people.demo", object_type="individual",
                 detail={"individuals": counts, "cross_agency_duplicates": len(duplicates)})


def _take(households: Iterator[tuple[dict[str, str], list[Person]]], individuals: int
          ) -> Iterator[tuple[dict[str, str], list[Person]]]:
    made = 0
    while made < individuals:
        shared, members = next(households)
        made += len(members)
        yield shared, members


def _checked(raw: dict[str, str], today: dt.date) -> CheckedRow:
    row = check_row(raw, today=today)
    if row.problems:  # the generator makes valid rows only; a failure here is a bug
        raise ValueError(f"generated row is invalid: {row.problems}")
    return row
