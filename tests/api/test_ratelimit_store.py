"""The rate limits and the login throttle when their shared store (Redis) hangs: a report, a
sync, a number check and a staff login each answer within a bounded time, counted in the
process's memory, and counting goes back to the store when it answers again.

Real sockets, no mocks: the store is the real Redis at 127.0.0.1:6379 reached through a TCP
relay (tests/redisrelay.py) that the test stops (connections refused), silences (a Redis that
accepts and never answers) or makes unreachable (a host that drops packets). Without bounded
waits on the Redis client, the silent and unreachable stores hold every limited request
forever (gunicorn's worker timeout kills it); each request here runs in a thread joined with
a timeout, so such a hang fails the test instead of hanging the suite."""
import logging
import secrets
import threading
import time
import uuid

import pytest
import redis

from server.accounts import service as accounts
from server.accounts.models import Member
from server.extensions import client_key, db
from server.security import hash_token
from server.sms import service as sms

from factories import PASSWORD, new_report
from redisrelay import REDIS

# Generous: one request against a hung store waits at most the connect and read timeouts
# (0.25 s each by default). Without them it waits forever.
BOUND = 5
PREFIX = f"test-ratelimit-store-{uuid.uuid4().hex[:12]}"
LOGIN = "/api/v1/staff/login"


@pytest.fixture
def app_config(relay):
    return {"PASSWORD_HASH_FAST": True,
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{relay.port}/0",
            "RATELIMIT_KEY_PREFIX": PREFIX,
            # Flask-Limiter keeps the key prefix of the first app of the process: a secret of
            # this test's own makes its counters of the client address its own.
            "SECRET_KEY": f"test-ratelimit-store-{uuid.uuid4().hex}",
            "CHECK_RATE_LIMIT": "100 per minute",
            "LOGIN_RATE_LIMIT": "100 per minute",
            # The fourth wrong password in a minute is refused: shows where it is counted.
            "LOGIN_ACCOUNT_ADDRESS_LIMIT": "3 per minute"}


class Store:
    """The real Redis, read directly: this test's counters in it."""

    def __init__(self, markers):
        self.redis = redis.Redis(*REDIS, decode_responses=True)
        self.markers = markers

    def keys(self):
        return [key for key in self.redis.scan_iter(match="*LIMIT*")
                if any(marker in key for marker in self.markers)]

    def counts(self):
        """{key: entries in its moving window}"""
        return {key: self.redis.llen(key) for key in self.keys()}

    def counted(self, part):
        return sum(n for key, n in self.counts().items() if part in key)

    def close(self):
        for key in self.keys():
            self.redis.delete(key)
        self.redis.close()


def answered(relay, send):
    """send()'s response, which must come within BOUND seconds. A request still waiting
    then is freed (the relay cuts its connections) so the database is left clean, and the
    test fails."""
    result = {}

    def run():
        try:
            result["response"] = send()
        except BaseException as error:  # re-raised in the test's thread
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(BOUND)
    if thread.is_alive():
        relay.stop()
        thread.join(120)
        pytest.fail(f"no answer within {BOUND} s from a store that hangs")
    if "error" in result:
        raise result["error"]
    assert time.monotonic() - started < BOUND
    return result["response"]


def until_counted_in_store(store, part, send, timeout=45):
    """send() until the store's counters named `part` grow: Flask-Limiter asks a store it
    found dead again after 1, 2, 4 ... 32 s, the login throttle after RATELIMIT_STORAGE_RETRY."""
    deadline = time.monotonic() + timeout
    while True:
        before = store.counted(part)
        send()
        if store.counted(part) > before:
            return
        assert time.monotonic() < deadline, f"not counted in the store again: {part}"
        time.sleep(0.2)


class Device:
    """What the test sends, as a phone and a staff member do."""

    def __init__(self, client, member_headers, username):
        self.client, self.member_headers, self.username = client, member_headers, username

    def report(self):
        return self.client.post("/api/v1/reports", json=new_report())

    def sync(self):
        return self.client.post("/api/v1/sync", json={"reports": [new_report()]})

    def check(self):
        return self.client.post("/api/v1/checks", json={"kind": "phone", "value": "07700900123"},
                                headers=self.member_headers)

    def login(self, password=PASSWORD):
        return self.client.post(LOGIN, json={"username": self.username, "password": password})


@pytest.fixture
def device(app, client, areas):
    username = f"lee{uuid.uuid4().hex[:8]}"  # its own counters, whatever a test before left
    accounts.create_staff(username, PASSWORD, "outreach")
    # An id of its own: the check's counter is keyed by it, and Flask-Limiter's key prefix
    # is the same for every test (another engine's run of this test in parallel too).
    token = f"member-token-{uuid.uuid4().hex}"
    member = Member(id=secrets.randbelow(2**30) + 2**20, token_hash=hash_token(token))
    db.session.add(member)
    db.session.commit()
    device = Device(client, {"Authorization": f"Bearer {token}"}, username)
    device.member_id = member.id
    return device


@pytest.fixture
def store(app, device):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        address = client_key()
    store = Store([PREFIX, f"/{address}/", f"/member-{device.member_id}/"])
    for key in store.keys():  # a run of this test before, if it left any
        store.redis.delete(key)
    yield store
    store.close()


def remaining(response):
    return int(response.headers["X-RateLimit-Remaining"])


@pytest.mark.parametrize("outage", ["stop", "silence", "unreachable"])
def test_requests_answer_and_count_in_memory_while_the_store_hangs(device, relay, store,
                                                                   outage):
    relay.start()
    # Counted in the store (a test before may have left Flask-Limiter counting in memory
    # for a while).
    until_counted_in_store(store, "anon-report-requests", device.report)
    until_counted_in_store(store, "member-", device.check)
    assert device.login("wrong password here").status_code == 401
    assert store.counted("login")

    getattr(relay, outage)()
    before = store.counts()
    first = answered(relay, device.report)
    assert first.status_code == 201
    second = answered(relay, device.report)
    assert second.status_code == 201
    assert remaining(second) == remaining(first) - 1  # counted (in memory)
    synced = answered(relay, device.sync)
    assert synced.status_code == 200 and synced.get_json()["results"][0]["result"] == "created"
    first, second = answered(relay, device.check), answered(relay, device.check)
    assert first.status_code == second.status_code == 200
    assert remaining(second) == remaining(first) - 1
    # The store counted one wrong password of this pair; memory counts from none: three
    # more pass, the fourth is refused.
    for _ in range(3):
        assert answered(relay, lambda: device.login("wrong password here")).status_code == 401
    assert answered(relay, lambda: device.login("wrong password here")).status_code == 429
    # The refusal came from memory...
    assert store.counts() == before

    relay.start()
    # ...and counting goes back to the store when it answers again.
    until_counted_in_store(store, "anon-report-requests", device.report)
    until_counted_in_store(store, "member-", device.check)
    until_counted_in_store(store, "login-address", lambda: device.login("wrong password here"))


def test_the_throttle_asks_a_store_that_hangs_again_only_after_the_retry(app, device, relay,
                                                                         store, caplog):
    relay.start()
    assert device.login().status_code == 200
    assert store.counted("login-address")

    relay.silence()
    asked = relay.swallowed
    with caplog.at_level(logging.WARNING, logger="server.ratelimits"):
        for _ in range(5):  # each asks the throttle's counters 3 times
            assert answered(relay, device.login).status_code == 200
    # Once by the throttle (then memory until RATELIMIT_STORAGE_RETRY, 5 s); Flask-Limiter,
    # if a test before left it counting in memory, may ping the store once or twice. Asked
    # on every call, it would be 15 times, each waiting out the timeout.
    assert relay.swallowed - asked <= 3
    messages = [r.getMessage() for r in caplog.records if r.name == "server.ratelimits"]
    assert len(messages) == 1 and messages[0].startswith("rate-limit storage unreachable ("
                                                         "TimeoutError")


@pytest.mark.parametrize("outage", ["stop", "silence"])
def test_a_text_in_is_answered_while_the_store_hangs(app, relay, outage):
    """The limits on text messages count with the same fallback: a text in is answered
    (no error for the gateway to resend) and its limit still holds, counted in memory."""
    app.config["SMS_REPLY_TO_UNKNOWN"] = True  # an unknown number: one reply a day
    sender = f"07700 9{secrets.randbelow(10**5):05d}"
    relay.start()
    getattr(relay, outage)()

    def text_in():
        with app.app_context():
            return sms.receive(sender, "HELP")
    assert answered(relay, text_in)
    assert answered(relay, text_in) is None


@pytest.mark.parametrize("uri, options", [
    ("memory://", {}),
    ("redis://127.0.0.1:6379/0", {"socket_connect_timeout": 0.4, "socket_timeout": 1.5}),
])
def test_the_timeouts_reach_the_redis_client_only(database_url, uri, options):
    from server import create_app
    from server.extensions import limiter
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_STORAGE_URI": uri,
                      "RATELIMIT_STORAGE_CONNECT_TIMEOUT": 0.4, "RATELIMIT_STORAGE_TIMEOUT": 1.5})
    assert app.config["RATELIMIT_STORAGE_OPTIONS"] == options
    if options:
        settings = limiter.storage.storage.connection_pool.connection_kwargs
        assert (settings["socket_connect_timeout"], settings["socket_timeout"]) == (0.4, 1.5)
