"""Migrations build the same schema as the models, on an empty database of each kind."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from havens.database import make_engine
from havens.migrations.runner import upgrade
from havens.models import metadata


def test_upgrade_empty_database_to_head_matches_models(cli_database_url: str) -> None:
    upgrade("head", url=cli_database_url)
    engine = make_engine(cli_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert differences == []
    assert {"organisations", "users", "audit_log", "admin_areas"} <= tables
