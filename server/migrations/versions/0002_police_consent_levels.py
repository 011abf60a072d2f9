"""Police consent levels as the UK scheme practises them; perpetrator kind; hate-crime
perception; the police handling note.

Stored consent moves to the nearest new level that widens nothing:
offender_only -> anonymous_intelligence (the new pack carries less than the old one: no
exact date, no description); with_contact -> full_report (the same: the report and the
reporter's contact details). Downgrading maps back the same way, and
contact_via_project (which has no old equivalent) becomes offender_only, which carries no
contact details either.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

UP = {"offender_only": "anonymous_intelligence", "with_contact": "full_report"}
DOWN = {"anonymous_intelligence": "offender_only", "contact_via_project": "offender_only",
        "full_report": "with_contact"}


def _remap(mapping):
    report = sa.table("report", sa.column("consent_police", sa.String))
    for old, new in mapping.items():
        op.execute(report.update().where(report.c.consent_police == old)
                   .values(consent_police=new))


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.alter_column('consent_police', existing_type=sa.String(length=20),
                              type_=sa.String(length=30), existing_nullable=False)
        batch_op.add_column(sa.Column('perpetrator', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('targeted_because', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('police_handling', sa.String(length=30), nullable=True))
    _remap(UP)


def downgrade():
    _remap(DOWN)
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('police_handling')
        batch_op.drop_column('targeted_because')
        batch_op.drop_column('perpetrator')
        batch_op.alter_column('consent_police', existing_type=sa.String(length=30),
                              type_=sa.String(length=20), existing_nullable=False)
