"""Fixtures for the API tests: logged-in staff. Test data: tests/factories.py."""
import pytest

from factories import StaffClient


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
