"""PostgreSQL counts a report INSERT once per statement: the statistics' change rows and
the incident-type side table are written from the statement's transition table, not by a
PL/pgSQL call per row (see server/stats/models.py trigger_ddl). A sync batch's COPY of 100
reports runs two statements instead of 200 calls. UPDATE and DELETE keep their row
triggers. SQLite, which has only row triggers, is unchanged.

Revision ID: 0017
Revises: 0016
"""
from importlib import import_module

from alembic import op

from server.reports.models import drop_incident_type_trigger_ddl, incident_type_trigger_ddl
from server.stats.models import drop_trigger_ddl, trigger_ddl

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# The vocabularies the statistics' triggers count, as 0011 froze them.
SUMMARY = import_module('server.migrations.versions.0011_report_count_summary')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for statement in (drop_trigger_ddl('postgresql') + drop_incident_type_trigger_ddl('postgresql')
                      + trigger_ddl('postgresql', SUMMARY.INCIDENT_TYPES, SUMMARY.TARGETED_BECAUSE,
                                    SUMMARY.ONLINE_HARM)
                      + incident_type_trigger_ddl('postgresql')):
        op.execute(statement)


def downgrade():
    # The row triggers of 0011 and 0015 counted exactly what these count; keeping these
    # on a downgrade loses nothing, and those functions' old text is not kept anywhere.
    pass
