"""Fixtures for the API tests: logged-in staff, a relay to the real Redis. Test data:
tests/factories.py."""
import pytest
import sqlalchemy as sa

from databases import postgres_database
from factories import StaffClient
from pushservice import free_port
from redisrelay import Relay


@pytest.fixture
def app_config():
    # Real argon2id with tiny parameters (honoured only under TESTING); test_accounts
    # checks the real parameters outside tests.
    return {"PASSWORD_HASH_FAST": True}


@pytest.fixture
def moderator(app):
    return StaffClient(app, "mod", "moderator")


@pytest.fixture
def outreach(app):
    return StaffClient(app, "van", "outreach")


@pytest.fixture
def empty_database(database_url, tmp_path):
    """A database of the same engine as `database_url`, with no tables yet."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin, name, url = postgres_database()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def relay():
    """A relay to the local Redis on a port of its own, which the test can stop, silence or
    make unreachable (tests/redisrelay.py); not started."""
    relay = Relay(free_port())
    yield relay
    relay.stop()
