"""Statistics from a maintained summary: report_count (counts by day and by month of
the reports, by month of the tallies of purged reports; per area and perpetrator) and
report_count_change, which triggers on report and report_tally append to in the same
transaction as every change that moves a count (see server/stats/models.py). Backfilled
here from the same grouped counts as stats.service.recount().

The vocabularies are frozen as they are now: a later change to them comes with its own
migration (new count columns, new triggers).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

from server.stats.models import count_columns, count_values_sql, drop_trigger_ddl, trigger_ddl

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

INCIDENT_TYPES = (
    "physical_assault", "sexual_assault", "rape", "robbery", "theft", "refused_to_pay",
    "condom_removal", "threats", "harassment_or_stalking", "drugging", "posing_as_police",
    "outing_or_blackmail", "other", "outing", "blackmail", "image_based_abuse", "doxxing",
)
ONLINE_HARM = ("outing", "blackmail", "image_based_abuse", "doxxing", "outing_or_blackmail")
TARGETED_BECAUSE = ("sex_work", "race_or_ethnicity", "religion", "sexual_orientation",
                    "gender_identity", "disability", "other")
COLUMNS = count_columns(INCIDENT_TYPES, TARGETED_BECAUSE)


def _counts():
    return [sa.Column(name, sa.Integer, nullable=False, server_default='0') for name in COLUMNS]


def upgrade():
    op.create_table(
        'report_count',
        sa.Column('grain', sa.String(1), nullable=False),
        sa.Column('period', sa.Date, nullable=False),
        sa.Column('area_id', sa.Integer, nullable=False),
        sa.Column('perpetrator', sa.String(30), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint('grain', 'period', 'area_id', 'perpetrator',
                                name=op.f('pk_report_count')))
    op.create_table(
        'report_count_change',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer, 'sqlite'), nullable=False),
        sa.Column('grain', sa.String(1), nullable=False),
        sa.Column('period', sa.Date, nullable=False),
        sa.Column('area_id', sa.Integer, nullable=False),
        sa.Column('perpetrator', sa.String(30), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_count_change')))
    dialect = op.get_bind().dialect.name
    for statement in trigger_ddl(dialect, INCIDENT_TYPES, TARGETED_BECAUSE, ONLINE_HARM):
        op.execute(statement)
    columns = ', '.join(COLUMNS)
    for grain, table, period, where in (('d', 'report', 'occurred_on', 'linked_to_id IS NULL'),
                                        ('t', 'report_tally', 'month', '1 = 1')):
        values = count_values_sql(table, INCIDENT_TYPES, TARGETED_BECAUSE, ONLINE_HARM)
        op.execute(
            f"INSERT INTO report_count (grain, period, area_id, perpetrator, {columns}) "
            f"SELECT '{grain}', {period}, area_id, COALESCE(perpetrator, ''), "
            f"{', '.join(f'SUM({value})' for value in values)} FROM {table} WHERE {where} "
            f"GROUP BY {period}, area_id, COALESCE(perpetrator, '')")
    month = ("CAST(date_trunc('month', period) AS DATE)" if dialect == 'postgresql'
             else "date(period, 'start of month')")
    op.execute(
        f"INSERT INTO report_count (grain, period, area_id, perpetrator, {columns}) "
        f"SELECT 'm', {month}, area_id, perpetrator, "
        f"{', '.join(f'SUM({name})' for name in COLUMNS)} FROM report_count "
        f"WHERE grain = 'd' GROUP BY {month}, area_id, perpetrator")


def downgrade():
    for statement in drop_trigger_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('report_count_change')
    op.drop_table('report_count')
