"""Learning from reviewers: F1 after 0, 100, 250, 500 labels chosen actively or at random.

On a generated Arabic-name registry (``linkage.synth``, ground truth ``person_id``) the file engine
blocks and compares once; a simulated reviewer answers from the ground truth. For each strategy —
``active`` (``active.select_batch``: uncertain under the current scorer, round-robin over
comparison patterns) and ``random`` (uniform over candidate pairs, seed 11) — labels are added in
steps; after each step the scorer is trained (``learned.fit``: model choice by cross-validation,
isotonic calibration; the unsupervised model while there are fewer than 30 of a class), every
candidate pair is re-scored, clusters are built as ``dedupe`` builds them (average linkage) and
pairwise precision/recall/F1 are printed with the time to train and to re-score.

    .venv/bin/python benchmarks/linkage_learning_bench.py [--records 20000] [--threshold 0.9]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from havens.exceptions import ValidationFailed
from havens.linkage import active, blocking, engine_duckdb, learned, synth
from havens.linkage.cluster import cluster
from havens.linkage.duck import rows, run
from havens.linkage.evaluate import cluster_scores
from havens.linkage.features import COMPARISONS, comparison_sql
from havens.linkage.labels import LEVELS, Example
from havens.linkage.learned import EXTRA

STEPS = (0, 100, 250, 500)


def _prepare(records: int, seed: int) -> tuple[Any, int, dict[str, str]]:
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "registry.csv"
    generated = synth.generate(records, seed=seed, path=path)
    truth = {r[0]: r[-1] for r in generated}
    con = engine_duckdb.connect()
    summary = engine_duckdb.Summary()
    n = engine_duckdb._prepare(con, [path], False, blocking.DEFAULT_CAP, summary,
                               engine_duckdb._Timer(summary, None))
    return con, n, truth


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
    groups = [tuple(r) for r in levels[:, :3].tolist()]  # given, lineage, sex/dob pattern
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
              truth: dict[str, str]) -> Any:
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


def _examples(pool: dict[str, Any], chosen: list[int]) -> list[Example]:
    out = []
    for i in chosen:
        v: dict[str, Any] = {f: int(x) for f, x in zip(LEVELS, pool["levels"][i], strict=True)}
        v.update({t: float(x) for t, x in zip(EXTRA, pool["tf"][i], strict=True)})
        out.append(Example(v, bool(pool["y"][i])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--strategies", default="active,random")
    parser.add_argument("--explore", type=float, default=active.EXPLORE,
                        help="share of each active batch spread over the probability range")
    args = parser.parse_args()
    active.EXPLORE = args.explore
    t0 = time.perf_counter()
    con, n, truth = _prepare(args.records, args.seed)
    fs_p, fs, prior = _fs(con, n)
    pool = _pool(con, truth)
    print(f"records {n:,}; candidate pairs {len(fs_p):,}; true pairs among them "
          f"{int(pool['y'].sum()):,}; prepared in {time.perf_counter() - t0:.1f} s")
    base = _evaluate(con, n, pool, fs_p, args.threshold, None, fs, prior, truth)
    print(f"{'strategy':8} {'labels':>6} {'matches':>7} {'scorer':>10} {'P':>6} {'R':>6} "
          f"{'F1':>6} {'train s':>7} {'rescore s':>9}")
    print(f"{'none':8} {0:>6} {0:>7} {'unsup.':>10} {base.precision:6.4f} {base.recall:6.4f} "
          f"{base.f1:6.4f} {'':>7} {'':>9}")
    rng = np.random.default_rng(args.seed)
    for strategy in args.strategies.split(","):
        chosen: list[int] = []
        p, scorer = fs_p, None
        for step in STEPS[1:]:
            k = step - len(chosen)
            if strategy == "active":
                # Boundary 0.5: where the current scorer cannot tell (FS probabilities at start).
                new = active.select_batch(p, pool["groups"], k, boundary=0.5,
                                          exclude=set(chosen))
            else:
                rest = np.setdiff1d(np.arange(len(p)), chosen)
                new = [int(i) for i in rng.choice(rest, size=k, replace=False)]
            chosen += new
            examples = _examples(pool, chosen)
            t = time.perf_counter()
            try:
                scorer = learned.fit(examples)
            except ValidationFailed:
                scorer = None
            train_s = time.perf_counter() - t
            t = time.perf_counter()
            if scorer is not None:
                got = learned.score_table(con, scorer)
                # Back in the pool's order (DuckDB scans in parallel, in any order).
                p = got["p"][np.lexsort((got["rid_r"], got["rid_l"]))]
            rescore_s = time.perf_counter() - t
            threshold = 0.5 if scorer is not None else args.threshold
            sc = _evaluate(con, n, pool, p, threshold, scorer, fs, prior, truth)
            matches = sum(e.is_match for e in examples)
            kind = scorer.kind if scorer else "unsup."
            print(f"{strategy:8} {step:>6} {matches:>7} {kind:>10} {sc.precision:6.4f} "
                  f"{sc.recall:6.4f} {sc.f1:6.4f} {train_s:7.2f} {rescore_s:9.2f}", flush=True)
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
