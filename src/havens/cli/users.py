from __future__ import annotations

import sys

import typer
from rich.table import Table

from havens.cli.common import console, handle_errors, operator, unit_of_work
from havens.orgs import service
from havens.orgs.models import Role
from havens.orgs.schemas import UserCreate, UserUpdate

app = typer.Typer(help="Users.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password (12 characters or more)", hide_input=True,
                            confirmation_prompt=True))


@app.command("create")
@handle_errors
def create(
    email: str = typer.Option(...),
    org: str = typer.Option(..., help="Acronym of the user's organisation"),
    role: Role = typer.Option(...),
    name: str | None = typer.Option(None, help="Display name (default: the email)"),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from standard input"),
) -> None:
    """Create a user; the password is prompted for, or read from standard input."""
    password = _read_password(password_stdin)
    with unit_of_work() as db:
        try:
            data = UserCreate(email=email, display_name=name or email, organisation=org,
                              role=role, password=password)
        except ValueError as exc:
            from havens.exceptions import ValidationFailed

            raise ValidationFailed(str(exc).splitlines()[-1].strip(), field="password") from exc
        user = service.create_user(db, actor=operator(), data=data)
        console.print(f"created user {user.email} ({user.role.value}, {org})")


@app.command("list")
@handle_errors
def list_() -> None:
    """List users."""
    with unit_of_work() as db:
        table = Table("id", "email", "name", "organisation", "role", "active")
        for user in service.list_users(db, actor=operator()):
            table.add_row(str(user.id), user.email, user.display_name,
                          user.organisation.acronym, user.role.value,
                          "yes" if user.is_active else "no")
        console.print(table)


@app.command("deactivate")
@handle_errors
def deactivate(email: str) -> None:
    """Deactivate a user and end their sessions."""
    with unit_of_work() as db:
        user = service.get_user_by_email(db, email=email)
        if user is None:
            from havens.exceptions import NotFound

            raise NotFound(f"No user {email}.", field="email")
        service.update_user(db, actor=operator(), user_id=user.id,
                            data=UserUpdate(is_active=False))
        console.print(f"deactivated {user.email}")
