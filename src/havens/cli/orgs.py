from __future__ import annotations

import typer
from rich.table import Table

from havens.cli.common import console, handle_errors, operator, unit_of_work
from havens.orgs import service
from havens.orgs.models import OrgKind
from havens.orgs.schemas import OrganisationCreate

app = typer.Typer(help="Organisations.", no_args_is_help=True)


@app.command("create")
@handle_errors
def create(
    name: str = typer.Option(..., help="Full name"),
    acronym: str = typer.Option(..., help="Short unique name, e.g. UNHCR"),
    kind: OrgKind = typer.Option(...),
    country: str = typer.Option(..., help="ISO 3166-1 alpha-3, e.g. SYR"),
    name_ar: str | None = typer.Option(None, help="Name in Arabic"),
) -> None:
    """Create an organisation."""
    with unit_of_work() as db:
        org = service.create_organisation(db, actor=operator(), data=OrganisationCreate(
            name=name, acronym=acronym, kind=kind, country=country.upper(), name_ar=name_ar))
        console.print(f"created organisation {org.acronym} (id {org.id})")


@app.command("list")
@handle_errors
def list_() -> None:
    """List organisations."""
    with unit_of_work() as db:
        table = Table("id", "acronym", "name", "kind", "country")
        for org in service.list_organisations(db, actor=operator()):
            table.add_row(str(org.id), org.acronym, org.name, org.kind.value, org.country)
        console.print(table)
