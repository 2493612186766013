"""The DuckDB engine: deduplicate one list or link two, end to end, on one machine.

Why not Splink end to end: the reference Splink 5 set-up on this kind of machine took 214 s and
9.6 GB for 1 M records, because its blocking rules produce 104 M pairs and it keeps every pair's
comparison columns. Here the pieces Splink would run are written for the data at hand:

1. names are normalised once per *distinct* spelling in Python (``normalise.py``), joined back
   in SQL;
2. frequency-aware blocking in SQL (``blocking.py``) keeps candidate pairs near-linear in N;
3. comparison levels are computed in SQL (``features.py``) and grouped into patterns;
4. the Fellegi–Sunter m/u parameters are fitted by EM on the pattern counts (``model.py``), the
   same model Splink fits, in milliseconds instead of one pass over the pairs per iteration;
5. scoring is one SQL expression; clustering guards against chaining relatives and keeps the
   pairs a reviewer rejected apart (``cluster.py``, ``--cannot-link``).

Memory is bounded by DuckDB's ``memory_limit`` (spilling to a temporary directory), so peak RSS
stays well under 3 GB at 1 M records.

Measured (``benchmarks/linkage_bench.py``, 2 cores shared with other work; the load average is
printed with every figure — CPU time is the comparable one):

* FEBRL3 (dedupe, 5,000 records) P 1.0000 R 0.9969 F1 0.9985; FEBRL4 (link, 5,000 × 5,000)
  P 0.9998 R 0.9982 F1 0.9990 — under a second each. Before this round: F1 0.9871 and 0.9954;
  the misses were clusters split by averaging probabilities (78 of 167 missed FEBRL3 pairs),
  pairs scored low because u of rare agreements held the random sample's own matches, names one
  typo apart with skeletons too short to compare, and document numbers one typo apart that no
  rule blocked together (see ``cluster.py``, ``model.py``, ``features.py``, ``blocking.py``).
* Generated Arabic-name registry, 100k records: 179k candidate pairs, P 0.9920 R 0.9761
  F1 0.9840 (cross-script pairs P 0.994 R 0.978), 2.6 s wall / 2.6 s CPU, 416 MB.
* 1 M records: 3.43 M candidate pairs, P 0.9879 R 0.9704 F1 0.9791 (cross-script P 0.990
  R 0.972), 14–26 s wall / 19–23 s CPU at load averages 1–5 on 2 cores, 1.7 GB peak RSS. CPU s
  per step: read 1.2, normalise 4.0–4.8, block 5.9–6.8, compare 4.9–6.6, train 0.6–1.0,
  score 0.4, cluster 1.4–1.6, write 0.3. Time grows as N^0.8–0.9 from 100k to 1 M.
  Before this round (same machine, back to back): P 0.968 R 0.957 F1 0.962 — precision under
  target, EM took blocked namesakes for matches — and 18.7 s CPU for 3.17 M pairs; the steps
  made cheaper since (read 1.7, block's hashing, compare's edit distances, cluster 2.0) paid for
  8 % more candidate pairs, two more blocking rules and the spelling comparisons.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from havens.linkage import blocking, files
from havens.linkage.cluster import PairScorer, cluster
from havens.linkage.duck import one, rows, run
from havens.linkage.features import COMPARISONS, PART_FIELDS, build_features, comparison_sql
from havens.linkage.learned import LearnedModel, score_table
from havens.linkage.model import Model, train, u_from_sample

DEFAULT_THRESHOLD = 0.9
U_SAMPLE = 200_000

Step = Callable[[str], None]


@dataclass
class Summary:
    """What a run did, for the summary table and the benchmark."""

    records: int = 0
    candidate_pairs: int = 0
    pairs_above: int = 0
    clusters: int = 0
    singletons: int = 0
    seconds: float = 0.0
    model_trained: bool = False
    #: The learned model that scored (its tag), if any.
    learned: str = ""
    #: Pairs of records known to be different people (``--cannot-link``).
    cannot_link: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)


def connect(threads: int | None = None, memory_limit: str = "2GB") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with bounded memory (spills to a temporary directory)."""
    con = duckdb.connect()
    run(con, f"SET memory_limit = '{memory_limit}'")
    run(con, f"SET temp_directory = '{tempfile.gettempdir()}/havens-linkage'")
    run(con, "SET preserve_insertion_order = false")
    if threads:
        run(con, f"SET threads = {int(threads)}")
    return con


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


class _Timer:
    """Wall time of each step into the summary (CPU time too: the machine may be shared)."""

    def __init__(self, summary: Summary, step: Step | None):
        self.summary, self.step = summary, step
        self.t, self.c = time.perf_counter(), _cpu()

    def __call__(self, name: str) -> None:
        now, cpu = time.perf_counter(), _cpu()
        self.summary.timings[name] = round(now - self.t, 3)
        self.summary.cpu[name] = round(cpu - self.c, 3)
        self.t, self.c = now, cpu
        if self.step:
            self.step(name)


def _u_sample(con: duckdb.DuckDBPyConnection, n: int, link: bool) -> np.ndarray:
    """Comparison levels of a fixed sample of record pairs (almost all non-matches): pair i joins
    the records at hash(i, 1) and hash(i, 2) — the same pairs on every run and machine, no random
    state."""
    size = min(U_SAMPLE, max(n * 20, 10))
    if link:
        n_a = int(one(con, "SELECT count(*) FROM feat WHERE src = 0") or 0)
        left, right = f"hash(i, 1) % {max(n_a, 1)}", f"{n_a} + hash(i, 2) % {max(n - n_a, 1)}"
    else:
        left, right = f"hash(i, 1) % {n}", f"hash(i, 2) % {n}"
    run(con, f"""CREATE OR REPLACE TEMP TABLE u_pairs AS
        SELECT * FROM (SELECT CAST({left} AS BIGINT) AS rid_l, CAST({right} AS BIGINT) AS rid_r
                       FROM range({size}) t(i)) WHERE rid_l <> rid_r""")
    got = con.execute(f"SELECT {', '.join(f'g_{c.name}' for c in COMPARISONS)} "
                      f"FROM ({comparison_sql('u_pairs')})").fetchnumpy()
    run(con, "DROP TABLE u_pairs")
    return np.column_stack([np.asarray(got[f"g_{c.name}"], dtype=np.int64)
                            for c in COMPARISONS]).reshape(-1, len(COMPARISONS))


def _u_start(con: duckdb.DuckDBPyConnection, n: int, link: bool) -> list[np.ndarray]:
    """u from the fixed sample of record pairs (:func:`_u_sample`)."""
    return u_from_sample(_u_sample(con, n, link))


def _fit(con: duckdb.DuckDBPyConnection, n: int, link: bool) -> Model:
    gammas = ", ".join(f"g_{c.name}" for c in COMPARISONS)
    found = rows(con, f"SELECT {gammas}, count(*) FROM cmp GROUP BY ALL ORDER BY ALL")
    if not found:
        raise_empty()
    arr = np.array(found, dtype=np.int64)
    k = len(COMPARISONS)
    return _train_patterns(con, arr[:, :k], arr[:, -1], n, link)


def _train_patterns(con: duckdb.DuckDBPyConnection, patterns: np.ndarray, counts: np.ndarray,
                    n: int, link: bool) -> Model:
    """The model of the candidates' comparison ``patterns`` and their ``counts`` (any engine
    that counted them): u from the fixed sample of record pairs, then :func:`train`."""
    sample = _u_sample(con, n, link)
    model = train(patterns, counts, u=u_from_sample(sample), n_records=n, u_sample=sample,
                  n_pairs=_total_pairs(con, link))
    model.meta["mode"] = "link" if link else "dedupe"
    return model


def raise_empty() -> None:
    from havens.exceptions import ValidationFailed

    raise ValidationFailed("no candidate pairs: the lists share no name chain, phone or document "
                           "number, so there is nothing to train or match", field="file")


def _model(con: duckdb.DuckDBPyConnection, n: int, link: bool, model_path: Path | None,
           retrain: bool, summary: Summary) -> Model:
    if model_path and model_path.exists() and not retrain:
        return Model.load(model_path)
    model = _fit(con, n, link)
    summary.model_trained = True
    if model_path:
        model.save(model_path)
    return model


def _total_pairs(con: duckdb.DuckDBPyConnection, link: bool) -> int:
    if link:
        sizes = dict(rows(con, "SELECT src, count(*) FROM rec GROUP BY src"))
        return int(sizes.get(0, 0) * sizes.get(1, 0))
    n = int(one(con, "SELECT count(*) FROM rec") or 0)
    return n * (n - 1) // 2


def _score(con: duckdb.DuckDBPyConnection, model: Model | LearnedModel, prior: float,
           floor: float) -> None:
    if isinstance(model, LearnedModel):
        got = score_table(con, model)
        con.register("learned_t", pa.table(got))
        run(con, f"""CREATE OR REPLACE TABLE scored AS
            SELECT c.*, t.p AS match_probability FROM cmp c
            JOIN learned_t t ON t.rid_l = c.rid_l AND t.rid_r = c.rid_r WHERE t.p >= {floor}""")
        con.unregister("learned_t")
        return
    run(con, f"""CREATE OR REPLACE TABLE scored AS
        SELECT * FROM (SELECT *, {model.probability_sql(prior)} AS match_probability FROM cmp)
        WHERE match_probability >= {floor}""")


def _write_pairs(con: duckdb.DuckDBPyConnection, out: Path, threshold: float) -> None:
    levels = ", ".join([f"s.g_{c.name} AS {c.name}_level" for c in COMPARISONS]
                       + [f"s.x_{f} AS {f}_level" for f in PART_FIELDS])
    run(con, f"""COPY (
        SELECT l.record_id AS record_id_l, r.record_id AS record_id_r,
               round(s.match_probability, 6) AS match_probability, {levels}
        FROM scored s JOIN rec l ON l.rid = s.rid_l JOIN rec r ON r.rid = s.rid_r
        WHERE s.match_probability >= {threshold}
        ORDER BY s.match_probability DESC, record_id_l, record_id_r
    ) TO '{_path(out)}' (HEADER, DELIMITER ',')""")


def _path(p: Path) -> str:
    return str(p).replace("'", "''")


def _prepare(con: duckdb.DuckDBPyConnection, inputs: list[Path], link: bool, cap: int,
             summary: Summary, tick: _Timer, *, cannot_link: Path | None = None) -> int:
    specs = [files.inspect(p) for p in inputs]
    n = 0
    for src, spec in enumerate(specs):
        n += files.load(con, spec, "rec", src=src)
    summary.records = n
    if cannot_link is not None:
        # Read now, so that an unknown record id stops the run before the long steps.
        summary.cannot_link = files.load_cannot_link(con, cannot_link, source=inputs[0].name)
    tick("read")
    build_features(con)
    tick("normalise")
    summary.candidate_pairs = blocking.candidate_pairs(con, link=link, cap=cap)
    tick("block")
    if summary.candidate_pairs == 0:
        raise_empty()
    run(con, f"CREATE OR REPLACE TABLE cmp AS {comparison_sql('pairs')}")
    run(con, "DROP TABLE pairs")
    tick("compare")
    return n


def pair_scorer(con: duckdb.DuckDBPyConnection, model: Model, prior: float,
                learned: LearnedModel | None = None) -> PairScorer:
    """Probabilities of any pairs of records of ``feat``, as the candidate pairs were scored:
    clustering asks about pairs inside a component that blocking never paired."""
    fs_weight = model.weight_sql(prior)

    def score(wanted: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
        arr = np.array(wanted, dtype=np.int64).reshape(-1, 2)
        con.register("want_t", pa.table({"rid_l": arr[:, 0], "rid_r": arr[:, 1]}))
        try:
            if learned is not None:
                # The learned model reads the unsupervised weight as a feature.
                run(con, f"CREATE OR REPLACE TEMP TABLE want_cmp AS SELECT *, {fs_weight} AS "
                    f"fs_weight FROM ({comparison_sql('want_t')})")
                got = score_table(con, learned, "want_cmp")
                run(con, "DROP TABLE want_cmp")
            else:
                got = con.execute(f"SELECT rid_l, rid_r, {model.probability_sql(prior)} AS p "
                                  f"FROM ({comparison_sql('want_t')})").fetchnumpy()
        finally:
            con.unregister("want_t")
        return dict(zip(zip(np.asarray(got["rid_l"]).tolist(), np.asarray(got["rid_r"]).tolist(),
                            strict=True), np.asarray(got["p"]).tolist(), strict=True))

    return score


def cannot_link_pairs(con: duckdb.DuckDBPyConnection, summary: Summary) -> np.ndarray:
    """The ``(rid_l, rid_r)`` pairs read by ``_prepare(cannot_link=...)``, if any."""
    if not summary.cannot_link:
        return np.zeros((0, 2), dtype=np.int64)
    got = con.execute("SELECT rid_l, rid_r FROM cannot_link").fetchnumpy()
    return np.column_stack([np.asarray(got["rid_l"]), np.asarray(got["rid_r"])])


def dedupe(path: Path, *, out: Path, pairs_out: Path | None = None,
           threshold: float = DEFAULT_THRESHOLD, model_path: Path | None = None,
           retrain: bool = False, cap: int = blocking.DEFAULT_CAP, step: Step | None = None,
           con: duckdb.DuckDBPyConnection | None = None,
           learned: LearnedModel | None = None, cannot_link_path: Path | None = None) -> Summary:
    """Deduplicate one list: ``out`` gets ``record_id,cluster_id`` for every record.

    ``learned``: score with this classifier (learned from reviewers' labels) instead of the
    Fellegi–Sunter model. ``cannot_link_path``: a CSV of pairs (``record_id_l,record_id_r``)
    that are different people; they never end in one cluster.
    """
    start = time.perf_counter()
    summary = Summary()
    tick = _Timer(summary, step)
    con = con or connect()
    n = _prepare(con, [path], False, cap, summary, tick, cannot_link=cannot_link_path)
    model = _model(con, n, False, model_path, retrain, summary)
    prior = model.prior(n, _total_pairs(con, False))
    if learned is not None:
        # The learned model corrects the unsupervised one: it reads its weight as a feature.
        run(con, f"CREATE OR REPLACE TABLE cmp AS SELECT *, {model.weight_sql(prior)} AS "
            "fs_weight FROM cmp")
        summary.learned = learned.tag
    tick("train")
    _score(con, learned or model, prior, min(threshold, 0.5))
    summary.pairs_above = int(one(
        con, f"SELECT count(*) FROM scored WHERE match_probability >= {threshold}") or 0)
    tick("score")
    return cluster_and_write(con, n=n, threshold=threshold,
                             scorer=pair_scorer(con, model, prior, learned), summary=summary,
                             tick=tick, out=out, pairs_out=pairs_out, start=start)


def cluster_and_write(con: duckdb.DuckDBPyConnection, *, n: int, threshold: float,
                      scorer: PairScorer, summary: Summary, tick: _Timer, out: Path,
                      pairs_out: Path | None, start: float) -> Summary:
    """The end of a dedupe, on any engine: cluster the ``scored`` pairs at or above
    ``threshold`` (``scorer`` for pairs that were not candidates; the run's cannot-link
    pairs kept apart), write every record's cluster to ``out`` and the pairs to ``pairs_out``."""
    edges = con.execute(f"SELECT rid_l, rid_r, match_probability FROM scored "
                        f"WHERE match_probability >= {threshold}").fetchnumpy()
    labels = cluster(n, np.asarray(edges["rid_l"]), np.asarray(edges["rid_r"]),
                     np.asarray(edges["match_probability"]), threshold, scorer,
                     cannot_link=cannot_link_pairs(con, summary))
    _, sizes = np.unique(labels, return_counts=True)
    summary.clusters = len(sizes)
    summary.singletons = int((sizes == 1).sum())
    tick("cluster")
    con.register("labels_t", pa.table({"rid": np.arange(n), "root": labels}))
    run(con, f"""COPY (
        SELECT r.record_id, c.record_id AS cluster_id
        FROM rec r JOIN labels_t t ON t.rid = r.rid JOIN rec c ON c.rid = t.root
        ORDER BY r.rid) TO '{_path(out)}' (HEADER, DELIMITER ',')""")
    con.unregister("labels_t")
    if pairs_out:
        _write_pairs(con, pairs_out, threshold)
    tick("write")
    summary.seconds = round(time.perf_counter() - start, 3)
    return summary


def link(path_a: Path, path_b: Path, *, out: Path, threshold: float = DEFAULT_THRESHOLD,
         model_path: Path | None = None, retrain: bool = False, cap: int = blocking.DEFAULT_CAP,
         step: Step | None = None, con: duckdb.DuckDBPyConnection | None = None) -> Summary:
    """Link list A to list B: ``out`` gets the pairs at or above ``threshold``."""
    start = time.perf_counter()
    summary = Summary()
    tick = _Timer(summary, step)
    con = con or connect()
    n = _prepare(con, [path_a, path_b], True, cap, summary, tick)
    model = _model(con, n, True, model_path, retrain, summary)
    prior = model.prior(n, _total_pairs(con, True))
    tick("train")
    _score(con, model, prior, threshold)
    summary.pairs_above = int(one(con, "SELECT count(*) FROM scored") or 0)
    tick("score")
    _write_pairs(con, out, threshold)
    tick("write")
    summary.seconds = round(time.perf_counter() - start, 3)
    return summary
