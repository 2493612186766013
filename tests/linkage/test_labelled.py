"""A small labelled Arabic-name set (fixed seed): fails if pairwise quality drops below target."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from havens.linkage import engine_duckdb
from havens.linkage.evaluate import cluster_scores
from havens.linkage.normalise import is_arabic
from havens.linkage.synth import generate

TARGET_F1 = 0.95
TARGET_PRECISION = 0.97


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, str]]]:
    path = tmp_path_factory.mktemp("labelled") / "registrations.csv"
    generate(800, seed=11, path=path)
    with path.open(encoding="utf-8") as fh:
        rows = {r["record_id"]: r for r in csv.DictReader(fh)}
    return path, rows


def test_the_set_is_hard_enough(labelled: tuple[Path, dict[str, dict[str, str]]]) -> None:
    _, rows = labelled
    by_person: dict[str, list[dict[str, str]]] = {}
    for r in rows.values():
        by_person.setdefault(r["person_id"], []).append(r)
    cross = [g for g in by_person.values() if len({is_arabic(r["given_name"]) for r in g}) == 2]
    lineages: dict[tuple[str, str], set[str]] = {}
    for r in rows.values():
        if r["agency"] == "SARC":
            lineages.setdefault((r["father_name"], r["family_name"]), set()).add(r["person_id"])
    relatives = [p for p in lineages.values() if len(p) > 1]
    assert len(cross) >= 50  # the same person in Arabic script and in Latin transliteration
    assert len(relatives) >= 20  # different people sharing father's and family names


def test_dedupe_meets_the_targets(labelled: tuple[Path, dict[str, dict[str, str]]],
                                  tmp_path: Path) -> None:
    path, rows = labelled
    out = tmp_path / "clusters.csv"
    summary = engine_duckdb.dedupe(path, out=out)
    with out.open(encoding="utf-8") as fh:
        clusters = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    assert clusters.keys() == rows.keys()
    truth = {rid: r["person_id"] for rid, r in rows.items()}
    scores = cluster_scores(clusters, truth)
    print(f"\nlabelled set: {len(rows)} records, {summary.candidate_pairs} candidate pairs, "
          f"P={scores.precision:.3f} R={scores.recall:.3f} F1={scores.f1:.3f}")
    assert scores.precision >= TARGET_PRECISION
    assert scores.f1 >= TARGET_F1
    cross = [(a, b) for a in rows for b in rows if a < b and truth[a] == truth[b]
             and is_arabic(rows[a]["given_name"]) != is_arabic(rows[b]["given_name"])]
    found = sum(clusters[a] == clusters[b] for a, b in cross)
    assert found / len(cross) >= 0.9
