"""Login throttling when its shared store (Redis) stops answering and comes back: the
logins go on (counted in the process's memory meanwhile), and the log says so once each
way, not once per login.

The store is the real Redis at 127.0.0.1:6379, reached through a TCP relay on a port of
this test's own: with the relay stopped nothing listens on that port (a real unreachable
port: connections are refused), started again it forwards to the Redis."""
import logging
import socket
import threading
import uuid

import pytest
import redis

from server.accounts import service as accounts

from factories import PASSWORD
from pushservice import free_port

REDIS = ("127.0.0.1", 6379)
LOGGER = "server.accounts.throttle"


class Relay:
    """Forwards every connection to its port to the real Redis; stop() closes the port and
    every connection through it, start() opens the port again."""

    def __init__(self, port):
        self.port = port
        self.listener = None
        self.connections = []
        self.lock = threading.Lock()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.1)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while self.listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(REDIS)
            with self.lock:
                self.connections += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        with self.lock:
            connections, self.connections = self.connections, []
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


@pytest.fixture
def relay():
    relay = Relay(free_port())
    yield relay
    relay.stop()


PREFIX = f"test-login-store-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def app_config(relay):
    return {"PASSWORD_HASH_FAST": True,
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{relay.port}/0",
            "RATELIMIT_KEY_PREFIX": PREFIX,
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
        assert store_messages(caplog) == ["rate-limit storage answers again; counting login "
                                          "attempts in it"]
        caplog.clear()

        # Down a second time: logged again, once.
        relay.stop()
        for _ in range(3):
            assert login("wrong password here").status_code == 401
        messages = store_messages(caplog)
        assert len(messages) == 1 and messages[0].startswith("rate-limit storage unreachable")
