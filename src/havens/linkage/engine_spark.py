"""The Spark engine: the same model as the DuckDB engine, run by Splink on a Spark cluster.

For registries of tens of millions the work that grows with the data — joining the blocks into
candidate pairs, comparing every pair, training counts and scoring — runs on Spark, through
Splink (``pip install havens[spark]``). What stays on the driver is per record or per model:
reading the list, normalising each *distinct* spelling once, the block keys, the EM over
comparison-pattern counts, and the clustering of the pairs above the threshold.

The model is the one of ``model.py``, written as Splink settings by ``splink_settings.py``: two
Splink passes over the same candidate pairs — the first counts comparison patterns for the EM,
the second scores with the trained m/u, the prior and the term-frequency adjustments — so the
clusters are those of the DuckDB engine (the tests and ``benchmarks/linkage_bench.py`` compare
them pair by pair).

``master`` is any Spark master URL: ``local[2]`` on one machine (slower than DuckDB there: Spark
pays only on a cluster), ``spark://host:7077`` or ``yarn`` for a cluster (see README).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from havens.exceptions import ValidationFailed
from havens.linkage import blocking, files
from havens.linkage import splink_settings as sps
from havens.linkage.duck import rows, run
from havens.linkage.engine_duckdb import (
    DEFAULT_THRESHOLD,
    Step,
    Summary,
    _Timer,
    _total_pairs,
    _train_patterns,
    _write_pairs,
    cluster_and_write,
    connect,
    pair_scorer,
    raise_empty,
)
from havens.linkage.features import COMPARISONS, build_features, comparison_sql
from havens.linkage.model import FieldParams, Model

DEFAULT_MASTER = "local[2]"
_sessions: dict[str, Any] = {}


def spark_session(master: str = DEFAULT_MASTER) -> Any:
    """One Spark session per master and process, with Splink's similarity functions."""
    if master in _sessions:
        return _sessions[master]
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError as exc:  # the optional extra is missing
        raise ValidationFailed("the Spark engine needs PySpark: pip install 'havens[spark]'",
                               field="engine") from exc
    local = master.startswith("local")
    if local:
        # A local Spark binds the machine's outward address unless told otherwise.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Shuffle and spill files hold names and dates of birth: a private folder (mode 0700) of
    # this process, removed when it ends — not a shared path under /tmp.
    scratch = Path(tempfile.mkdtemp(prefix="havens-spark-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    builder = (SparkSession.builder.master(master).appName("havens-linkage")
               .config("spark.jars", similarity_jar_location())
               .config("spark.ui.enabled", "false")
               # Havens shows its own progress bar; Spark's would write over it.
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.local.dir", str(scratch))
               # Havens keeps no tables in Spark: no warehouse folder in the working directory.
               .config("spark.sql.warehouse.dir", str(scratch / "warehouse")))
    if local:
        # Few, small partitions: the default 200 costs more than the work on one machine. The
        # driver is the executor here: Spark's default 1 GB does not hold a 100k registry.
        builder = (builder.config("spark.sql.shuffle.partitions", "4")
                   .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g")))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    _quiet_codegen(spark)
    _sessions[master] = spark
    return spark


def _quiet_codegen(spark: Any) -> None:
    """Splink's long CASE expressions exceed Java's method size in whole-stage code generation;
    Spark then runs them interpreted, with the same results, after logging the generated code
    at ERROR level — pages of it in the user's terminal. That one logger is silenced."""
    try:
        jvm = spark.sparkContext._jvm
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            "org.apache.spark.sql.catalyst.expressions.codegen",
            jvm.org.apache.logging.log4j.Level.OFF)
    except Exception:  # a cluster with another logging back end: the log stays noisy, no more
        logging.getLogger(__name__).debug("could not silence Spark's code generator log")


def _linker(spark: Any, records: Any, pairs: Any, tf: dict[str, Any], model: Model,
            prior: float, *, keep_levels: bool = False) -> Any:
    """A Splink linker over ``records`` that scores exactly the candidate ``pairs``."""
    from splink import Linker
    from splink.backends.spark import SparkAPI

    db_api = SparkAPI(spark_session=spark, break_lineage_method="persist")
    spec = sps.settings(model, prior=prior, keep_levels=keep_levels)
    linker = Linker(db_api.register(records), spec, log_level=logging.WARNING)
    for column, table in tf.items():
        linker.table_management.register_term_frequency_lookup(db_api.register(table), column)
    linker.table_management.register_blocked_pairs_for_predict(db_api.register(pairs))
    return linker


def _starting_model() -> Model:
    """m favouring the top level, u flat: only the comparison vectors of pass one are used."""
    fields = []
    for c in COMPARISONS:
        n = len(c.levels)
        m = np.array([0.5 ** (n - 1 - k) for k in range(n)])
        fields.append(FieldParams(c.name, list(c.levels), list(m / m.sum()), [1.0 / n] * n))
    return Model(fields=fields, pairs_per_record=1.0)


def _pattern_counts(predictions: Any) -> list[tuple[Any, ...]]:
    """Comparison patterns with their counts, as ``engine_duckdb`` counts them."""
    gammas = [f"gamma_{c.name}" for c in COMPARISONS]
    df = predictions.select(*gammas).groupBy(*gammas).count()
    return [tuple(r) for r in df.collect()]


def _fit(con: duckdb.DuckDBPyConnection, predictions: Any, n: int, link: bool) -> Model:
    found = _pattern_counts(predictions)
    if not found:
        raise_empty()
    arr = np.array(found, dtype=np.int64)
    k = len(COMPARISONS)
    model = _train_patterns(con, arr[:, :k], arr[:, -1], n, link)
    model.meta["engine"] = "spark"
    return model


def _to_spark(con: duckdb.DuckDBPyConnection, spark: Any, link: bool, cap: int
              ) -> tuple[Any, Any, dict[str, Any], int]:
    """Records, candidate pairs (joined on Spark) and term-frequency tables for Splink."""
    records = con.sql(f"SELECT *, {sps.LINEAGE_LINE_SQL} AS lineage_line FROM feat"
                      ).to_arrow_table()
    tf = {"given_key": con.sql(
              "SELECT DISTINCT given_key, given_tf AS tf_given_key FROM feat "
              "WHERE given_key IS NOT NULL").to_arrow_table(),
          "lineage_line": con.sql(
              f"SELECT DISTINCT {sps.LINEAGE_LINE_SQL} AS lineage_line, lineage_tf AS "
              "tf_lineage_line FROM feat").to_arrow_table()}
    blocking.block_keys(con, cap=cap)
    # Spark has no unsigned integers: the 64-bit block hash is shifted into BIGINT's range.
    blk = spark.createDataFrame(con.sql(
        "SELECT CAST(rule AS INT) AS rule, CAST(bk::HUGEINT - 9223372036854775808 AS BIGINT) "
        "AS bk, rid, CAST(src AS INT) AS src FROM blk").to_arrow_table())
    run(con, "DROP TABLE blk")
    blk.createOrReplaceTempView("havens_blk")
    side = "a.src = 0 AND b.src = 1" if link else "a.rid < b.rid"
    pairs = spark.sql(f"""SELECT DISTINCT '0' AS match_key, a.rid AS join_key_l,
        b.rid AS join_key_r FROM havens_blk a JOIN havens_blk b
        ON a.rule = b.rule AND a.bk = b.bk AND {side}""").persist()
    n_pairs = pairs.count()
    return spark.createDataFrame(records), pairs, {
        col: spark.createDataFrame(t) for col, t in tf.items()}, n_pairs


def _run(inputs: list[Path], *, link: bool, threshold: float, model_path: Path | None,
         retrain: bool, cap: int, step: Step | None, master: str,
         cannot_link: Path | None = None
         ) -> tuple[duckdb.DuckDBPyConnection, Summary, _Timer, Model, float, int]:
    """Read, block, train and score on Spark; leaves the pairs above the floor in ``scored``."""
    spark = spark_session(master)
    con = connect()
    try:
        return _run_on(con, spark, inputs, link=link, threshold=threshold,
                       model_path=model_path, retrain=retrain, cap=cap, step=step,
                       cannot_link=cannot_link)
    except BaseException:
        con.close()
        raise


def _run_on(con: duckdb.DuckDBPyConnection, spark: Any, inputs: list[Path], *, link: bool,
            threshold: float, model_path: Path | None, retrain: bool, cap: int,
            step: Step | None, cannot_link: Path | None
            ) -> tuple[duckdb.DuckDBPyConnection, Summary, _Timer, Model, float, int]:
    summary = Summary()
    tick = _Timer(summary, step)
    n = 0
    for src, path in enumerate(inputs):
        n += files.load(con, files.inspect(path), "rec", src=src)
    summary.records = n
    if cannot_link is not None:  # read before the long steps, as the DuckDB engine does
        summary.cannot_link = files.load_cannot_link(con, cannot_link, source=inputs[0].name)
    tick("read")
    build_features(con)
    tick("normalise")
    records, pairs, tf, summary.candidate_pairs = _to_spark(con, spark, link, cap)
    try:
        tick("block")
        model, prior = _train_and_score(con, spark, records, pairs, tf, n=n, link=link,
                                         threshold=threshold, model_path=model_path,
                                         retrain=retrain, summary=summary, tick=tick)
    finally:
        pairs.unpersist()
    return con, summary, tick, model, prior, n


def _train_and_score(con: duckdb.DuckDBPyConnection, spark: Any, records: Any, pairs: Any,
                     tf: dict[str, Any], *, n: int, link: bool, threshold: float,
                     model_path: Path | None, retrain: bool, summary: Summary, tick: _Timer
                     ) -> tuple[Model, float]:
    if summary.candidate_pairs == 0:
        raise_empty()
    total = _total_pairs(con, link)
    if model_path and model_path.exists() and not retrain:
        model = Model.load(model_path)
        tick("compare")
    else:
        first = _linker(spark, records, pairs, tf, _starting_model(), 0.5,
                        keep_levels=True)
        tick("compare")
        model = _fit(con, first.inference.predict().as_spark_dataframe(), n, link)
        summary.model_trained = True
        if model_path:
            model.save(model_path)
    prior = model.prior(n, total)
    tick("train")
    floor = threshold if link else min(threshold, 0.5)
    scorer = _linker(spark, records, pairs, tf, model, prior)
    scored = scorer.inference.predict(threshold_match_probability=floor).as_spark_dataframe()
    got = scored.select("rid_l", "rid_r", "match_probability").toArrow()
    con.register("spark_scored_t", got)
    # Pairs files report every field's level: computed here, for the pairs above the floor only.
    run(con, f"""CREATE OR REPLACE TABLE scored AS
        SELECT c.*, t.match_probability FROM ({comparison_sql('spark_scored_t')}) c
        JOIN spark_scored_t t ON t.rid_l = c.rid_l AND t.rid_r = c.rid_r""")
    con.unregister("spark_scored_t")
    summary.pairs_above = int(rows(con, f"SELECT count(*) FROM scored WHERE match_probability "
                                        f">= {threshold}")[0][0])
    tick("score")
    return model, prior


def dedupe(path: Path, *, out: Path, pairs_out: Path | None = None,
           threshold: float = DEFAULT_THRESHOLD, model_path: Path | None = None,
           retrain: bool = False, cap: int = blocking.DEFAULT_CAP, step: Step | None = None,
           master: str = DEFAULT_MASTER, cannot_link_path: Path | None = None) -> Summary:
    """Deduplicate one list on Spark: ``out`` gets ``record_id,cluster_id`` for every record.

    ``cannot_link_path``: a CSV of pairs (``record_id_l,record_id_r``) that are different
    people; they never end in one cluster.
    """
    start = time.perf_counter()
    con, summary, tick, model, prior, n = _run(
        [path], link=False, threshold=threshold, model_path=model_path, retrain=retrain,
        cap=cap, step=step, master=master, cannot_link=cannot_link_path)
    try:
        # Pairs the clustering asks about that were not candidates are few: scored on the
        # driver with the same model.
        return cluster_and_write(con, n=n, threshold=threshold,
                                 scorer=pair_scorer(con, model, prior), summary=summary,
                                 tick=tick, out=out, pairs_out=pairs_out, start=start)
    finally:
        con.close()


def link(path_a: Path, path_b: Path, *, out: Path, threshold: float = DEFAULT_THRESHOLD,
         model_path: Path | None = None, retrain: bool = False, cap: int = blocking.DEFAULT_CAP,
         step: Step | None = None, master: str = DEFAULT_MASTER) -> Summary:
    """Link list A to list B on Spark: ``out`` gets the pairs at or above ``threshold``."""
    start = time.perf_counter()
    con, summary, tick, _model, _prior, _n = _run(
        [path_a, path_b], link=True, threshold=threshold, model_path=model_path,
        retrain=retrain, cap=cap, step=step, master=master)
    try:
        _write_pairs(con, out, threshold)
    finally:
        con.close()
    tick("write")
    summary.seconds = round(time.perf_counter() - start, 3)
    return summary
