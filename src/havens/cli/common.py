"""Helpers shared by the command groups: output, errors, the unit of work."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session

from havens.database import session_scope
from havens.exceptions import HavensError
from havens.orgs.permissions import Principal

# Piped output (grep, files) is not cut at 80 columns.
_WIDTH = None if sys.stdout.isatty() else 200
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Print a HavensError as one clear line and exit 2, instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HavensError as exc:
            where = f" [{exc.field}]" if exc.field else ""
            # escape(): "[field]" and a message's brackets are text, not Rich markup.
            err_console.print(f"[bold red]error{escape(where)}:[/] {escape(exc.message)}",
                              highlight=False)
            raise typer.Exit(2) from exc

    return wrapper  # type: ignore[return-value]


@contextmanager
def unit_of_work() -> Iterator[Session]:
    with session_scope() as db:
        yield db


def operator() -> Principal:
    """The person at the command line acts as the system operator."""
    return Principal.system()
