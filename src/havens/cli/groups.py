"""Command groups of the domains, added as they land."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the domains' command groups to the ``havens`` app."""
