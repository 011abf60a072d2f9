"""The staff queue paged by key: composite indexes in the queue's order (received_at, id;
newest first read backwards), whole and behind each indexed filter (status, area), so any
page is one range read of one index however deep it is. They replace the single-column
indexes on received_at, status and area_id, which are their prefixes.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

REPLACED = (('ix_report_received_at', ['received_at']), ('ix_report_status', ['status']),
            ('ix_report_area_id', ['area_id']))
QUEUE = (('ix_report_queue_order', ['received_at', 'id']),
         ('ix_report_queue_status', ['status', 'received_at', 'id']),
         ('ix_report_queue_area', ['area_id', 'received_at', 'id']))


def upgrade():
    for name, columns in QUEUE:
        op.create_index(name, 'report', columns, unique=False)
    for name, _columns in REPLACED:
        op.drop_index(name, table_name='report')


def downgrade():
    for name, columns in REPLACED:
        op.create_index(name, 'report', columns, unique=False)
    for name, _columns in QUEUE:
        op.drop_index(name, table_name='report')
