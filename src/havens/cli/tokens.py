from __future__ import annotations

import typer

from havens.cli.common import console, handle_errors, operator, unit_of_work
from havens.exceptions import NotFound
from havens.orgs import service
from havens.orgs.schemas import TokenCreate

app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)


@app.command("create")
@handle_errors
def create(
    email: str = typer.Option(..., help="The user the token acts as"),
    name: str = typer.Option("cli", help="What the token is for"),
    days: int | None = typer.Option(None, help="Expire after this many days"),
) -> None:
    """Create an API token; it is printed once and never shown again."""
    with unit_of_work() as db:
        user = service.get_user_by_email(db, email=email)
        if user is None:
            raise NotFound(f"No user {email}.", field="email")
        _row, token = service.create_token(db, actor=operator(), user_id=user.id,
                                           data=TokenCreate(name=name, expires_in_days=days))
    console.print(token, highlight=False, soft_wrap=True)


@app.command("revoke")
@handle_errors
def revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    with unit_of_work() as db:
        service.revoke_token(db, actor=operator(), token_id=token_id)
        console.print(f"revoked token {token_id}")
