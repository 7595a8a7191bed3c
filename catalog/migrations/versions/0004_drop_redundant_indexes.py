"""drop indexes that a unique constraint's own index already covers

Each of these columns leads a unique constraint, whose index serves every lookup and foreign-key
check on it; the separate index only slowed down inserts (a field, a dataset, a suggestion and a
lineage pair each updated two indexes for one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:30:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, index, column) of each index that the table's unique constraint covers.
REDUNDANT_INDEXES = (
    ("dataset", "ix_dataset_system_id", "system_id"),  # unique (system_id, name)
    ("data_field", "ix_data_field_dataset_id", "dataset_id"),  # unique (dataset_id, name)
    ("category_suggestion", "ix_category_suggestion_field_id", "field_id"),  # unique (field_id, category)
    ("field_lineage", "ix_field_lineage_source_field_id", "source_field_id"),  # uq_field_lineage_pair
)


def upgrade() -> None:
    for table, index, _column in REDUNDANT_INDEXES:
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    for table, index, column in REDUNDANT_INDEXES:
        op.create_index(index, table, [column])
