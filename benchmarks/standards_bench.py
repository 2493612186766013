"""Every standard for 200 zones with 1,000,000 people present must compute in < 2 s.

    .venv/bin/python benchmarks/standards_bench.py                      # SQLite (temp file)
    .venv/bin/python benchmarks/standards_bench.py postgresql://postgres@127.0.0.1:5432/x
    .venv/bin/python benchmarks/standards_bench.py sqlite:////tmp/bench.db  # kept, reused

Bulk-generates (in SQL) 200 zones of 2 sites, 200,000 households of 5 people of every age,
and 12 metrics measured on 6 dates per zone, then times ``indicators.compute`` for all zones:
one cold run and the best of five warm runs. A PostgreSQL database named in the URL is created
and dropped by the benchmark.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
import tempfile
import time

from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

from havens.assistance import indicators
from havens.assistance.models import Measurement
from havens.database import make_engine, normalise_url, session_factory
from havens.models import metadata
from havens.orgs.models import Organisation
from havens.zones.models import Site, SiteType, Zone

ZONES, SITES_PER_ZONE, PEOPLE, HOUSEHOLD = 200, 2, 1_000_000, 5
ON = dt.date(2030, 6, 1)
LIMIT_S = 2.0


def generate(engine: Engine) -> None:
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [{"name": "Bench org", "acronym": "BENCH",
                                             "kind": "ngo", "country": "SYR"}])
        conn.execute(insert(Zone), [
            {"code": f"SZ-B-{z:03d}", "name_en": f"Zone {z}", "status": "operational",
             "admin_pcodes": [], "area_m2": 200_000.0 + 1_000 * z, "emergency_phase": z % 5 == 0}
            for z in range(ZONES)])
        zone_ids = [r[0] for r in conn.execute(text("SELECT id FROM zones ORDER BY id"))]
        conn.execute(insert(Site), [
            {"code": f"CP{z * SITES_PER_ZONE + s:06d}", "name_en": "Camp",
             "site_type": SiteType.planned_camp.value, "status": "open", "lon": 36.7,
             "lat": 36.2, "zone_id": zone_ids[z]}
            for z in range(ZONES) for s in range(SITES_PER_ZONE)])
        first_site = conn.execute(text("SELECT min(id) FROM sites")).scalar_one()
        sites = ZONES * SITES_PER_ZONE
        households = PEOPLE // HOUSEHOLD
        if sqlite:
            series = ("WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq "
                      "WHERE n < {last}) ")
            dob = "date('2030-01-01', '-' || (n % 80) || ' years', '-' || (n % 365) || ' days')"
            now = "datetime('now')"
            arrived = "'2029-01-01'"
        else:
            series = "WITH seq(n) AS (SELECT generate_series(0, {last})) "
            dob = ("(DATE '2030-01-01' - make_interval(years => (n % 80)::int) "
                   "- make_interval(days => (n % 365)::int))::date")
            now = "now()"
            arrived = "DATE '2029-01-01'"
        conn.execute(text(
            series.format(last=households - 1)
            + "INSERT INTO households (registration_number, site_id, organisation_id, "
              "arrival_date, status, consent_registration, consent_sharing, consent_purposes, "
              "created_at, updated_at) "
              f"SELECT 'B-' || n, {first_site} + (n % {sites}), 1, {arrived}, "
              f"'present', true, false, '[]', {now}, {now} FROM seq"))
        first_household = conn.execute(text("SELECT min(id) FROM households")).scalar_one()
        conn.execute(text(
            series.format(last=PEOPLE - 1)
            + "INSERT INTO individuals (household_id, organisation_id, site_id, present, "
              "relationship, name_key_ar, name_key_en, sex, date_of_birth, dob_estimated, "
              "specific_needs, created_at, updated_at) "
              f"SELECT {first_household} + n / {HOUSEHOLD}, 1, "
              f"{first_site} + ((n / {HOUSEHOLD}) % {sites}), true, "
              "CASE WHEN n % 5 = 0 THEN 'head' ELSE 'child' END, '', '', "
              f"CASE WHEN n % 2 = 0 THEN 'F' ELSE 'M' END, {dob}, false, '[]', {now}, {now} "
              "FROM seq"))
        metrics = ["water_delivered_lpd", "water_points_tap", "water_points_handpump",
                   "toilets_functional", "covered_area_m2", "learning_spaces",
                   "learners_f_6_11", "learners_m_6_11", "learners_f_12_17",
                   "learners_m_12_17", "showers", "health_facilities"]
        conn.execute(insert(Measurement), [
            {"zone_id": zone_id, "metric": metric,
             "measured_on": ON - dt.timedelta(days=30 * k), "value": float(50 + z * 7 + k)}
            for z, zone_id in enumerate(zone_ids) for metric in metrics for k in range(6)])
    if not sqlite:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def run(url: str) -> float:
    engine = make_engine(url)
    metadata.create_all(engine)
    with engine.connect() as conn:
        filled = conn.execute(text("SELECT count(*) FROM zones")).scalar_one()
    if not filled:  # a kept SQLite file (given as the URL) is reused as it is
        started = time.perf_counter()
        generate(engine)
        print(f"generated {ZONES} zones, {PEOPLE:,} people in "
              f"{time.perf_counter() - started:.1f} s ({engine.dialect.name})", flush=True)
    db = session_factory(engine)()
    timings = []
    for _ in range(6):
        started = time.perf_counter()
        computed = indicators.compute(db, on=ON)
        timings.append(time.perf_counter() - started)
    db.close()
    engine.dispose()
    present = sum(f.population or 0 for f, _r in computed)
    results = sum(len(r) for _f, r in computed)
    assert len(computed) == ZONES and present == PEOPLE, (len(computed), present)
    best = min(timings[1:])
    print(f"all indicators: {len(computed)} zones, {present:,} people present, {results} "
          f"results: cold {timings[0]:.3f} s, best warm {best:.3f} s (limit {LIMIT_S} s)")
    return max(timings[0], best)


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else os.environ.get("HAVENS_BENCH_DATABASE_URL", "")
    if url.startswith("postgres"):
        base = make_url(normalise_url(url))
        name = f"havens_bench_{secrets.token_hex(3)}"
        admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False),
                            isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            worst = run(base.set(database=name).render_as_string(hide_password=False))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    elif url.startswith("sqlite"):
        worst = run(url)
    else:
        with tempfile.TemporaryDirectory() as folder:
            worst = run(f"sqlite:///{folder}/bench.db")
    return 0 if worst < LIMIT_S else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
