"""`havens linkage dedupe` and `link` on files, through the Typer app."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from havens.cli.linkage import app
from havens.linkage.evaluate import cluster_scores, pair_scores
from havens.linkage.synth import COLUMNS, generate

runner = CliRunner()


@pytest.fixture(scope="module")
def rows() -> list[list[str]]:
    return generate(500, seed=5)


def _write(path: Path, header: list[str], data: list[list[str]],
           hashtags: list[str] | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        if hashtags:
            w.writerow(hashtags)
        w.writerows(data)
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_dedupe_writes_every_record_and_pairs(rows: list[list[str]], tmp_path: Path) -> None:
    # Headers in another case and order, with a column the tool must ignore.
    header = ["Record_ID", "Given_Name", "Father_Name", "Grandfather_Name", "Family_Name", "SEX",
              "Date_of_Birth", "Origin_PCode", "Phone", "Document_Number", "Agency", "Person_ID"]
    src = _write(tmp_path / "list.csv", ["Notes", *header], [["x", *r] for r in rows])
    out, pairs = tmp_path / "clusters.csv", tmp_path / "pairs.csv"
    result = runner.invoke(app, ["dedupe", str(src), "--out", str(out), "--pairs", str(pairs)])
    assert result.exit_code == 0, result.output
    assert "candidate pairs" in result.output and "clusters" in result.output
    clusters = {r["record_id"]: r["cluster_id"] for r in _read(out)}
    assert len(clusters) == len(rows)
    truth = {r[0]: r[COLUMNS.index("person_id")] for r in rows}
    scores = cluster_scores(clusters, truth)
    assert scores.precision >= 0.97 and scores.f1 >= 0.9
    found = _read(pairs)
    assert found and set(found[0]) >= {"record_id_l", "record_id_r", "match_probability",
                                       "given_level", "lineage_level", "dob_level",
                                       "father_level", "family_level"}
    assert all(float(p["match_probability"]) >= 0.9 for p in found)


def test_model_is_saved_and_reused(rows: list[list[str]], tmp_path: Path) -> None:
    src = _write(tmp_path / "list.csv", COLUMNS, rows)
    model = tmp_path / "model.json"
    args = ["dedupe", str(src), "--out", str(tmp_path / "c.csv"), "--model", str(model)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert model.exists() and "trained" in first.output
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "reused" in second.output
    assert (tmp_path / "c.csv").read_text() != ""
    third = runner.invoke(app, [*args, "--retrain"])
    assert "trained" in third.output


def test_hxl_hashtags(rows: list[list[str]], tmp_path: Path) -> None:
    tags = ["#indiv+id", "#indiv+name+given", "#indiv+name+father", "#indiv+name+grandfather",
            "#indiv+name+family", "#indiv+sex", "#indiv+date+birth", "#adm3+code+origin",
            "#contact+phone", "#indiv+id+document", "#org", "#x_person"]
    header = ["ID", "الاسم", "اسم الأب", "اسم الجد", "الكنية", "الجنس", "تاريخ الميلاد", "المنشأ",
              "هاتف", "وثيقة", "Agency", "Person"]
    src = _write(tmp_path / "hxl.csv", header, rows, hashtags=tags)
    out = tmp_path / "clusters.csv"
    result = runner.invoke(app, ["dedupe", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(_read(out)) == len(rows)


def test_link_two_lists_across_scripts(rows: list[list[str]], tmp_path: Path) -> None:
    agency = COLUMNS.index("agency")
    a = [r for r in rows if r[agency] in ("SARC", "LC")]  # Arabic script
    b = [r for r in rows if r[agency] not in ("SARC", "LC")]  # Latin transliterations
    path_a = _write(tmp_path / "a.csv", COLUMNS, a)
    path_b = _write(tmp_path / "b.csv", COLUMNS, b)
    out = tmp_path / "pairs.csv"
    result = runner.invoke(app, ["link", str(path_a), str(path_b), "--out", str(out)])
    assert result.exit_code == 0, result.output
    person = COLUMNS.index("person_id")
    scores = pair_scores([(p["record_id_l"], p["record_id_r"]) for p in _read(out)],
                         {r[0]: r[person] for r in a}, {r[0]: r[person] for r in b})
    assert scores.precision >= 0.95 and scores.recall >= 0.85, scores


@pytest.mark.parametrize(("header", "row", "message"), [
    (["given_name", "family_name"], ["Ali", "Hasan"], "no 'record_id' column"),
    (["record_id", "given_name", "date_of_birth"], ["7", "Ali", "1990-02-30"],
     "line 3: date_of_birth '1990-02-30' is not a date"),
    (["record_id", "given_name", "date_of_birth"], ["7", "Ali", "12/03/1990"],
     "line 3: date_of_birth '12/03/1990' is not a date"),
    (["record_id", "given_name", "sex"], ["7", "Ali", "X"], "line 3: sex 'X' is not M or F"),
    (["record_id", "given_name"], ["1", "Ali"],
     "record id '1' appears more than once (lines 2, 3)"),
])
def test_bad_input_is_named(tmp_path: Path, header: list[str], row: list[str],
                            message: str) -> None:
    first = (["1", "Omar", *([""] * (len(header) - 2))] if header[0] == "record_id"
             else ["Omar", "X"])
    src = _write(tmp_path / "bad.csv", header, [first, row])
    result = runner.invoke(app, ["dedupe", str(src), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize(("engine", "message"), [("oracle", "unknown engine")])
def test_engines(tmp_path: Path, engine: str, message: str) -> None:
    src = _write(tmp_path / "x.csv", ["record_id"], [["1"]])
    result = runner.invoke(app, ["dedupe", str(src), "--out", str(tmp_path / "o.csv"),
                                 "--engine", engine])
    assert result.exit_code == 2 and message in " ".join(result.output.split())
