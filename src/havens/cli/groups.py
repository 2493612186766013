"""Command groups of the domains."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the domains' command groups to the ``havens`` app."""
    from havens.cli import agreements, people, sites, zones

    app.add_typer(zones.app, name="zones")
    app.add_typer(sites.app, name="sites")
    app.add_typer(agreements.app, name="agreements")
    app.add_typer(people.app, name="people")
