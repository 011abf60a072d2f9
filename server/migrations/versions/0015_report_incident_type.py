"""The queue's filter by incident type from a side table: report_incident_type holds
(report id, incident type, received_at) for each type of each report, indexed in the
queue's order behind each type, kept exact by triggers on report (see
server/reports/models.py) and backfilled here. SQLite had no index for the filter and read
the whole queue for a type few or no reports have (3.8 s at 1M reports); PostgreSQL's GIN
index on the types as jsonb (0012), which the filter no longer uses, is dropped.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

from server.reports.models import drop_incident_type_trigger_ddl, incident_type_trigger_ddl

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def backfill_sql(dialect):
    """The INSERT that fills report_incident_type from every report (0018 uses it too)."""
    if dialect == 'postgresql':
        return ("INSERT INTO report_incident_type (incident_type, received_at, report_id) "
                "SELECT DISTINCT kind, report.received_at, report.id FROM report, "
                "json_array_elements_text(CASE WHEN json_typeof(report.incident_types) = 'array' "
                "THEN report.incident_types ELSE '[]'::json END) AS kind")
    return ("INSERT INTO report_incident_type (incident_type, received_at, report_id) "
            "SELECT DISTINCT item.value, report.received_at, report.id "
            "FROM report, json_each(report.incident_types) AS item WHERE item.type = 'text'")


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        'report_incident_type',
        sa.Column('report_id', sa.Uuid, nullable=False),
        sa.Column('incident_type', sa.String(30), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('report_id', 'incident_type',
                                name=op.f('pk_report_incident_type')))
    op.execute(backfill_sql(dialect))
    op.create_index('ix_report_incident_type_queue', 'report_incident_type',
                    ['incident_type', 'received_at', 'report_id'], unique=False)
    for statement in incident_type_trigger_ddl(dialect):
        op.execute(statement)
    if dialect == 'postgresql':
        op.drop_index('ix_report_incident_types', table_name='report')


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.create_index('ix_report_incident_types', 'report',
                        [sa.text('(CAST(incident_types AS JSONB))')], postgresql_using='gin')
    for statement in drop_incident_type_trigger_ddl(dialect):
        op.execute(statement)
    op.drop_index('ix_report_incident_type_queue', table_name='report_incident_type')
    op.drop_table('report_incident_type')
