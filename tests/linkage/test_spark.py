"""The model on Splink: the exported settings score as Havens does, and the Spark engine gives
the DuckDB engine's clusters and pairs.

The Spark tests work on files only, so they run once, in the SQLite pass of `make test` (a Spark
session takes seconds to start and the PostgreSQL pass would repeat the same work).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from havens.cli.linkage import app
from havens.linkage import engine_duckdb, splink_settings
from havens.linkage.features import COMPARISONS
from havens.linkage.model import Model
from havens.linkage.synth import generate

runner = CliRunner()
on_postgres = os.environ.get("HAVENS_TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spark") / "registry.csv"
    generate(1500, seed=11, path=path)
    return path


def _clusters(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as fh:
        return {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}


def _pairs(path: Path) -> dict[tuple[str, str], float]:
    with path.open(encoding="utf-8") as fh:
        return {(r["record_id_l"], r["record_id_r"]): float(r["match_probability"])
                for r in csv.DictReader(fh)}


def _same_person_pairs(clusters: dict[str, str]) -> set[tuple[str, str]]:
    by: dict[str, list[str]] = {}
    for rid, c in clusters.items():
        by.setdefault(c, []).append(rid)
    return {(a, b) for ids in by.values() for i, a in enumerate(sorted(ids))
            for b in sorted(ids)[i + 1:]}


def test_splink_scores_as_havens(registry: Path, tmp_path: Path) -> None:
    """Splink (DuckDB back end) with the exported settings gives Havens' probabilities."""
    from splink import Linker
    from splink.backends.duckdb import DuckDBAPI

    con = engine_duckdb.connect()
    model_path = tmp_path / "model.json"
    engine_duckdb.dedupe(registry, out=tmp_path / "c.csv", model_path=model_path, con=con,
                         threshold=0.5)
    model = Model.load(model_path)
    n = int(con.sql("SELECT count(*) FROM rec").fetchall()[0][0])
    prior = model.prior(n, n * (n - 1) // 2)
    records = con.sql(f"SELECT *, {splink_settings.LINEAGE_LINE_SQL} AS lineage_line "
                      "FROM feat").to_arrow_table()
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(records),
                    splink_settings.settings(model, prior=prior, dialect="duckdb"))
    given_tf = con.sql("SELECT DISTINCT given_key, given_tf AS tf_given_key FROM feat "
                       "WHERE given_key IS NOT NULL").to_arrow_table()
    line_tf = con.sql(f"SELECT DISTINCT {splink_settings.LINEAGE_LINE_SQL} AS lineage_line, "
                      "lineage_tf AS tf_lineage_line FROM feat").to_arrow_table()
    linker.table_management.register_term_frequency_lookup(db_api.register(given_tf),
                                                           "given_key")
    linker.table_management.register_term_frequency_lookup(db_api.register(line_tf),
                                                           "lineage_line")
    pairs = con.sql("SELECT '0' AS match_key, rid_l AS join_key_l, rid_r AS join_key_r, "
                    "match_probability FROM scored ORDER BY 2, 3").to_arrow_table()
    assert pairs.num_rows > 300
    linker.table_management.register_blocked_pairs_for_predict(
        db_api.register(pairs.drop_columns(["match_probability"])))
    got = linker.inference.predict().as_pandas_dataframe().sort_values(["rid_l", "rid_r"])
    assert list(got["rid_l"]) == pairs["join_key_l"].to_pylist()
    np.testing.assert_allclose(got["match_probability"].to_numpy(),
                               pairs["match_probability"].to_numpy(), atol=1e-9)


def test_levels_follow_the_case_order() -> None:
    """Each Havens level becomes one Splink level, null level first, highest level next."""
    comparisons = {c["output_column_name"]: c for c in splink_settings.comparisons()}
    dob = comparisons["dob"]["comparison_levels"]
    assert dob[0]["is_null_level"] and "y_l IS NULL" in dob[0]["sql_condition"]
    havens_dob = next(c for c in COMPARISONS if c.name == "dob")
    assert [lv["label_for_charts"] for lv in dob[1:]] == list(reversed(havens_dob.levels))
    assert dob[1]["label_for_charts"] == "same date"
    assert dob[-1]["sql_condition"] == "TRUE"
    given_top = comparisons["given"]["comparison_levels"][1]
    assert given_top["tf_adjustment_column"] == "given_key"
    assert "l." not in str(comparisons) and "x_father" not in str(comparisons)


def _two_lists(registry: Path, folder: Path) -> tuple[Path, Path]:
    """The registry cut in two lists (its first 799 records, and the rest) for linking."""
    lines = registry.read_text(encoding="utf-8").splitlines()
    a, b = folder / "a.csv", folder / "b.csv"
    a.write_text("\n".join(lines[:800]) + "\n", encoding="utf-8")
    b.write_text("\n".join([lines[0], *lines[800:]]) + "\n", encoding="utf-8")
    return a, b


spark = pytest.mark.skipif(on_postgres, reason="files only: runs once, in the SQLite pass")


@spark
def test_spark_dedupe_gives_the_duckdb_clusters(registry: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    args = ["dedupe", str(registry), "--threshold", "0.9"]
    duck = runner.invoke(app, [*args, "--out", str(tmp_path / "d.csv"),
                               "--pairs", str(tmp_path / "dp.csv"), "--unsupervised"])
    assert duck.exit_code == 0, duck.output
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "s.csv"),
                                 "--pairs", str(tmp_path / "sp.csv"), "--engine", "spark",
                                 "--spark-master", "local[2]"])
    assert result.exit_code == 0, result.output
    assert "candidate pairs" in result.output
    d, s = _clusters(tmp_path / "d.csv"), _clusters(tmp_path / "s.csv")
    assert d.keys() == s.keys() and len(d) == len(registry.read_text().splitlines()) - 1
    same_d, same_s = _same_person_pairs(d), _same_person_pairs(s)
    agreement = len(same_d & same_s) / max(len(same_d | same_s), 1)
    assert len(same_d) > 300 and agreement >= 0.999
    dp, sp = _pairs(tmp_path / "dp.csv"), _pairs(tmp_path / "sp.csv")
    assert dp.keys() == sp.keys()
    assert max(abs(dp[k] - sp[k]) for k in dp) < 1e-6


@spark
def test_spark_link_gives_the_duckdb_pairs(registry: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    a, b = _two_lists(registry, tmp_path)
    model = tmp_path / "link-model.json"
    duck = runner.invoke(app, ["link", str(a), str(b), "--out", str(tmp_path / "d.csv"),
                               "--model", str(model)])
    assert duck.exit_code == 0, duck.output
    # The Spark run reuses the model trained by DuckDB: the same model gives the same pairs.
    result = runner.invoke(app, ["link", str(a), str(b), "--out", str(tmp_path / "s.csv"),
                                 "--model", str(model), "--engine", "spark"])
    assert result.exit_code == 0, result.output
    dp, sp = _pairs(tmp_path / "d.csv"), _pairs(tmp_path / "s.csv")
    assert len(dp) > 50 and dp.keys() == sp.keys()
    assert max(abs(dp[k] - sp[k]) for k in dp) < 1e-6


@spark
def test_spark_link_trains_the_model_duckdb_trains(registry: Path, tmp_path: Path) -> None:
    """Without a model file each engine trains its own, in link mode: the same model."""
    pytest.importorskip("pyspark")
    a, b = _two_lists(registry, tmp_path)
    models = {}
    for engine in ("duckdb", "spark"):
        models[engine] = tmp_path / f"{engine}.json"
        result = runner.invoke(app, ["link", str(a), str(b), "--out",
                                     str(tmp_path / f"{engine}.csv"), "--engine", engine,
                                     "--model", str(models[engine])])
        assert result.exit_code == 0, result.output
    duck, spark_model = Model.load(models["duckdb"]), Model.load(models["spark"])
    assert duck.meta["mode"] == spark_model.meta["mode"] == "link"
    for d, s in zip(duck.fields, spark_model.fields, strict=True):
        assert np.allclose(d.m, s.m, atol=1e-6) and np.allclose(d.u, s.u, atol=1e-9)
    dp, sp = _pairs(tmp_path / "duckdb.csv"), _pairs(tmp_path / "spark.csv")
    assert len(dp) > 50 and dp.keys() == sp.keys()
