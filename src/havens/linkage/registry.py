"""Matching the registry: the DuckDB engine run over registered individuals (no files).

The service hands over one row per individual (names, sex, date of birth, origin P-code and the
keyed hashes of phone and document number — nothing is decrypted); this module blocks, compares
and scores them with the engine of ``engine_duckdb`` and returns the pairs at or above the
threshold with their comparison levels.

* Names: the Arabic-script name when the individual has one, else the Latin one. Arabic script is
  what agencies write in Syria, and the normaliser folds both scripts to one Latin key, so a
  record with only one script still meets its twin in the other.
* A year-only date of birth (stored as 1 July with ``dob_estimated``) goes in as the bare year,
  so it compares as "same year, one partial" rather than as a wrong full date.
* Phone and document number are compared through their keyed hashes: equal numbers have equal
  hashes; a one-character typo in a document number cannot be seen (level "one typo" never
  occurs here).
* Incremental: records flagged ``new`` are blocked against the whole registry (the blocks are
  those of a full run) and only pairs with at least one new record are compared and scored,
  with the model of the previous run, on the prior of the whole registry — so the scores are
  those a full run with that model would give.
* Clustering: the pairs at or above the threshold are clustered as the file engine clusters them
  (``cluster.py``: average linkage, so a chain A–B–C of relatives is not one person), with the
  pairs reviewers rejected as cannot-link constraints; only pairs whose two records end in one
  cluster are returned. Pairs inside a component that blocking never paired are scored on the
  spot with the same model. An incremental run clusters the components its new pairs form (the
  old records in them included, every pair between them scored); pairs among old records only
  were clustered by earlier runs.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from havens.linkage import blocking
from havens.linkage.cluster import cluster
from havens.linkage.duck import rows, run
from havens.linkage.engine_duckdb import Summary, _fit, connect, pair_scorer
from havens.linkage.features import (
    COMPARISONS,
    PART_FIELDS,
    TF_COLUMNS,
    build_features,
    comparison_sql,
)
from havens.linkage.learned import LearnedModel, score_table
from havens.linkage.model import Model

#: Below this many records EM has too few pairs to learn from; the bundled model is used.
MIN_TRAINING_RECORDS = 2_000


@dataclass(frozen=True, slots=True)
class Record:
    """One individual as the engine sees it."""

    individual_id: int
    given: str | None
    father: str | None
    grandfather: str | None
    family: str | None
    sex: str | None
    date_of_birth: str | None  # YYYY-MM-DD, or YYYY when only the year is known
    origin_pcode: str | None
    phone_hash: str | None
    document_hash: str | None
    new: bool = False


@dataclass(frozen=True, slots=True)
class ScoredPair:
    individual_l_id: int  # the lower id
    individual_r_id: int
    probability: float
    levels: dict[str, int]
    features: dict[str, Any]


@dataclass
class Result:
    records: int
    new_records: int
    candidate_pairs: int
    pairs: list[ScoredPair]
    model: Model
    model_trained: bool
    seconds: float
    #: Pairs at or above the threshold that clustering put in different clusters (chains of
    #: relatives, or a record matching two people a reviewer kept apart); not the rejected
    #: pairs themselves.
    kept_apart: int = 0


def model_version(model: Model) -> str:
    """A short content hash of the model's parameters (not of when it was trained)."""
    data = json.dumps([[f.name, f.m, f.u] for f in model.fields] + [model.pairs_per_record],
                      sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def _table(records: Sequence[Record]) -> pa.Table:
    return pa.table({
        "rid": pa.array(range(len(records)), pa.int64()),
        "src": pa.array([1 if r.new else 0 for r in records], pa.int32()),
        "record_id": [str(r.individual_id) for r in records],
        "given_name": [r.given for r in records],
        "father_name": [r.father for r in records],
        "grandfather_name": [r.grandfather for r in records],
        "family_name": [r.family for r in records],
        "sex": [r.sex for r in records],
        "date_of_birth": [r.date_of_birth for r in records],
        "origin_pcode": [r.origin_pcode for r in records],
        "phone": [r.phone_hash for r in records],
        "document_number": [r.document_hash for r in records],
    })


def _features(con: duckdb.DuckDBPyConnection, records: Sequence[Record]) -> None:
    con.register("records_t", _table(records))
    run(con, "CREATE OR REPLACE TABLE rec AS SELECT * FROM records_t")
    con.unregister("records_t")
    build_features(con)
    # The hashes are compared as they are (the file engine's phone/document clean-up would
    # strip a hash's letters).
    run(con, """CREATE OR REPLACE TABLE feat AS
        SELECT f.* REPLACE (r.phone AS phone, r.document_number AS doc)
        FROM feat f JOIN rec r USING (rid)""")


def _apart(con: duckdb.DuckDBPyConnection, cannot_link: Iterable[tuple[int, int]]
           ) -> np.ndarray:
    """Row indices ``(rid_l, rid_r)`` of the cannot-link pairs of individuals both in the run."""
    ids = np.asarray(list(cannot_link), dtype=np.int64).reshape(-1, 2)
    con.register("apart_t", pa.table({"id_l": ids[:, 0], "id_r": ids[:, 1]}))
    try:
        got = con.execute("""SELECT l.rid AS rid_l, r.rid AS rid_r FROM apart_t a
            JOIN rec l ON l.record_id = CAST(a.id_l AS VARCHAR)
            JOIN rec r ON r.record_id = CAST(a.id_r AS VARCHAR)""").fetchnumpy()
    finally:
        con.unregister("apart_t")
    return np.column_stack([np.asarray(got["rid_l"], dtype=np.int64),
                            np.asarray(got["rid_r"], dtype=np.int64)]).reshape(-1, 2)


def match(records: Sequence[Record], *, threshold: float, model: Model | None = None,
          incremental: bool = False, con: duckdb.DuckDBPyConnection | None = None,
          learned: LearnedModel | None = None,
          cannot_link: Iterable[tuple[int, int]] = ()) -> Result:
    """Score the registry's candidate pairs and cluster those at or above ``threshold``;
    ``model`` is reused if given, else trained. Returns the pairs whose two records end in
    one cluster.

    ``learned``: the probabilities come from this classifier (learned from reviewers' labels);
    the Fellegi–Sunter model is still kept with the run, for incremental runs and the *why*.
    ``cannot_link``: pairs of individual ids known to be different people (reviewers'
    rejections); they never end in one cluster.
    """
    start = time.perf_counter()
    new = sum(r.new for r in records)
    n = len(records)
    if n < 2 or (incremental and new == 0):
        chosen = model or default_model()
        return Result(n, new, 0, [], chosen, False, round(time.perf_counter() - start, 3))
    con = con or connect()
    _features(con, records)
    pairs = blocking.candidate_pairs(con, new_only=incremental)
    run(con, f"CREATE OR REPLACE TABLE cmp AS {comparison_sql('pairs')}")
    trained = False
    if model is None:
        if n >= MIN_TRAINING_RECORDS and pairs:
            model = _fit(con, n, False)
            trained = True
        else:
            model = default_model()
    prior = model.prior(n, n * (n - 1) // 2)
    levels = [f"g_{c.name}" for c in COMPARISONS] + [f"x_{f}" for f in PART_FIELDS]
    tfs = [f"tf_{f}" for f in TF_COLUMNS]
    run(con, f"CREATE OR REPLACE TABLE cmp AS SELECT *, {model.weight_sql(prior)} AS fs_weight "
        "FROM cmp")
    probability = model.probability_sql(prior)
    if learned is not None:
        con.register("learned_t", pa.table(score_table(con, learned)))
        run(con, """CREATE OR REPLACE TABLE cmp AS SELECT c.*, t.p AS learned_p FROM cmp c
            JOIN learned_t t ON t.rid_l = c.rid_l AND t.rid_r = c.rid_r""")
        con.unregister("learned_t")
        probability = "learned_p"
    found = rows(con, f"""
        SELECT * FROM (
            SELECT c.rid_l, c.rid_r, l.record_id::BIGINT AS id_l, r.record_id::BIGINT AS id_r,
                   {probability} AS p, {', '.join(levels + tfs)}, fs_weight
            FROM cmp c JOIN rec l ON l.rid = c.rid_l JOIN rec r ON r.rid = c.rid_r)
        WHERE p >= {float(threshold)} ORDER BY p DESC, id_l, id_r""")
    edges = np.array([row[:2] for row in found], dtype=np.int64).reshape(-1, 2)
    apart = _apart(con, cannot_link)
    labels = cluster(n, edges[:, 0], edges[:, 1], np.array([float(row[4]) for row in found]),
                     threshold, pair_scorer(con, model, prior, learned), cannot_link=apart)
    together = labels[edges[:, 0]] == labels[edges[:, 1]]
    rejected = {(min(a, b), max(a, b)) for a, b in apart.tolist()}
    split = sum(1 for (a, b), kept in zip(edges.tolist(), together.tolist(), strict=True)
                if not kept and (min(a, b), max(a, b)) not in rejected)
    names = [c.name for c in COMPARISONS] + list(PART_FIELDS)
    out = []
    for row, kept in zip(found, together.tolist(), strict=True):
        if not kept:
            continue
        a, b, p = int(row[2]), int(row[3]), float(row[4])
        lv = {name: int(v) for name, v in zip(names, row[5:5 + len(names)], strict=True)}
        tf = {f"tf_{f}": (round(float(v), 8) if v is not None else None)
              for f, v in zip(TF_COLUMNS, row[5 + len(names):-1], strict=True)}
        tf["fs_weight"] = round(float(row[-1]), 4)
        out.append(ScoredPair(min(a, b), max(a, b), round(p, 6), lv, {**lv, **tf}))
    return Result(n, new, pairs, out, model, trained, round(time.perf_counter() - start, 3),
                  kept_apart=split)


#: The bundled model for registries too small to train their own (see ``train_default_model``).
DEFAULT_MODEL = Path(__file__).parent / "data" / "registry_model.json"


def default_model() -> Model:
    """The bundled model, trained on a generated registry (``train_default_model``)."""
    return Model.load(DEFAULT_MODEL)


def train_default_model(path: Path = DEFAULT_MODEL, *, records: int = 20_000) -> Model:
    """Train the bundled model on a generated registry (``synth``, seed 11) and save it.

    Run again when the comparisons change: ``python -c "from havens.linkage.registry import
    train_default_model; train_default_model()"``.
    """
    from havens.linkage import engine_duckdb, synth

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "synth.csv"
        synth.generate(records, seed=11, path=source)
        con = connect()
        summary = Summary()
        engine_duckdb._prepare(con, [source], False, blocking.DEFAULT_CAP, summary,
                               engine_duckdb._Timer(summary, None))
        model = _fit(con, summary.records, False)
        con.close()
    model.meta["source"] = f"generated registry (linkage.synth), {records:,} records, seed 11"
    model.save(path)
    return model
