"""alert.number: a small per-deployment number for each published alert, unique, given at
publication. The app keys alerts by it (the compact feed, its offline store, the push
payload, the `retracted` list, the URL of an alert): a random UUID costs about 16 bytes
an alert after any compression, a number in order almost nothing. It is also the
number texts name ("READ 12"), which sms_alert held: an alert that had one keeps it, so
a text already sent still reads the same alert, and sms_alert goes. Other published
alerts are numbered after them in publication order.

Revision ID: 0013
Revises: 0012
"""
import uuid

from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Not batch_alter_table: on SQLite it copies the table and drops the old one, and with
    # foreign keys on that drop deletes every row referring to an alert (its areas,
    # deliveries, texts). A column and a unique index need no copy on either engine.
    op.add_column('alert', sa.Column('number', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_alert_number'), 'alert', ['number'], unique=True)
    conn = op.get_bind()
    conn.execute(sa.text(
        "UPDATE alert SET number = (SELECT sms_alert.id FROM sms_alert "
        "WHERE sms_alert.alert_id = alert.id)"))
    last = conn.execute(sa.text("SELECT MAX(number) FROM alert")).scalar() or 0
    alert = sa.table('alert', sa.column('id', sa.Uuid), sa.column('number', sa.Integer))
    unnumbered = conn.execute(sa.text(
        "SELECT id FROM alert WHERE number IS NULL AND published_at IS NOT NULL "
        "ORDER BY published_at, id")).scalars().all()
    if unnumbered:
        conn.execute(alert.update().where(alert.c.id == sa.bindparam('alert_id'))
                     .values(number=sa.bindparam('n')),
                     # SQLite reads ids back as 32 hex digits, PostgreSQL as UUIDs.
                     [{"alert_id": uuid.UUID(str(alert_id)), "n": last + n}
                      for n, alert_id in enumerate(unnumbered, 1)])
    op.drop_table('sms_alert')


def downgrade():
    op.create_table('sms_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_sms_alert_alert_id_alert'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_alert')),
    sa.UniqueConstraint('alert_id', name=op.f('uq_sms_alert_alert_id'))
    )
    op.execute("INSERT INTO sms_alert (id, alert_id) SELECT number, id FROM alert "
               "WHERE number IS NOT NULL")
    op.drop_index(op.f('ix_alert_number'), table_name='alert')
    op.execute("ALTER TABLE alert DROP COLUMN number")  # SQLite 3.35+ too, with no copy
