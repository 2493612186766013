"""Command groups of the domains."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the domains' command groups to the ``havens`` app."""
    from havens.cli import (
        agreements,
        assistance,
        export,
        incidents,
        linkage,
        people,
        report,
        retention,
        returns,
        sharing,
        sites,
        zones,
    )

    app.add_typer(zones.app, name="zones")
    app.add_typer(sites.app, name="sites")
    app.add_typer(agreements.app, name="agreements")
    app.add_typer(people.app, name="people")
    app.add_typer(linkage.app, name="linkage")
    app.add_typer(assistance.app, name="assistance")
    app.add_typer(incidents.app, name="incidents")
    app.add_typer(returns.app, name="returns")
    app.command("export")(export.run)
    app.add_typer(report.app, name="report")
    app.add_typer(retention.app, name="retention")
    app.add_typer(sharing.app, name="sharing")
