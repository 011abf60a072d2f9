"""alert.changed_at (the members' feed sends alerts changed since a device's last sync,
not only those published since) and alert.shown_identifiers (identifiers as members see
them, masked once when set rather than on every feed request); an index on
alert.retracted_at (each `since` sync asks for the alerts retracted after a moment).

changed_at of an existing alert is its published_at. shown_identifiers stays empty: the
feed masks such an alert as it reads it (alerts.service.member_identifiers).

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shown_identifiers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_alert_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_retracted_at'), ['retracted_at'], unique=False)
    op.execute("UPDATE alert SET changed_at = published_at WHERE published_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_retracted_at'))
        batch_op.drop_index(batch_op.f('ix_alert_changed_at'))
        batch_op.drop_column('changed_at')
        batch_op.drop_column('shown_identifiers')
