"""linkage runs count the pairs clustering kept apart

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:00:00.000000

A registry run proposes only pairs whose two records end in one cluster; the pairs at or above
the threshold that clustering kept apart (a chain of relatives, people a reviewer told apart)
are counted on the run. Runs made before this revision count 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('linkage_runs') as batch:
        batch.add_column(sa.Column('kept_apart', sa.Integer(), nullable=False,
                                   server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('linkage_runs') as batch:
        batch.drop_column('kept_apart')
