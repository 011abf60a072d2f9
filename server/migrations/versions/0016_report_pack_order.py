"""The police pack's order, indexed: (occurred_on, received_at, id), then consent_police.

A pack is a window of incident days read oldest incident first. Without an index on
occurred_on both engines read every report and sorted the window before the first row
left (at 1M reports: SQLite 4.2 s to the first row, PostgreSQL a parallel scan and an
external sort); its audit (a count and an INSERT ... SELECT of the window's ids) read every
report too. With it the window is one range of this index in the pack's own order, and
consent_police (the shareable filter) is checked in the index: the audit's count and
INSERT ... SELECT read the index alone.

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_report_pack_order', 'report',
                    ['occurred_on', 'received_at', 'id', 'consent_police'], unique=False)


def downgrade():
    op.drop_index('ix_report_pack_order', table_name='report')
