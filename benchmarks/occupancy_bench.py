"""Zone occupancy summary with 1,000,000 registered individuals: prints p50/p95 (target p95
< 200 ms).

    .venv/bin/python benchmarks/occupancy_bench.py [--individuals 1000000] [--postgres URL]

Individuals are bulk-generated straight into the tables (the import's own speed is measured by
import_bench.py): 8 zones of 5 sites, households of 1 to 9 people, 90 % present, names from the
demo generator's lists, one household in ten registered by a second organisation. The summary
is ``havens.people.occupancy.zone_occupancy``: per site, sex and age group, plus households and
capacity use. It is timed for the operator (every count) and for a coordinator of the first
organisation (its own counts as they are, the shared sites protected).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _people_setup import ORIGINS, fresh_database, prepare
from sqlalchemy import select, text

from havens.database import get_engine, session_scope, utcnow
from havens.orgs.models import Organisation, OrgKind, Role
from havens.orgs.permissions import Principal
from havens.people import occupancy
from havens.people.generator import FAMILY, FEMALE, MALE
from havens.people.models import Household, HouseholdStatus, Individual, Relationship, Sex
from havens.people.writer import insert_rows
from havens.zones.models import Site, Zone

ZONES, SITES_PER_ZONE = 8, 5


def populate(url: str, individuals: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    today = dt.date.today()
    now = utcnow()
    with session_scope(url) as db:
        sites = [(s.id, s.code) for s in db.scalars(select(Site).order_by(Site.id))]
        partner = Organisation(name="Partner", acronym="PARTNER", kind=OrgKind.ngo,
                               country="SYR")
        db.add(partner)
        db.flush()
        organisations = [1] * 9 + [partner.id]
    made, number = 0, 0
    started = time.perf_counter()
    while made < individuals:
        households, people = [], []
        with session_scope(url) as db:
            first_id = int(db.scalar(text("SELECT COALESCE(MAX(id), 0) FROM households")) or 0)
            for _ in range(20_000):
                if made >= individuals:
                    break
                number += 1
                site_id, code = sites[number % len(sites)]
                present = rnd.random() < 0.9
                hid = first_id + len(households) + 1
                org = organisations[number % len(organisations)]
                households.append({
                    "id": hid, "registration_number": f"{code}-{number:07d}",
                    "household_ref": f"B-{number}", "site_id": site_id, "organisation_id": org,
                    "origin_pcode": rnd.choice(ORIGINS), "arrival_date": today,
                    "status": HouseholdStatus.present if present else HouseholdStatus.departed,
                    "consent_registration": True, "consent_sharing": False,
                    "consent_purposes": [], "created_at": now, "updated_at": now})
                family = rnd.choice(FAMILY)
                for n in range(min(rnd.randint(1, 9), individuals - made)):
                    sex = rnd.choice((Sex.male, Sex.female))
                    given = rnd.choice(MALE if sex == Sex.male else FEMALE)
                    people.append({
                        "household_id": hid, "organisation_id": org, "site_id": site_id,
                        "present": present,
                        "relationship": Relationship.head if n == 0 else Relationship.child,
                        "given_name_ar": given[0], "family_name_ar": family[0],
                        "given_name_en": given[1][0], "family_name_en": family[1][0],
                        "name_key_ar": "", "name_key_en": "", "sex": sex,
                        "date_of_birth": today - dt.timedelta(days=rnd.randint(0, 85 * 365)),
                        "dob_estimated": False, "specific_needs": [],
                        "created_at": now, "updated_at": now})
                    made += 1
            insert_rows(db, Household.__table__, households)  # type: ignore[arg-type]
            insert_rows(db, Individual.__table__, people)  # type: ignore[arg-type]
        print(f"\r  {made:,} individuals ({time.perf_counter() - started:.0f} s)", end="",
              flush=True)
    print()
    engine = get_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # Statistics for the planner; on PostgreSQL VACUUM also sets the visibility map that
        # index-only scans need.
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql"
                             else "ANALYZE")


def measure(url: str, repeat: int, actor: Principal, who: str) -> None:
    with session_scope(url) as db:
        zones = list(db.scalars(select(Zone.id).order_by(Zone.id)))
        timings = []
        for i in range(repeat):
            zone_id = zones[i % len(zones)]
            started = time.perf_counter()
            summary = occupancy.zone_occupancy(db, actor=actor, zone_id=zone_id)
            timings.append((time.perf_counter() - started) * 1000)
            db.expire_all()
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"  {who}: zone occupancy summary ({len(summary.sites)} sites, "
              f"{summary.population.individuals:,} present in the last zone): "
              f"p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms, "
              f"max {timings[-1]:.0f} ms over {repeat} runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--individuals", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    for kind in ["sqlite"] + ([] if args.no_postgres else ["postgresql"]):
        with fresh_database(kind, args.postgres) as url:
            print(f"{kind}: generating {args.individuals:,} individuals")
            prepare(url, zones=ZONES, sites_per_zone=SITES_PER_ZONE)
            populate(url, args.individuals)
            measure(url, args.repeat, Principal.system(), "operator")
            measure(url, args.repeat, Principal(user_id=1, organisation_id=1,
                                                role=Role.coordinator), "coordinator")


if __name__ == "__main__":
    main()
