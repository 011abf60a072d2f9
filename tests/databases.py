"""Databases for tests: a fresh PostgreSQL database of the test run's own."""
import os
import uuid

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://@127.0.0.1:5432/test")


def postgres_database():
    name = f"redflag_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    return admin, name, url.render_as_string(hide_password=False)
