"""Login throttling when its shared store (Redis) stops answering and comes back: the
logins go on (counted in the process's memory meanwhile), and the log says so once each
way, not once per login.

The store is the real Redis at 127.0.0.1:6379, reached through a TCP relay on a port of
this test's own: with the relay stopped nothing listens on that port (a real unreachable
port: connections are refused), started again it forwards to the Redis."""
import logging
import uuid

import pytest
import redis

from server.accounts import service as accounts

from factories import PASSWORD
from redisrelay import REDIS

LOGGER = "server.ratelimits"


PREFIX = f"test-login-store-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def app_config(relay):
    return {"PASSWORD_HASH_FAST": True,
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{relay.port}/0",
            "RATELIMIT_KEY_PREFIX": PREFIX,
            # Ask the store on every attempt, down or not (test_ratelimit_store.py tests the
            # retry): so the first login after the relay is back finds it.
            "RATELIMIT_STORAGE_RETRY": 0,
            # Room for every attempt below: this test is about the log, not the limits.
            "LOGIN_RATE_LIMIT": "1000 per minute", "LOGIN_ACCOUNT_ADDRESS_LIMIT": "1000 per minute"}


@pytest.fixture
def store():
    client = redis.Redis(*REDIS)
    yield client
    for key in client.scan_iter(match=f"*{PREFIX}*"):
        client.delete(key)
    client.close()


def store_messages(caplog):
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_the_fallback_is_logged_once_each_way(app, client, relay, store, caplog):
    accounts.create_staff("lee", PASSWORD, "outreach")

    def login(password):
        return client.post("/api/v1/staff/login", json={"username": "lee", "password": password})

    relay.start()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert login("wrong password here").status_code == 401
        # Counted in Redis itself.
        assert any(store.scan_iter(match=f"*{PREFIX}*"))
        caplog.clear()  # a test before may have left this process counting in memory

        relay.stop()
        # A route Flask-Limiter limits finds the store dead too, and turns Flask-Limiter to
        # its own memory: the throttle's counting must not take that for the store's answer.
        assert client.post("/api/v1/members/redeem", json={"code": "nothing"}).status_code != 500
        for _ in range(4):
            assert login("wrong password here").status_code == 401
        assert login(PASSWORD).status_code == 200
        messages = store_messages(caplog)
        assert len(messages) == 1, messages
        assert messages[0].startswith("rate-limit storage unreachable")
        caplog.clear()

        relay.start()
        for _ in range(4):
            assert login("wrong password here").status_code == 401
        assert login(PASSWORD).status_code == 200
        assert store_messages(caplog) == ["rate-limit storage answers again; counting in it"]
        caplog.clear()

        # Down a second time: logged again, once.
        relay.stop()
        for _ in range(3):
            assert login("wrong password here").status_code == 401
        messages = store_messages(caplog)
        assert len(messages) == 1 and messages[0].startswith("rate-limit storage unreachable")
