from __future__ import annotations

from pathlib import Path

import typer

from havens.cli.common import console, handle_errors, operator, unit_of_work
from havens.geo import service

app = typer.Typer(help="Reference geography (admin areas, P-codes).", no_args_is_help=True)


@app.command("load")
@handle_errors
def load(path: Path | None = typer.Argument(
        None, help="GeoJSON/CSV file or Open-Syria folder; default: the Syria data shipped")
         ) -> None:
    """Load admin areas (idempotent: existing P-codes are updated)."""
    with unit_of_work() as db:
        count = service.load_areas(db, actor=operator(), path=path)
    console.print(f"loaded {count} admin areas")
