"""privacy notice declaration and last-seen runs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:12:00
"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Top-level tables that remember the last run of their source that reported each entry.
SEEN_TABLES = ("flow", "location", "organisation", "party", "processing_activity", "system")


def upgrade() -> None:
    for table in SEEN_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('last_seen_run_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(f'fk_{table}_last_seen_run', 'ingest_run', ['last_seen_run_id'], ['id'])
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('privacy_notice', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('privacy_notice')
    for table in SEEN_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_last_seen_run', type_='foreignkey')
            batch_op.drop_column('last_seen_run_id')
