from __future__ import annotations

import typer

app = typer.Typer(help="assistance.", no_args_is_help=True)
