from __future__ import annotations

import typer

app = typer.Typer(help="incidents.", no_args_is_help=True)
