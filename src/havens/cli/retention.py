"""``havens retention``: pseudonymise households that left long ago (data minimisation)."""

from __future__ import annotations

import typer

from havens.cli.common import console, handle_errors, operator, unit_of_work
from havens.config import get_settings
from havens.people import retention

app = typer.Typer(help="Retention of personal data.", no_args_is_help=True)


@app.command("apply")
@handle_errors
def apply(
    months: int | None = typer.Option(None, "--months", min=1,
                                      help="Months after leaving (default: "
                                           "HAVENS_RETENTION_MONTHS, 24)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only, change nothing"),
) -> None:
    """Pseudonymise households that left more than N months ago, keeping anonymous
    statistics (sex, age group, origin admin3, movement dates). Audited; idempotent."""
    months = months or get_settings().retention_months
    with unit_of_work() as db:
        result = retention.apply(db, actor=operator(), months=months, dry_run=dry_run)
    verb = "would pseudonymise" if dry_run else "pseudonymised"
    console.print(f"{verb} {len(result.households)} household(s), {result.individuals} "
                  f"individual(s) that left before {result.cutoff}")
