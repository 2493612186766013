"""The Spark engine against the DuckDB engine on a generated Arabic-name registry.

    .venv/bin/python benchmarks/linkage_spark_bench.py                  # 100k, local[2]
    .venv/bin/python benchmarks/linkage_spark_bench.py --size 20000
    .venv/bin/python benchmarks/linkage_spark_bench.py --master spark://host:7077

Both engines deduplicate the same file, each training its own model (the Spark engine counts
the comparison patterns on Spark, then fits by EM on the driver). Printed: each engine's time,
precision/recall/F1 against the generator's truth, and **pair agreement** — of the record pairs
that either engine puts in one cluster, the share that both do (the target: ≥ 99.9 %).
Clusters also compared as a whole (identical clusters / all clusters). On one machine Spark
costs more than DuckDB (a JVM, shuffles to local disk): it pays on a real cluster, for
registries DuckDB cannot hold.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_AGREEMENT = 0.999


def _read(path: Path, key: str, value: str) -> dict[str, str]:
    with path.open(encoding="utf-8") as fh:
        return {r[key]: r[value] for r in csv.DictReader(fh)}


def _together(clusters: dict[str, str]) -> set[tuple[str, str]]:
    """Every record pair in one cluster."""
    by: dict[str, list[str]] = {}
    for rid, c in clusters.items():
        by.setdefault(c, []).append(rid)
    out: set[tuple[str, str]] = set()
    for ids in by.values():
        ids.sort()
        out.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1:])
    return out


def _groups(clusters: dict[str, str]) -> set[frozenset[str]]:
    by: dict[str, set[str]] = {}
    for rid, c in clusters.items():
        by.setdefault(c, set()).add(rid)
    return {frozenset(g) for g in by.values()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--data-dir", type=Path, default=ROOT / ".tmp" / "bench")
    args = ap.parse_args()

    from havens.linkage import engine_duckdb, engine_spark
    from havens.linkage.evaluate import cluster_scores
    from havens.linkage.synth import generate

    args.data_dir.mkdir(parents=True, exist_ok=True)
    path = args.data_dir / f"arabic_{args.size}_{args.seed}.csv"
    if not path.exists():
        generate(args.size, seed=args.seed, path=path)
    truth = _read(path, "record_id", "person_id")

    results = {}
    clusters = {}
    for name in ("duckdb", "spark"):
        out = args.data_dir / f"spark_bench_{name}_{args.size}.csv"
        start = time.perf_counter()
        if name == "duckdb":
            s = engine_duckdb.dedupe(path, out=out, threshold=args.threshold)
        else:
            # The session starts outside the timing: a cluster keeps it running.
            engine_spark.spark_session(args.master)
            start = time.perf_counter()
            s = engine_spark.dedupe(path, out=out, threshold=args.threshold, master=args.master)
        wall = time.perf_counter() - start
        clusters[name] = _read(out, "record_id", "cluster_id")
        sc = cluster_scores(clusters[name], truth)
        results[name] = {"wall_s": round(wall, 1), "candidate_pairs": s.candidate_pairs,
                         "pairs_above": s.pairs_above, "clusters": s.clusters,
                         "precision": round(sc.precision, 4), "recall": round(sc.recall, 4),
                         "f1": round(sc.f1, 4), "steps": s.timings}
        print(json.dumps({"engine": name, "records": s.records, **results[name]}), flush=True)

    a, b = _together(clusters["duckdb"]), _together(clusters["spark"])
    agreement = len(a & b) / max(len(a | b), 1)
    ga, gb = _groups(clusters["duckdb"]), _groups(clusters["spark"])
    same_clusters = len(ga & gb) / max(len(ga | gb), 1)
    ok = "met" if agreement >= TARGET_AGREEMENT else "NOT met"
    print(f"records {args.size:,} on {args.master}: DuckDB {results['duckdb']['wall_s']} s, "
          f"Spark {results['spark']['wall_s']} s")
    print(f"pair agreement {agreement:.5f} ({len(a & b):,} of {len(a | b):,} pairs; "
          f"DuckDB only {len(a - b):,}, Spark only {len(b - a):,}) — target "
          f">= {TARGET_AGREEMENT}: {ok}")
    print(f"identical clusters {same_clusters:.5f}")


if __name__ == "__main__":
    main()
