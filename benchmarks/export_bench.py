"""Export of 1,000,000 registered individuals: streams in constant memory.

    .venv/bin/python benchmarks/export_bench.py [--individuals 1000000] [--postgres URL]
                                                [--no-postgres] [--xlsx]

People are bulk-generated with the occupancy benchmark's generator (8 zones of 5 sites). The
export is ``registered-individuals`` (the personal-data export, one row a person, 19 columns),
written as HXL CSV by :func:`havens.interop.output.produce` — the code the CLI and the API run.
Each export runs in a child process so that its peak RSS is its own (not the generator's): one
zone (1/8 of the rows), then all zones; constant memory means the two peaks are about equal.
The aggregate ``population`` and ``dtm-sites`` exports are timed over the same people.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def child(url: str, name: str, fmt: str, zone: str | None, out: str) -> None:
    """Run one export and print a JSON line: rows, bytes, seconds, peak RSS."""
    from havens.database import session_scope
    from havens.interop import registry
    from havens.interop.output import produce
    from havens.orgs.models import Role
    from havens.orgs.permissions import Principal

    # A registrar of the organisation that registered everyone (organisation 1).
    actor = Principal(user_id=None, organisation_id=1, role=Role.registrar, email="bench")
    rows = 0

    def count() -> None:
        nonlocal rows
        rows += 1

    started = time.perf_counter()
    with session_scope(url) as db, open(out, "wb") as handle:
        export = registry.get(name, fmt)
        params = registry.Params(zone=zone, purpose="benchmark of the export's memory")
        registry.prepare(db, actor=actor, export=export, params=params, fmt=fmt)
        for chunk in produce(export, fmt, db=db, actor=actor, params=params, on_row=count):
            handle.write(chunk)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "bytes": Path(out).stat().st_size, "seconds": seconds,
                      "peak_rss_mib": peak_kib / 1024}))


def run_child(url: str, name: str, fmt: str, zone: str | None, out: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", url, name, fmt, zone or "-", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _flag, url, export_name, fmt, zone_code, target = sys.argv[1:7]
        child(url, export_name, fmt, None if zone_code == "-" else zone_code, target)
        return
    # Imported here, not at the top: the child processes measure the export alone.
    from _people_setup import fresh_database, prepare
    from occupancy_bench import populate

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--individuals", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--xlsx", action="store_true", help="also time the XLSX of one zone")
    args = parser.parse_args()
    out = Path("/tmp") / "havens-export-bench.out"
    for kind in ["sqlite"] + ([] if args.no_postgres else ["postgresql"]):
        with fresh_database(kind, args.postgres) as url:
            print(f"{kind}: generating {args.individuals:,} individuals")
            prepare(url, zones=8, sites_per_zone=5)
            populate(url, args.individuals)
            runs = [("registered-individuals", "csv", "Z01"),
                    ("registered-individuals", "csv", None),
                    ("population", "csv", None), ("dtm-sites", "csv", None)]
            if args.xlsx:
                runs.append(("registered-individuals", "xlsx", "Z01"))
            for name, fmt, zone in runs:
                f = run_child(url, name, fmt, zone, out)
                rate = f["rows"] / f["seconds"] if f["seconds"] else 0
                print(f"  {name}.{fmt} ({'zone ' + zone if zone else 'all zones'}): "
                      f"{f['rows']:,.0f} rows, {f['bytes'] / 1e6:,.1f} MB in "
                      f"{f['seconds']:.1f} s ({rate:,.0f} rows/s), "
                      f"peak RSS {f['peak_rss_mib']:.0f} MiB")
    out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
