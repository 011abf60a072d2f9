"""report.linked_to_id indexed only where it is set: nearly every report links to
nothing, so SQLite's ANALYZE saw one key (NULL) holding every row, judged the index
useless and scanned the whole table for each batch of a police pack (~0.1 s a batch at
100k reports). Indexing only the links gives the planner true figures on both engines.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

LINKED = sa.text('linked_to_id IS NOT NULL')


def upgrade():
    op.drop_index('ix_report_linked_to_id', table_name='report')
    op.create_index('ix_report_linked_to_id', 'report', ['linked_to_id'], unique=False,
                    sqlite_where=LINKED, postgresql_where=LINKED)


def downgrade():
    op.drop_index('ix_report_linked_to_id', table_name='report')
    op.create_index('ix_report_linked_to_id', 'report', ['linked_to_id'], unique=False)
