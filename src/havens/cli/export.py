from __future__ import annotations

import typer


def run(name: str = typer.Argument(..., help="The export's name")) -> None:
    """Write an export (filled in by the interop domain)."""
    raise typer.Exit(2)
