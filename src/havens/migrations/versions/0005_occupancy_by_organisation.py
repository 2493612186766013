"""occupancy indexes end with the registering organisation

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 18:00:00.000000

Occupancy tables are protected for callers with personal-data rights too: a cell counted only
from their own organisation's registrations is shown as it is, any other small count is
withheld. Counting each cell's own share needs the organisation; with it at the end of the
occupancy and household-status indexes, the counts stay index-only scans.
"""

from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_INDEXES = {
    'households': ('ix_households_site_status', ['site_id', 'status', 'merged_into_id']),
    'individuals': ('ix_individuals_occupancy',
                    ['site_id', 'present', 'sex', 'date_of_birth', 'merged_into_id']),
}


def _recreate(table: str, *, with_organisation: bool) -> None:
    name, columns = _INDEXES[table]
    op.drop_index(name, table_name=table)
    op.create_index(name, table, [*columns, *(['organisation_id'] if with_organisation else [])],
                    unique=False)


def upgrade() -> None:
    for table in _INDEXES:
        _recreate(table, with_organisation=True)


def downgrade() -> None:
    for table in _INDEXES:
        _recreate(table, with_organisation=False)
