"""Learning from reviewers: F1 after 0, 100, 250, 500 labels chosen actively or at random.

On a generated Arabic-name registry (``linkage.synth``, ground truth ``person_id``) the file engine
blocks and compares once; a simulated reviewer answers from the ground truth, only for the pairs
a strategy chose. Strategies: ``active`` (``active.select_batch`` on the current scorer's
probabilities: uncertain pairs round-robin over comparison patterns, interleaved with pairs drawn
across evidence bands — it never sees an answer before choosing) and ``random`` (uniform over
candidate pairs). After each step the product's training runs (``learned.train``: model choice
by cross-validation, calibration, promotion only if the new model beats the current scorer on
held-out labels; the unsupervised model while there are fewer than ``learned.MIN_PER_CLASS``
labels of a class), every candidate pair is re-scored by the promoted scorer, clusters are
built as ``dedupe`` builds them (average linkage) and pairwise precision/recall/F1 are measured
against the ground truth.

Each seed generates its own registry (and random sample); the table averages over the seeds and
shows the lowest F1. Times are wall and CPU seconds (the machine is shared); "train" is
``learned.train`` (two fits: all labels, and four fifths for the held-out check), "rescore" scores
every candidate pair of the registry.

    .venv/bin/python benchmarks/linkage_learning_bench.py [--records 100000] [--seeds 11,12,13]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from havens.exceptions import ValidationFailed
from havens.linkage import active, blocking, engine_duckdb, learned, synth
from havens.linkage.cluster import cluster
from havens.linkage.duck import rows, run
from havens.linkage.evaluate import Scores, cluster_scores
from havens.linkage.features import COMPARISONS, comparison_sql
from havens.linkage.labels import LEVELS, Example
from havens.linkage.learned import EXTRA

STEPS = (0, 100, 250, 500)
F1_TARGET = PRECISION_TARGET = 0.98
SECONDS_TARGET = 30.0


def _prepare(records: int, seed: int) -> tuple[Any, int, dict[str, str], Path]:
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "registry.csv"
    generated = synth.generate(records, seed=seed, path=path)
    truth = {r[0]: r[-1] for r in generated}
    con = engine_duckdb.connect()
    summary = engine_duckdb.Summary()
    n = engine_duckdb._prepare(con, [path], False, blocking.DEFAULT_CAP, summary,
                               engine_duckdb._Timer(summary, None))
    return con, n, truth, path


def _pool(con: Any, truth: dict[str, str]) -> dict[str, Any]:
    names = {c.name for c in COMPARISONS}
    cols = [f"g_{f}" if f in names else f"x_{f}" for f in LEVELS]
    data = con.execute(f"""SELECT c.rid_l, c.rid_r, {', '.join('c.' + x for x in cols)},
        {', '.join('c.' + t for t in EXTRA)}, l.record_id AS id_l, r.record_id AS id_r
        FROM cmp c JOIN rec l ON l.rid = c.rid_l JOIN rec r ON r.rid = c.rid_r
        ORDER BY c.rid_l, c.rid_r""").fetchnumpy()
    levels = np.column_stack([np.asarray(data[c], dtype=np.int64) for c in cols])
    tf = np.column_stack([np.asarray(data[t], dtype=np.float64) for t in EXTRA])
    y = np.array([truth[a] == truth[b] for a, b in zip(data["id_l"], data["id_r"], strict=True)])
    # The queue's groups without sites: the pattern of given name, lineage and date of birth.
    groups = [active.pattern(dict(zip(LEVELS, r, strict=True))) for r in levels.tolist()]
    return {"rid_l": np.asarray(data["rid_l"]), "rid_r": np.asarray(data["rid_r"]),
            "levels": levels, "tf": tf, "y": y, "groups": groups}


def _fs(con: Any, n: int) -> tuple[np.ndarray, Any, float]:
    model = engine_duckdb._fit(con, n, False)
    prior = model.prior(n, n * (n - 1) // 2)
    run(con, f"CREATE OR REPLACE TABLE cmp AS SELECT *, {model.weight_sql(prior)} AS fs_weight "
        "FROM cmp ORDER BY rid_l, rid_r")
    p = np.array([r[0] for r in rows(con, f"SELECT {model.probability_sql(prior)} FROM cmp "
                                     "ORDER BY rid_l, rid_r")])
    return p, model, prior


def _evaluate(con: Any, n: int, pool: dict[str, Any], p: np.ndarray, threshold: float,
              scorer: learned.LearnedModel | None, fs: Any, prior: float,
              truth: dict[str, str]) -> Scores:
    above = p >= threshold

    def score(wanted: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
        arr = np.array(wanted, dtype=np.int64)
        con.register("want_t", pa.table({"rid_l": arr[:, 0], "rid_r": arr[:, 1]}))
        run(con, f"CREATE OR REPLACE TEMP TABLE want_cmp AS SELECT *, "
            f"{fs.weight_sql(prior)} AS fs_weight FROM ({comparison_sql('want_t')})")
        con.unregister("want_t")
        if scorer is not None:
            s = learned.score_table(con, scorer, "want_cmp")
            return {(int(a), int(b)): float(q)
                    for a, b, q in zip(s["rid_l"], s["rid_r"], s["p"], strict=True)}
        got = rows(con, f"SELECT rid_l, rid_r, {fs.probability_sql(prior)} FROM want_cmp")
        return {(int(a), int(b)): float(q) for a, b, q in got}

    labels = cluster(n, pool["rid_l"][above], pool["rid_r"][above], p[above], threshold, score)
    ids = [r[0] for r in rows(con, "SELECT record_id FROM rec ORDER BY rid")]
    clusters = {ids[i]: ids[int(labels[i])] for i in range(n)}
    return cluster_scores(clusters, truth)


def _examples(pool: dict[str, Any], chosen: list[int], shown: np.ndarray) -> list[Example]:
    """The reviewer's answers on ``chosen``, with the probability the queue showed."""
    out = []
    for i in chosen:
        v: dict[str, Any] = {f: int(x) for f, x in zip(LEVELS, pool["levels"][i], strict=True)}
        v.update({t: float(x) for t, x in zip(EXTRA, pool["tf"][i], strict=True)})
        out.append(Example(v, bool(pool["y"][i]), float(shown[i])))
    return out


@dataclass
class Row:
    seed: int
    strategy: str
    labels: int
    matches: int
    scorer: str
    scores: Scores
    train: tuple[float, float] = (0.0, 0.0)  # wall, CPU seconds
    rescore: tuple[float, float] = (0.0, 0.0)


def _timed(fn: Callable[..., Any], *args: Any, **kwargs: Any
           ) -> tuple[Any, tuple[float, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, (time.perf_counter() - wall, time.process_time() - cpu)


def _strategy(name: str, seed: int, ctx: dict[str, Any], threshold: float
              ) -> tuple[list[Row], learned.LearnedModel | None]:
    """The rows of one strategy on one registry, and the scorer in use at the end."""
    con, n, truth, pool, fs_p = ctx["con"], ctx["n"], ctx["truth"], ctx["pool"], ctx["fs_p"]
    rng = np.random.default_rng(seed)
    root = Path(tempfile.mkdtemp()) / "models"
    chosen: list[int] = []
    shown = np.zeros(len(fs_p))  # what the queue showed each pair when it was labelled
    p, scorer, out = fs_p, None, []
    for step in STEPS[1:]:
        k = step - len(chosen)
        if name == "active":
            # Boundary 0.5: where the current scorer cannot tell.
            new = active.select_batch(p, pool["groups"], k, boundary=0.5,
                                      exclude=set(chosen), seed=seed)
        else:
            rest = np.setdiff1d(np.arange(len(p)), chosen)
            new = [int(i) for i in rng.choice(rest, size=k, replace=False)]
        shown[new] = p[new]
        chosen += new
        examples = _examples(pool, chosen, shown)
        try:
            result, train_t = _timed(learned.train, examples, root)
        except ValidationFailed:
            result, train_t = None, (0.0, 0.0)
        rescore_t = (0.0, 0.0)
        if result is not None and result.promoted:
            scorer = result.model
            got, rescore_t = _timed(learned.score_table, con, scorer)
            # Back in the pool's order (DuckDB scans in parallel, in any order).
            p = got["p"][np.lexsort((got["rid_r"], got["rid_l"]))]
        sc = _evaluate(con, n, pool, p, 0.5 if scorer else threshold, scorer, ctx["fs"],
                       ctx["prior"], truth)
        tag = scorer.tag if scorer else "unsup."
        if result is not None and not result.promoted:
            tag += "*"
        out.append(Row(seed, name, step, sum(e.is_match for e in examples), tag, sc, train_t,
                       rescore_t))
    return out, scorer


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seeds", default="11,12,13",
                        help="one registry (and random sample) per seed; the table averages")
    parser.add_argument("--threshold", type=float, default=0.9,
                        help="the unsupervised model's threshold (learned models: 0.5)")
    parser.add_argument("--strategies", default="active,random")
    parser.add_argument("--explore", type=float, default=active.EXPLORE,
                        help="share of each active batch drawn across the evidence bands")
    parser.add_argument("--per-seed", action="store_true", help="print every seed's rows")
    args = parser.parse_args()
    active.EXPLORE = args.explore
    seeds = [int(s) for s in args.seeds.split(",")]
    strategies = args.strategies.split(",")
    t0, cpu0 = time.perf_counter(), time.process_time()
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    rows_: list[Row] = []
    full: tuple[float, float] | None = None
    for seed in seeds:
        con, n, truth, path = _prepare(args.records, seed)
        fs_p, fs, prior = _fs(con, n)
        pool = _pool(con, truth)
        print(f"seed {seed}: records {n:,}; candidate pairs {len(fs_p):,}; true pairs among "
              f"them {int(pool['y'].sum()):,}", flush=True)
        ctx = {"con": con, "n": n, "truth": truth, "pool": pool, "fs_p": fs_p, "fs": fs,
               "prior": prior}
        base = _evaluate(con, n, pool, fs_p, args.threshold, None, fs, prior, truth)
        rows_ += [Row(seed, s, 0, 0, "unsup.", base) for s in strategies]
        for s in strategies:
            got, scorer = _strategy(s, seed, ctx, args.threshold)
            rows_ += got
            if s == "active" and seed == seeds[0] and scorer is not None:
                # Re-scoring the registry end to end with the new model: load, block, compare,
                # score, cluster, write (what `havens linkage dedupe` does after training).
                _, full = _timed(engine_duckdb.dedupe, path, out=path.with_name("out.csv"),
                                 learned=scorer)
        con.close()
    if args.per_seed:
        print(f"\n{'seed':>4} {'strategy':8} {'labels':>6} {'matches':>7} {'scorer':>12} "
              f"{'P':>6} {'R':>6} {'F1':>6}")
        for r in rows_:
            print(f"{r.seed:>4} {r.strategy:8} {r.labels:>6} {r.matches:>7} {r.scorer:>12} "
                  f"{r.scores.precision:6.4f} {r.scores.recall:6.4f} {r.scores.f1:6.4f}")
    print(f"\nmean over seeds {args.seeds} ({args.records:,} records each); * = trained, not "
          "promoted (no better on held-out labels)")
    print(f"{'strategy':8} {'labels':>6} {'matches':>7} {'P':>6} {'R':>6} {'F1':>6} "
          f"{'min F1':>6} {'train s (cpu)':>14} {'rescore s (cpu)':>16}  scorers")
    table: dict[tuple[str, int], dict[str, float]] = {}
    for s in strategies:
        for step in STEPS:
            got = [r for r in rows_ if r.strategy == s and r.labels == step]
            m = {"P": _mean([r.scores.precision for r in got]),
                 "R": _mean([r.scores.recall for r in got]),
                 "F1": _mean([r.scores.f1 for r in got]),
                 "minF1": min(r.scores.f1 for r in got),
                 "tw": max(r.train[0] for r in got), "tc": max(r.train[1] for r in got),
                 "rw": max(r.rescore[0] for r in got), "rc": max(r.rescore[1] for r in got)}
            table[s, step] = m
            print(f"{s:8} {step:>6} {_mean([r.matches for r in got]):>7.0f} {m['P']:6.4f} "
                  f"{m['R']:6.4f} {m['F1']:6.4f} {m['minF1']:6.4f} "
                  f"{m['tw']:6.2f} ({m['tc']:5.2f}) {m['rw']:7.2f} ({m['rc']:5.2f})  "
                  f"{','.join(r.scorer for r in got)}")
    print("\ntargets:")
    if ("active", 500) in table:
        a = table["active", 500]
        ok = a["F1"] >= F1_TARGET and a["P"] >= PRECISION_TARGET
        print(f"  F1 >= {F1_TARGET} and precision >= {PRECISION_TARGET} after <= 500 active "
              f"labels: F1 {a['F1']:.4f} (lowest seed {a['minF1']:.4f}), precision "
              f"{a['P']:.4f} -> {'met' if ok else 'NOT met'}")
    if ("active", 250) in table and ("random", 500) in table:
        want = table["random", 500]["F1"]
        got = table["active", 250]["F1"]
        reached = [step for step in STEPS if table["active", step]["F1"] >= want]
        first = reached[0] if reached else None
        note = (" (no labels at all already do as well: random labels did not beat the "
                "unsupervised model)" if first == 0 else "")
        print(f"  active reaches random-500 F1 ({want:.4f}) with <= 250 labels: active-250 "
              f"{got:.4f}{note} -> {'met' if got >= want else 'NOT met'}")
    worst = max((r for r in rows_ if r.labels), key=lambda r: r.train[0] + r.rescore[0],
                default=None)
    if worst is not None:
        wall = worst.train[0] + worst.rescore[0]
        cpu = worst.train[1] + worst.rescore[1]
        if args.records < 100_000:
            verdict = f"not measured (only {args.records:,} records)"
        else:
            verdict = "met" if wall <= SECONDS_TARGET else "NOT met"
        print(f"  train + rescore <= {SECONDS_TARGET:.0f} s at 100,000 records: slowest "
              f"training plus scoring of every candidate pair {wall:.2f} s wall, {cpu:.2f} s "
              f"CPU ({worst.strategy}, {worst.labels} labels) -> {verdict}")
    if full is not None:
        print(f"    and a whole dedupe run with the last active model (seed {seeds[0]}): "
              f"{full[0]:.2f} s wall, {full[1]:.2f} s CPU")
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"total {time.perf_counter() - t0:.0f} s wall, {time.process_time() - cpu0:.0f} s CPU")


if __name__ == "__main__":
    main()
