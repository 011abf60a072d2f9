"""Staff TOTP secrets encrypted at rest, as reporter contact details are.

A Fernet token of a 32-character secret is 140 characters: the columns grow to 255,
then every stored secret (enrolled or pending) is encrypted with the app's key
(CONTACT_KEY, or the key derived from SECRET_KEY). Downgrading decrypts them back.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COLUMNS = ("totp_secret", "totp_pending_secret")
staff = sa.table("staff", sa.column("id", sa.Integer), *(sa.column(c, sa.String) for c in COLUMNS))


def _rewrite(change):
    bind = op.get_bind()
    for row in bind.execute(sa.select(staff)).mappings().all():
        values = {c: change(row[c]) for c in COLUMNS if row[c]}
        if values:
            bind.execute(staff.update().where(staff.c.id == row["id"]).values(**values))


def upgrade():
    from server.crypto import encrypt_text
    with op.batch_alter_table("staff") as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, type_=sa.String(length=255),
                                  existing_type=sa.String(length=64), existing_nullable=True)
    _rewrite(lambda secret: encrypt_text(secret, current_app.config))


def downgrade():
    from server.crypto import decrypt_text
    _rewrite(lambda token: decrypt_text(token, current_app.config))
    with op.batch_alter_table("staff") as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, type_=sa.String(length=64),
                                  existing_type=sa.String(length=255), existing_nullable=True)
