"""The staff queue paged by key: composite indexes in the queue's order (received_at, id;
newest first read backwards), whole and behind each indexed filter (status, area), so any
page is one range read of one index however deep it is. They replace the single-column
indexes on received_at, status and area_id, which are their prefixes.

On PostgreSQL, the incident types as jsonb in a GIN index: a filter on a type few reports
have finds them without reading the table, and the planner learns from the index's
statistics how common a type is (it guessed 0.005 % for the old LIKE on the JSON text,
so it read and sorted the whole table even for a type every fifth report has).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
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
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_report_incident_types', 'report',
                        [sa.text('(CAST(incident_types AS JSONB))')], postgresql_using='gin')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_report_incident_types', table_name='report')
    for name, columns in REPLACED:
        op.create_index(name, 'report', columns, unique=False)
    for name, _columns in QUEUE:
        op.drop_index(name, table_name='report')
