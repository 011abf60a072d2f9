"""text members and sms deliveries

Revision ID: 0004_sms
Revises: 0003
Create Date: 2026-11-30 05:24:03.503190

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_sms'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_sms_alert_alert_id_alert'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_alert')),
    sa.UniqueConstraint('alert_id', name=op.f('uq_sms_alert_alert_id'))
    )
    op.create_table('sms_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('number_hash', sa.String(length=64), nullable=True),
    sa.Column('number_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('style', sa.String(length=10), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wiped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enrolled_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("style IN ('neutral', 'detailed')", name=op.f('ck_sms_member_style')),
    sa.ForeignKeyConstraint(['enrolled_by_id'], ['staff.id'], name=op.f('fk_sms_member_enrolled_by_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_sms_member_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_member')),
    sa.UniqueConstraint('member_id', name=op.f('uq_sms_member_member_id')),
    sa.UniqueConstraint('number_hash', name=op.f('uq_sms_member_number_hash'))
    )
    op.create_table('sms_delivery',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=True),
    sa.Column('sms_member_id', sa.Integer(), nullable=True),
    sa.Column('text_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('to_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report', sa.String(length=20), nullable=True),
    sa.Column('report_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('alert', 'reply')", name=op.f('ck_sms_delivery_kind')),
    sa.CheckConstraint("status IN ('queued', 'sent', 'gone', 'failed')", name=op.f('ck_sms_delivery_status')),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_sms_delivery_alert_id_alert'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sms_member_id'], ['sms_member.id'], name=op.f('fk_sms_delivery_sms_member_id_sms_member'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_delivery')),
    sa.UniqueConstraint('alert_id', 'sms_member_id', name=op.f('uq_sms_delivery_alert_id'))
    )
    with op.batch_alter_table('sms_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_delivery_sms_member_id'), ['sms_member_id'], unique=False)
        batch_op.create_index('ix_sms_delivery_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('sms_member_area',
    sa.Column('sms_member_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_sms_member_area_area_id_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sms_member_id'], ['sms_member.id'], name=op.f('fk_sms_member_area_sms_member_id_sms_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sms_member_id', 'area_id', name=op.f('pk_sms_member_area'))
    )
    with op.batch_alter_table('sms_member_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_member_area_area_id'), ['area_id'], unique=False)



def downgrade():
    with op.batch_alter_table('sms_member_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_member_area_area_id'))

    op.drop_table('sms_member_area')
    with op.batch_alter_table('sms_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_delivery_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_sms_delivery_sms_member_id'))

    op.drop_table('sms_delivery')
    op.drop_table('sms_member')
    op.drop_table('sms_alert')
