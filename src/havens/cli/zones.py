"""``havens zones``: list, show and import safe zones."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from havens.cli.common import console, handle_errors, operator, unit_of_work
from havens.exceptions import ValidationFailed
from havens.zones import service
from havens.zones.models import ZoneStatus

app = typer.Typer(help="Safe zones: list, show, import boundaries.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_zones(
    status: list[ZoneStatus] | None = typer.Option(None, "--status", help="repeatable"),
    admin: str | None = typer.Option(None, "--admin", help="admin P-code the zone covers"),
) -> None:
    """Zones with their status, area, sites and capacity."""
    with unit_of_work() as db:
        zones = service.list_zones(db, actor=operator(), statuses=status, admin_pcode=admin)
        table = Table("code", "name", "status", "admin P-codes", "area km²", "sites",
                      "capacity")
        for zone in zones:
            read = service.to_read(db, zone)
            table.add_row(zone.code, _name(zone.name_en, zone.name_ar), zone.status.value,
                          ", ".join(zone.admin_pcodes), _km2(zone.area_m2),
                          str(read.site_count), _num(read.capacity))
    console.print(table if zones else "no zones")


@app.command("show")
@handle_errors
def show(code: str = typer.Argument(..., help="zone code, e.g. SZ-SY07-001")) -> None:
    """One zone: details, capacity and reported occupancy."""
    actor = operator()
    with unit_of_work() as db:
        zone = service.get_zone_by_code(db, actor=actor, code=code)
        read = service.to_read(db, zone)
        occupancy = service.occupancy(db, actor=actor, zone_id=zone.id)
    lines = [
        f"[bold]{read.code}[/]  {_name(read.name_en, read.name_ar)}",
        f"status          {read.status.value}"
        + (f" ({read.status_reason})" if read.status_reason else "")
        + (f", closing on {read.closing_date}" if read.closing_date else ""),
        f"admin P-codes   {', '.join(read.admin_pcodes)}",
        f"area            {_km2(read.area_m2)} km²" if read.area_m2 else "area            "
        "no boundary drawn",
        f"emergency phase {'yes' if read.emergency_phase else 'no'}",
        f"sites           {read.site_count}",
        (f"capacity        {read.capacity:,} people (Sphere 45 m² per person, or declared; "
         f"{occupancy.sites_with_capacity} of {occupancy.sites} site(s) with a known capacity)"
         if read.capacity is not None else
         "capacity        unknown (no site has a measured or declared area or capacity)"),
        f"reported        {occupancy.reported_individuals:,} people in "
        f"{occupancy.sites_reporting} site(s), latest report {occupancy.latest_report or '-'} "
        "(site monitoring, not registration)",
    ]
    if occupancy.share is not None:
        lines.append(f"occupancy       {occupancy.share:.0%} of capacity")
    for line in lines:
        console.print(line, highlight=False)


@app.command("import")
@handle_errors
def import_zones(path: Path = typer.Argument(..., help="GeoJSON FeatureCollection")) -> None:
    """Create or update zones by code from a GeoJSON file (the format of /zones.geojson)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValidationFailed(f"{path}: no such file.", field="file") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(f"{path}: not valid JSON ({exc}).", field="file") from exc
    with unit_of_work() as db:
        result = service.import_geojson(db, actor=operator(), data=data)
    console.print(f"zones: {len(result.created)} created, {len(result.updated)} updated, "
                  f"{len(result.unchanged)} unchanged", highlight=False)


def _name(english: str, arabic: str | None) -> str:
    return f"{english} / {arabic}" if arabic else english


def _km2(area_m2: float | None) -> str:
    return f"{area_m2 / 1e6:,.2f}" if area_m2 is not None else "-"


def _num(value: int | None) -> str:
    return f"{value:,}" if value is not None else "unknown"
