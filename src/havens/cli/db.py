from __future__ import annotations

import typer

from havens.cli.common import console

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database (HAVENS_DATABASE_URL) to the latest schema."""
    from havens.migrations.runner import upgrade as run_upgrade

    run_upgrade(revision)
    console.print(f"database at revision [bold]{revision}[/]")


@app.command("current")
def current() -> None:
    """Show the database's schema revision."""
    from havens.migrations.runner import current_revision

    console.print(current_revision() or "empty (no revision)")
