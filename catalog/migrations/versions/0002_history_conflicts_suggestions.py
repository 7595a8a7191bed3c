"""history conflicts suggestions dataset flows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:46:07.891092
"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('change_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('entry_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('entry_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_change_event_entry', ['entry_kind', 'entry_id'], unique=False)

    op.create_table('conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kept_source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kept_value', sa.JSON(), nullable=True),
    sa.Column('reported_source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('reported_value', sa.JSON(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.create_index('ix_conflict_entry', ['entity', 'entity_id'], unique=False)

    op.create_table('category_suggestion',
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('retired_run_id', sa.Integer(), nullable=True),
    sa.Column('retired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('field_id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('recogniser', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['field_id'], ['data_field.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['retired_run_id'], ['ingest_run.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('field_id', 'category')
    )
    with op.batch_alter_table('category_suggestion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_suggestion_field_id'), ['field_id'], unique=False)

    with op.batch_alter_table('field_lineage', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_field_lineage_pair', ['source_field_id', 'target_field_id'])

    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_dataset_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('target_dataset_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_flow_target_dataset', 'dataset', ['target_dataset_id'], ['id'])
        batch_op.create_foreign_key('fk_flow_source_dataset', 'dataset', ['source_dataset_id'], ['id'])

    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conflicts', sa.Integer(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        batch_op.drop_column('conflicts')

    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.drop_constraint('fk_flow_target_dataset', type_='foreignkey')
        batch_op.drop_constraint('fk_flow_source_dataset', type_='foreignkey')
        batch_op.drop_column('target_dataset_id')
        batch_op.drop_column('source_dataset_id')

    with op.batch_alter_table('field_lineage', schema=None) as batch_op:
        batch_op.drop_constraint('uq_field_lineage_pair', type_='unique')

    with op.batch_alter_table('category_suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_suggestion_field_id'))

    op.drop_table('category_suggestion')
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.drop_index('ix_conflict_entry')

    op.drop_table('conflict')
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.drop_index('ix_change_event_entry')
        batch_op.drop_index(batch_op.f('ix_change_event_at'))

    op.drop_table('change_event')
