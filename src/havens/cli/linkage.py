"""`havens linkage`: find the same person in registration lists (deduplicate one, link two)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from havens.cli.common import console, err_console, handle_errors
from havens.exceptions import ValidationFailed

app = typer.Typer(help="Find the same person across registration lists (Arabic names).",
                  no_args_is_help=True)

_DEDUPE_STEPS = ["read", "normalise", "block", "compare", "train", "score", "cluster", "write"]
_LINK_STEPS = ["read", "normalise", "block", "compare", "train", "score", "write"]
_LABELS = {"read": "Reading the list", "normalise": "Normalising names",
           "block": "Finding candidate pairs", "compare": "Comparing fields",
           "train": "Training the model", "score": "Scoring pairs",
           "cluster": "Building clusters", "write": "Writing results"}

Threshold = Annotated[float, typer.Option(
    "--threshold", min=0.0, max=1.0,
    help="Match probability from which two records are the same person.")]
ModelOpt = Annotated[Path | None, typer.Option(
    "--model", help="Model file (JSON): reused if it exists, else trained and saved there.")]
Retrain = Annotated[bool, typer.Option("--retrain", help="Train again even if --model exists.")]
Engine = Annotated[str, typer.Option("--engine", help="duckdb (embedded, the default).")]


@contextmanager
def _progress(steps: list[str]) -> Iterator[Callable[[str], None]]:
    """A progress bar advanced by the engine at the end of each step."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task(_LABELS[steps[0]], total=len(steps))

        def step(done: str) -> None:
            i = steps.index(done) + 1 if done in steps else 0
            label = _LABELS[steps[i]] if i < len(steps) else "Done"
            progress.update(task, completed=i, description=label)

        yield step


def _check_engine(engine: str) -> None:
    if engine == "duckdb":
        return
    if engine == "spark":
        raise ValidationFailed("the Spark engine is not part of this version yet: use --engine "
                               "duckdb (1 M records take about a minute on two cores)",
                               field="engine")
    raise ValidationFailed(f"unknown engine '{engine}': use duckdb", field="engine")


def _summary(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)


@app.command()
@handle_errors
def dedupe(
    file: Annotated[Path, typer.Argument(help="Registration list (CSV, headers or HXL hashtags).")],
    out: Annotated[Path, typer.Option("--out", help="clusters.csv: record_id,cluster_id.")],
    pairs: Annotated[Path | None, typer.Option(
        "--pairs", help="Also write the matching pairs with per-field agreement levels.")] = None,
    threshold: Threshold = 0.9,
    engine: Engine = "duckdb",
    model: ModelOpt = None,
    retrain: Retrain = False,
) -> None:
    """Deduplicate one list: every record gets a cluster (the same id = the same person)."""
    _check_engine(engine)
    from havens.linkage import engine_duckdb

    with _progress(_DEDUPE_STEPS) as step:
        s = engine_duckdb.dedupe(file, out=out, pairs_out=pairs, threshold=threshold,
                                 model_path=model, retrain=retrain, step=step)
    _summary(f"Deduplicated {file.name}", [
        ("records", f"{s.records:,}"),
        ("candidate pairs", f"{s.candidate_pairs:,}"),
        (f"pairs ≥ {threshold:g}", f"{s.pairs_above:,}"),
        ("clusters", f"{s.clusters:,}"),
        ("records with a duplicate", f"{s.records - s.singletons:,}"),
        ("model", "trained" + (f", saved to {model}" if model else "") if s.model_trained
         else f"reused {model}"),
        ("time", f"{s.seconds:.1f} s ({s.records / max(s.seconds, 1e-9):,.0f} records/s)"),
    ])
    console.print(f"Clusters written to {out}" + (f", pairs to {pairs}" if pairs else ""))


@app.command()
@handle_errors
def link(
    file_a: Annotated[Path, typer.Argument(help="List A (CSV, headers or HXL hashtags).")],
    file_b: Annotated[Path, typer.Argument(help="List B.")],
    out: Annotated[Path, typer.Option("--out", help="pairs.csv: record_id_l (A), record_id_r (B), "
                                      "match_probability and per-field agreement levels.")],
    threshold: Threshold = 0.9,
    engine: Engine = "duckdb",
    model: ModelOpt = None,
    retrain: Retrain = False,
) -> None:
    """Link two lists: the pairs of records (one from each) that are the same person."""
    _check_engine(engine)
    from havens.linkage import engine_duckdb

    with _progress(_LINK_STEPS) as step:
        s = engine_duckdb.link(file_a, file_b, out=out, threshold=threshold, model_path=model,
                               retrain=retrain, step=step)
    _summary(f"Linked {file_a.name} and {file_b.name}", [
        ("records", f"{s.records:,}"),
        ("candidate pairs", f"{s.candidate_pairs:,}"),
        (f"pairs ≥ {threshold:g}", f"{s.pairs_above:,}"),
        ("model", "trained" + (f", saved to {model}" if model else "") if s.model_trained
         else f"reused {model}"),
        ("time", f"{s.seconds:.1f} s ({s.records / max(s.seconds, 1e-9):,.0f} records/s)"),
    ])
    console.print(f"Pairs written to {out}")


_RUN_STEPS = ["read", "score", "queue"]
_RUN_LABELS = {"read": "Reading the registry", "score": "Matching",
               "queue": "Filling the review queue"}


@app.command("run")
@handle_errors
def run_registry(
    as_user: Annotated[str | None, typer.Option(
        "--as", help="Act as this user (email): match what their organisation may see.")] = None,
    org: Annotated[str | None, typer.Option(
        "--org", help="Operator only: match this organisation's view (default: everyone).")
    ] = None,
    threshold: Annotated[float, typer.Option(
        "--threshold", min=0.0, max=1.0,
        help="Match probability from which a pair goes to the review queue.")] = 0.8,
    incremental: Annotated[bool, typer.Option(
        "--incremental", help="Match only individuals registered since the last run.")] = False,
    retrain: Annotated[bool, typer.Option(
        "--retrain", help="Train the model again instead of reusing the last run's.")] = False,
) -> None:
    """Match the registry and put candidate duplicates in the review queue."""
    from havens.cli.common import operator, unit_of_work
    from havens.linkage import service
    from havens.orgs import service as org_service

    if as_user and org:
        raise ValidationFailed("Use --as EMAIL or --org ACRONYM, not both.", field="org")
    with unit_of_work() as db:
        actor = operator()
        if as_user:
            user = org_service.get_user_by_email(db, email=as_user)
            if user is None or not user.is_active:
                raise ValidationFailed(f"No active user {as_user}.", field="as")
            actor = org_service.principal_for(user)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TimeElapsedColumn(), console=err_console, transient=True) as progress:
            task = progress.add_task(_RUN_LABELS["read"], total=len(_RUN_STEPS))

            def step(done: str) -> None:
                i = _RUN_STEPS.index(done) + 1
                label = _RUN_LABELS[_RUN_STEPS[i]] if i < len(_RUN_STEPS) else "Done"
                progress.update(task, completed=i, description=label)

            result = service.run(db, actor=actor, organisation=org, threshold=threshold,
                                 incremental=incremental, retrain=retrain, step=step)
        _summary(f"Linkage run {result.id}" + (" (incremental)" if result.incremental else ""), [
            ("records", f"{result.records:,}"),
            ("new records", f"{result.new_records:,}" if result.incremental else "all"),
            ("candidate pairs scored", f"{result.candidate_pairs:,}"),
            (f"new pairs ≥ {threshold:g} queued", f"{result.proposed:,}"),
            ("model", f"{result.model_version} ("
             + ("learned from this registry" if result.model_trained
                else "bundled: the registry is too small to train") + ")"),
            ("time", f"{result.seconds:.1f} s"),
        ])
