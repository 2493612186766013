"""The ``havens`` command line. One file per command group."""

from __future__ import annotations

import typer

from havens.cli import audit, db, demo, geo, groups, orgs, serve, tokens, users

app = typer.Typer(
    name="havens", no_args_is_help=True, add_completion=False,
    help="Havens: coordination of safe zones for internally displaced people.",
)
app.add_typer(db.app, name="db")
app.add_typer(orgs.app, name="orgs")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(audit.app, name="audit")
app.add_typer(geo.app, name="geo")
app.add_typer(demo.app, name="demo")
app.command("serve")(serve.serve)

groups.register(app)

if __name__ == "__main__":
    app()
