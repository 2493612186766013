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
from havens.orgs.permissions import Principal

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
Engine = Annotated[str, typer.Option(
    "--engine", help="duckdb (embedded, the default) or spark (Splink on a Spark cluster; "
    "pip install 'havens\\[spark]').")]
SparkMaster = Annotated[str, typer.Option(
    "--spark-master", help="Spark master URL for --engine spark: local[2], spark://host:7077, "
    "yarn…")]


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
    if engine not in ("duckdb", "spark"):
        raise ValidationFailed(f"unknown engine '{engine}': use duckdb or spark", field="engine")


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
    spark_master: SparkMaster = "local[2]",
    model: ModelOpt = None,
    retrain: Retrain = False,
    unsupervised: Annotated[bool, typer.Option(
        "--unsupervised", help="Ignore the promoted learned model (see `models list`).")
    ] = False,
    cannot_link: Annotated[Path | None, typer.Option(
        "--cannot-link", help="CSV of pairs that are different people (record_id_l, "
        "record_id_r, as in --pairs; other columns ignored): never put in one cluster.")
    ] = None,
) -> None:
    """Deduplicate one list: every record gets a cluster (the same id = the same person).

    Scores with the promoted learned model when there is one (and no --model is given); the
    Spark engine scores with the unsupervised model, as Splink runs it. To feed reviewers'
    rejections back, keep the rejected rows of a --pairs file and pass it as --cannot-link:
    every row of that file counts as "different people".
    """
    _check_engine(engine)
    from havens.linkage import engine_duckdb, learned

    with _progress(_DEDUPE_STEPS) as step:
        if engine == "spark":
            from havens.linkage import engine_spark

            s = engine_spark.dedupe(file, out=out, pairs_out=pairs, threshold=threshold,
                                    model_path=model, retrain=retrain, step=step,
                                    master=spark_master, cannot_link_path=cannot_link)
        else:
            scorer = None if unsupervised or model else learned.promoted()
            s = engine_duckdb.dedupe(file, out=out, pairs_out=pairs, threshold=threshold,
                                     model_path=model, retrain=retrain, step=step,
                                     learned=scorer, cannot_link_path=cannot_link)
    _summary(f"Deduplicated {file.name}", [
        ("records", f"{s.records:,}"),
        ("candidate pairs", f"{s.candidate_pairs:,}"),
        (f"pairs ≥ {threshold:g}", f"{s.pairs_above:,}"),
        ("clusters", f"{s.clusters:,}"),
        ("records with a duplicate", f"{s.records - s.singletons:,}"),
        *([("pairs kept apart (--cannot-link)", f"{s.cannot_link:,}")] if cannot_link else []),
        ("model", s.learned + " (learned from reviewers)" if s.learned else
         "trained" + (f", saved to {model}" if model else "") if s.model_trained
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
    spark_master: SparkMaster = "local[2]",
    model: ModelOpt = None,
    retrain: Retrain = False,
) -> None:
    """Link two lists: the pairs of records (one from each) that are the same person."""
    _check_engine(engine)
    from havens.linkage import engine_duckdb

    with _progress(_LINK_STEPS) as step:
        if engine == "spark":
            from havens.linkage import engine_spark

            s = engine_spark.link(file_a, file_b, out=out, threshold=threshold,
                                  model_path=model, retrain=retrain, step=step,
                                  master=spark_master)
        else:
            s = engine_duckdb.link(file_a, file_b, out=out, threshold=threshold,
                                   model_path=model, retrain=retrain, step=step)
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
            ("kept apart by clustering", f"{result.kept_apart:,}"),
            ("model", f"{result.model_version} ("
             + ("learned from this registry" if result.model_trained
                else "bundled: the registry is too small to train") + ")"),
            ("time", f"{result.seconds:.1f} s"),
        ])


def _actor(as_user: str | None) -> Callable[[object], Principal]:
    """The principal to act as, looked up in each unit of work (operator without --as)."""
    from sqlalchemy.orm import Session

    from havens.cli.common import operator
    from havens.orgs import service as org_service

    def get(db: object) -> Principal:
        assert isinstance(db, Session)
        if not as_user:
            return operator()
        user = org_service.get_user_by_email(db, email=as_user)
        if user is None or not user.is_active:
            raise ValidationFailed(f"No active user {as_user}.", field="as")
        return org_service.principal_for(user)

    return get


AsUser = Annotated[str | None, typer.Option(
    "--as", help="Act as this user (email); default: the operator.")]


@app.command()
@handle_errors
def review(
    as_user: AsUser = None,
    order: Annotated[str, typer.Option(
        "--order", help="active (teaches the matcher the most first) or probability.")
    ] = "active",
) -> None:
    """Review candidate duplicates in the terminal: c confirm, r reject, s skip, b back, q quit."""
    from havens.linkage import reviewer

    tally = reviewer.run(actor=_actor(as_user), read_key=reviewer.key_reader(), console=console,
                         order=order)
    _summary("Review", [("confirmed", str(tally.confirmed)), ("rejected", str(tally.rejected)),
                        ("skipped", str(tally.skipped)), ("undone", str(tally.undone))])


labels_app = typer.Typer(help="Reviewers' decisions as training labels (no personal data).",
                         no_args_is_help=True)
app.add_typer(labels_app, name="labels")


@labels_app.command("export")
@handle_errors
def labels_export(file: Annotated[Path, typer.Argument(help="CSV file to write.")],
                  as_user: AsUser = None) -> None:
    """Write the labels as comparison vectors and decisions (no names, no ids of people)."""
    from havens.cli.common import unit_of_work
    from havens.linkage import labels

    with unit_of_work() as db:
        n = labels.export_csv(db, actor=_actor(as_user)(db), path=file)
    console.print(f"{n:,} labels written to {file}")


@labels_app.command("import")
@handle_errors
def labels_import(file: Annotated[Path, typer.Argument(help="Labels CSV (from export).")],
                  as_user: AsUser = None) -> None:
    """Add labels from a CSV of comparison vectors and decisions (all rows or none)."""
    from havens.cli.common import unit_of_work
    from havens.linkage import labels

    with unit_of_work() as db:
        n = labels.import_csv(db, actor=_actor(as_user)(db), path=file)
        matches, others = labels.counts(db)
    console.print(f"{n:,} labels imported; now {matches:,} matches and {others:,} non-matches.")


models_app = typer.Typer(help="Learned pair scorers: train, list, promote, roll back.",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
@handle_errors
def models_list() -> None:
    """Every trained version with its labels, cross-validated scores and the one in use."""
    from havens.linkage import learned

    table = Table(title="Learned models")
    for col in ("version", "kind", "labels", "matches", "CV precision", "CV recall", "CV F1",
                "created", "in use"):
        table.add_column(col)
    for m in learned.versions():
        table.add_row(str(m.version), m.kind, str(m.labels), str(m.matches),
                      f"{m.cv.get('precision', 0):.3f}", f"{m.cv.get('recall', 0):.3f}",
                      f"{m.cv.get('f1', 0):.3f}", m.created_at, "✓" if m.promoted else "")
    console.print(table)
    if learned.promoted() is None:
        console.print("In use: the unsupervised (Fellegi–Sunter) model.")


@models_app.command("train")
@handle_errors
def models_train(
    threshold: Annotated[float, typer.Option(
        "--threshold", min=0.0, max=1.0,
        help="Probability from which a held-out pair counts as a match when comparing.")] = 0.5,
) -> None:
    """Train a new version on the labels; promote it only if it beats the current scorer."""
    from havens.audit import service as audit
    from havens.cli.common import operator, unit_of_work
    from havens.linkage import labels, learned

    with unit_of_work() as db:
        result = learned.train(labels.examples(db), threshold=threshold)
        audit.record(db, actor=operator(), action="linkage.model_train",
                     object_type="linkage_model", object_id=result.model.version,
                     detail={"labels": result.model.labels, "kind": result.model.kind,
                             "cv": {k: result.model.cv[k] for k in ("precision", "recall", "f1")},
                             "heldout": result.model.heldout, "promoted": result.promoted})
    m = result.model
    _summary(f"Learned model v{m.version}", [
        ("labels", f"{m.labels:,} ({m.matches:,} matches)"),
        ("kind", m.kind), ("why", m.reason),
        ("CV precision / recall / F1",
         f"{m.cv['precision']:.3f} / {m.cv['recall']:.3f} / {m.cv['f1']:.3f}"),
        ("held-out F1", f"{result.candidate_f1:.3f} vs {result.current_f1:.3f} "
         f"({result.current})"),
        ("promoted", "yes" if result.promoted else "no: not better than the current scorer"),
        ("time", f"{result.seconds:.1f} s"),
    ])


def _switch(version: int, action: str) -> None:
    from havens.audit import service as audit
    from havens.cli.common import operator, unit_of_work
    from havens.linkage import learned

    with unit_of_work() as db:
        before = learned.promoted()
        model = learned.promote(version)
        audit.record(db, actor=operator(), action=f"linkage.model_{action}",
                     object_type="linkage_model", object_id=version,
                     detail={"previous": before.version if before else None})
    console.print(f"In use: {model.tag} ({model.kind}, {model.labels} labels, "
                  f"CV F1 {model.cv.get('f1', 0):.3f}).")


@models_app.command("promote")
@handle_errors
def models_promote(version: Annotated[int, typer.Argument(help="Version to use.")]) -> None:
    """Use this version from now on (even if it did not beat the current one)."""
    _switch(version, "promote")


@models_app.command("rollback")
@handle_errors
def models_rollback(version: Annotated[int, typer.Argument(help="Earlier version.")]) -> None:
    """Go back to an earlier version."""
    _switch(version, "rollback")
