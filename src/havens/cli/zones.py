from __future__ import annotations

import typer

app = typer.Typer(help="zones.", no_args_is_help=True)
