from __future__ import annotations

import typer

from havens.cli.common import console, handle_errors, operator, unit_of_work
from havens.demo import loader
from havens.demo.orgs import USERS

app = typer.Typer(help="Demo data (demo databases only).", no_args_is_help=True)


@app.command("load")
@handle_errors
def load() -> None:
    """Load the demo data into an empty database and print the demo accounts."""
    with unit_of_work() as db, console.status("loading demo data") as status:
        loaded = loader.load(db, actor=operator(),
                             on_step=lambda name: status.update(f"loading {name}"))
    console.print("demo data loaded" if loaded else "demo data was already loaded")
    # Plain lines, never truncated: people copy these passwords to log in.
    console.print("Demo accounts (email  password  role  organisation):")
    for user in USERS:
        console.print(f"  {user.email}  {user.password}  {user.role.value}  {user.org}",
                      highlight=False, soft_wrap=True)
