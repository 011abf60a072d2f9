"""report_incident_type keyed in the queue's order alone: (incident_type, received_at,
report_id), on SQLite WITHOUT ROWID, instead of a key (report_id, incident_type) and an
index in that order. A new report's rows now append to the end of each type's range in
one tree, where the old key put each one at a random place of a second tree (and SQLite
kept a third, the rowid table): once the table outgrew a sync batch, a page more written
to the WAL per report. The triggers find a report's rows from its own values (see
server/reports/models.py). Rebuilt and backfilled from report, as 0015 filled it.

Revision ID: 0018
Revises: 0017
"""
from importlib import import_module

import sqlalchemy as sa
from alembic import op

from server.reports.models import drop_incident_type_trigger_ddl, incident_type_trigger_ddl

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# The migration that made the side table: its backfill fills the rebuilt one.
SIDE_TABLE = import_module('server.migrations.versions.0015_report_incident_type')


def _columns():
    return [sa.Column('incident_type', sa.String(30), nullable=False),
            sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('report_id', sa.Uuid, nullable=False)]


def _rebuild(create):
    dialect = op.get_bind().dialect.name
    for statement in drop_incident_type_trigger_ddl(dialect):
        op.execute(statement)
    op.drop_table('report_incident_type')
    create()
    op.execute(SIDE_TABLE.backfill_sql(dialect))
    for statement in incident_type_trigger_ddl(dialect):
        op.execute(statement)


def upgrade():
    _rebuild(lambda: op.create_table(
        'report_incident_type', *_columns(),
        sa.PrimaryKeyConstraint('incident_type', 'received_at', 'report_id',
                                name=op.f('pk_report_incident_type')),
        sqlite_with_rowid=False))


def downgrade():
    def create():
        op.create_table('report_incident_type', *_columns(),
                        sa.PrimaryKeyConstraint('report_id', 'incident_type',
                                                name=op.f('pk_report_incident_type')))
        op.create_index('ix_report_incident_type_queue', 'report_incident_type',
                        ['incident_type', 'received_at', 'report_id'], unique=False)
    _rebuild(create)
