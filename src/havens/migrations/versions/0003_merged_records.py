"""merged records: individuals and households point at the record they were merged into

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000

A confirmed duplicate keeps its row (history, reversible unmerge) and points at the record kept,
so that the people views, counts and exports show each person once. The pointers of merges
confirmed before this revision are filled in from ``linkage_merges`` and
``linkage_household_merges``. The occupancy and household-status indexes end with the pointer
so that counting the people who count stays an index-only scan. No table is copied (SQLite
adds and drops the column in place), so the revision is quick on a large registry.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


_OLD_INDEXES = {
    'households': ('ix_households_site_status', ['site_id', 'status']),
    'individuals': ('ix_individuals_occupancy', ['site_id', 'present', 'sex', 'date_of_birth']),
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _add_pointer(table: str) -> None:
    fk = f'fk_{table}_merged_into_id_{table}'
    if _sqlite():
        # SQLite adds the column with its reference in place. A batch copy of the table would
        # have to drop the original, which other tables' rows refer to (foreign keys are on).
        op.execute(sa.text(f'ALTER TABLE {table} ADD COLUMN merged_into_id INTEGER '
                           f'CONSTRAINT {fk} REFERENCES {table} (id)'))
    else:
        op.add_column(table, sa.Column('merged_into_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(fk), table, table, ['merged_into_id'], ['id'])
    op.create_index(op.f(f'ix_{table}_merged_into_id'), table, ['merged_into_id'], unique=False)
    name, columns = _OLD_INDEXES[table]
    op.drop_index(op.f(name), table_name=table)
    op.create_index(name, table, [*columns, 'merged_into_id'], unique=False)


def _drop_pointer(table: str) -> None:
    name, columns = _OLD_INDEXES[table]
    op.drop_index(op.f(name), table_name=table)
    op.create_index(name, table, columns, unique=False)
    op.drop_index(op.f(f'ix_{table}_merged_into_id'), table_name=table)
    if _sqlite():
        # Dropping the column drops its column constraint too (SQLite 3.35 and later).
        op.execute(sa.text(f'ALTER TABLE {table} DROP COLUMN merged_into_id'))
    else:
        op.drop_constraint(op.f(f'fk_{table}_merged_into_id_{table}'), table,
                           type_='foreignkey')
        op.drop_column(table, 'merged_into_id')


def upgrade() -> None:
    _add_pointer('households')
    _add_pointer('individuals')
    # The merges in force (not undone) before this revision.
    op.execute(sa.text(
        "UPDATE individuals SET merged_into_id = ("
        " SELECT m.kept_id FROM linkage_merges m"
        " WHERE m.merged_id = individuals.id AND m.unmerged_at IS NULL)"
        " WHERE id IN (SELECT merged_id FROM linkage_merges WHERE unmerged_at IS NULL)"))
    op.execute(sa.text(
        "UPDATE households SET merged_into_id = ("
        " SELECT m.kept_household_id FROM linkage_household_merges m"
        " WHERE m.merged_household_id = households.id AND m.unmerged_at IS NULL)"
        " WHERE id IN (SELECT merged_household_id FROM linkage_household_merges"
        " WHERE unmerged_at IS NULL)"))


def downgrade() -> None:
    _drop_pointer('individuals')
    _drop_pointer('households')
