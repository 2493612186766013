"""Shared setup of the people benchmarks: a fresh database with orgs, zones and sites."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from havens.database import get_engine, make_engine, normalise_url, session_scope
from havens.geo.models import AdminArea
from havens.models import metadata
from havens.orgs.models import Organisation, OrgKind
from havens.zones.models import Site, SiteType, Zone

ORIGINS = ["SY070000", "SY070001", "SY070002", "SY070003"]


@contextmanager
def fresh_database(kind: str, postgres_url: str) -> Iterator[str]:
    """A new empty database of the kind ('sqlite' or 'postgresql'), dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    base = make_url(normalise_url(postgres_url))
    name = f"havens_bench_{secrets.token_hex(3)}"
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str, *, zones: int, sites_per_zone: int) -> dict[str, list[str]]:
    """Schema, UNHCR, admin areas and zones with sites; returns zone code -> site codes."""
    metadata.create_all(get_engine(url))
    layout: dict[str, list[str]] = {}
    with session_scope(url) as db:
        db.add(Organisation(name="UNHCR", acronym="UNHCR", kind=OrgKind.un_agency,
                            country="CHE"))
        db.add(AdminArea(pcode="SY07", country="SYR", level=1, name_en="Idleb"))
        db.add(AdminArea(pcode="SY0700", country="SYR", level=2, parent_pcode="SY07",
                         name_en="Idleb"))
        db.flush()
        for pcode in ORIGINS:
            db.add(AdminArea(pcode=pcode, country="SYR", level=3, parent_pcode="SY0700",
                             name_en=pcode))
        for z in range(zones):
            zone = Zone(code=f"Z{z + 1:02d}", name_en=f"Zone {z + 1}")
            db.add(zone)
            db.flush()
            layout[zone.code] = []
            for s in range(sites_per_zone):
                code = f"CP{z + 1:03d}{s + 1:03d}"
                db.add(Site(code=code, name_en=code, site_type=SiteType.planned_camp,
                            lon=36.6, lat=36.2, zone_id=zone.id, declared_capacity=40_000))
                layout[zone.code].append(code)
    return layout
