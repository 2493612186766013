from __future__ import annotations

import typer

app = typer.Typer(help="agreements.", no_args_is_help=True)
