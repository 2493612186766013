"""Import 100,000 generated individuals from CSV into SQLite and PostgreSQL; prints rows/s.

    .venv/bin/python benchmarks/import_bench.py [--rows 100000] [--repeat 3]
                                                [--postgres URL | --no-postgres]

Target (issue 4): at least 20,000 rows/s on SQLite on the 2-core machine. The time covers the
whole import as `havens people import` runs it: reading the CSV, checking every row,
encrypting, writing, the audit record and the commit. Besides wall time it prints the CPU time
of the import process, steadier on a shared machine (on PostgreSQL the server's own work is
not in it). Each run imports into a new database; the summary gives the median of the runs
and the processor they ran on (machines of the same size differ by half in speed).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _people_setup import ORIGINS, fresh_database, prepare

from havens.database import session_scope
from havens.orgs.permissions import Principal
from havens.people import importing
from havens.people.crypto import FieldCipher
from havens.people.generator import Generator, to_csv

TARGET_SQLITE = 20_000  # rows/s (issue 4)


def run(kind: str, postgres_url: str, data: bytes, rows: int, site: str) -> float:
    """One import into a new database of the kind; returns its rows/s (wall time)."""
    # Modules a running server (and the CLI, at start) has loaded already: one computes an
    # argon2 hash on import, and the import's first step looks up the organisation through
    # havens.orgs.service.
    for module in ("havens.orgs.security", "havens.orgs.service"):
        importlib.import_module(module)
    with fresh_database(kind, postgres_url) as url:
        prepare(url, zones=1, sites_per_zone=1)
        cipher = FieldCipher([("bench", os.urandom(32))])
        stages: dict[str, float] = {}
        started, cpu_started = time.perf_counter(), time.process_time()

        def on_progress(stage: str, done: int, total: int) -> None:
            stages.setdefault(stage, time.perf_counter())

        with session_scope(url) as db:
            report = importing.import_file(db, actor=Principal.system(), data=data,
                                           filename="bench.csv", site_code=site,
                                           organisation="UNHCR", cipher=cipher,
                                           on_progress=on_progress)
            before_commit = time.perf_counter()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        assert report.written and report.individuals_created == rows, report.problems[:3]
        checking = stages.get("writing", before_commit) - started
        print(f"{kind:10s} {rows:,} rows in {elapsed:6.2f} s = {rows / elapsed:9,.0f} rows/s "
              f"(read+check {checking:.2f} s, write {before_commit - stages['writing']:.2f} s, "
              f"commit {time.perf_counter() - before_commit:.2f} s)")
        # The machine is shared: the import process's own CPU time is the steadier figure
        # (the database server's work on PostgreSQL is not in it).
        print(f"{'':10s} CPU of the import process {cpu:6.2f} s = {rows / cpu:9,.0f} rows/s")
        return rows / elapsed


def processor() -> str:
    """The processor's model name (Linux), for comparing figures across machines."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="imports per database")
    args = parser.parse_args()
    generated = list(Generator(seed=1, origins=ORIGINS, ref_prefix="B").rows(args.rows))
    rows = generated[:args.rows]
    # Whole households only: cut after the last complete one.
    while len(rows) < len(generated) and rows and \
            generated[len(rows)]["household_ref"] == rows[-1]["household_ref"]:
        rows.pop()
    data = to_csv(rows)
    with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
        handle.write(data)
        print(f"CSV: {len(rows):,} rows, {len(data) / 1e6:.1f} MB")
    kinds = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    medians = {}
    for kind in kinds:
        rates = [run(kind, args.postgres, data, len(rows), "CP001001")
                 for _ in range(max(1, args.repeat))]
        medians[kind] = statistics.median(rates)
    print(f"\nmedian of {max(1, args.repeat)} on {processor()}:")
    for kind, rate in medians.items():
        verdict = ""
        if kind == "sqlite":
            met = "met" if rate >= TARGET_SQLITE else "NOT met"
            verdict = f"  (target {TARGET_SQLITE:,}: {met})"
        print(f"  {kind:10s} {rate:9,.0f} rows/s{verdict}")


if __name__ == "__main__":
    main()
