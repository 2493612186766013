"""``havens sharing``: data-sharing agreements between a registering and a recipient
organisation. Each command acts as a named user (``--as EMAIL``): signatures bind an
organisation, so the operator cannot give them."""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table

from havens.cli.common import console, handle_errors, unit_of_work
from havens.exceptions import NotFound
from havens.orgs.permissions import Principal
from havens.sharing import service
from havens.sharing.schemas import DsaCreate, DsaRead

app = typer.Typer(help="Data-sharing agreements (who may read which households' data).",
                  no_args_is_help=True)
AS_USER = typer.Option(..., "--as", help="Act as this user (email)")


def _actor(db: object, email: str) -> Principal:
    from havens.orgs import service as org_service

    user = org_service.get_user_by_email(db, email=email)  # type: ignore[arg-type]
    if user is None or not user.is_active:
        raise NotFound(f"No active user {email}.", field="as")
    return org_service.principal_for(user)


def _print(dsa: DsaRead) -> None:
    console.print(f"[bold]DSA {dsa.id}[/] {dsa.provider} → {dsa.recipient} · zone "
                  f"{dsa.zone_code or 'all'} · {dsa.status} · {dsa.starts_on} to "
                  f"{dsa.expires_on}\n  purposes: {', '.join(dsa.purposes)}\n  fields: "
                  f"{', '.join(dsa.fields) or '(none beyond the basic ones)'}", highlight=False)


@app.command("propose")
@handle_errors
def propose(
    recipient: str = typer.Option(..., help="Recipient organisation (acronym)"),
    purpose: list[str] = typer.Option(..., "--purpose", help="Consent purpose (repeat)"),
    field: list[str] = typer.Option([], "--field", help="names, dates_of_birth, phone, "
                                                        "documents, specific_needs, "
                                                        "origin_locality (repeat)"),
    expires: dt.datetime = typer.Option(..., formats=["%Y-%m-%d"]),
    starts: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"]),
    zone: str | None = typer.Option(None, help="Zone code (default: all zones)"),
    as_user: str = AS_USER,
) -> None:
    """Offer your organisation's household data to a recipient (needs both signatures)."""
    data = DsaCreate.model_validate({
        "recipient": recipient, "zone_code": zone, "purposes": purpose, "fields": field,
        "starts_on": (starts.date() if starts else dt.date.today()),
        "expires_on": expires.date()})
    with unit_of_work() as db:
        _print(service.to_read(db, service.propose(db, actor=_actor(db, as_user), data=data)))


@app.command("sign")
@handle_errors
def sign(agreement_id: int, as_user: str = AS_USER) -> None:
    """Sign an agreement for your organisation's side."""
    with unit_of_work() as db:
        _print(service.to_read(db, service.sign(db, actor=_actor(db, as_user),
                                                 agreement_id=agreement_id)))


@app.command("revoke")
@handle_errors
def revoke(agreement_id: int, reason: str = typer.Option(..., help="Why (recorded)"),
           as_user: str = AS_USER) -> None:
    """End an agreement now (either side may)."""
    with unit_of_work() as db:
        _print(service.to_read(db, service.revoke(db, actor=_actor(db, as_user),
                                                   agreement_id=agreement_id, reason=reason)))


@app.command("list")
@handle_errors
def list_(as_user: str | None = typer.Option(None, "--as", help="Only this user's "
                                                                "organisation's agreements")
          ) -> None:
    """Agreements (all of them for the operator)."""
    from havens.cli.common import operator

    with unit_of_work() as db:
        actor = _actor(db, as_user) if as_user else operator()
        rows = [service.to_read(db, d) for d in service.list_agreements(db, actor=actor)]
    table = Table("id", "provider", "recipient", "zone", "purposes", "fields", "status",
                  "expires")
    for d in rows:
        table.add_row(str(d.id), d.provider, d.recipient, d.zone_code or "all",
                      ",".join(d.purposes), ",".join(d.fields), d.status, str(d.expires_on))
    console.print(table)
