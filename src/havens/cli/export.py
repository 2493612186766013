from __future__ import annotations

import typer

app = typer.Typer(help="Exports.", no_args_is_help=True)
