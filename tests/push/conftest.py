"""Push test fixtures: the real local push service (npm web-push-testing), a scriptable
local push endpoint, VAPID keys, members, device keys and alerts."""
import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.clock import utcnow
from server.extensions import db
from server.push import service
from server.push.sender import Sender
from server.push.vapid import create_key

import factories
from pushservice import WebPushTesting, free_port, running_push_service  # noqa: F401  (tests/pushservice.py)

ROOT = Path(__file__).resolve().parents[2]


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- The real local push service ----------------------------------------------------------

@pytest.fixture(scope="session")
def push_service(tmp_path_factory):
    with running_push_service(tmp_path_factory.mktemp("web-push-testing")) as service:
        yield service


# --- A scriptable local push endpoint -------------------------------------------------------

class LocalPushEndpoint:
    """A small push endpoint in a thread. It records every request; a message counts as
    accepted only once it has been answered 2xx (as with a real push service).

    script[path]: answers to give, in turn, as (status, headers) before the default 201.
    hold_after(n): accept n messages, then hold further requests unanswered until
    release(drop=...) answers them (or, with drop, closes them unanswered).
    gate(n): hold every request until n are waiting at once, then answer them all."""

    def __init__(self):
        self.requests = []          # (path, headers, body) of every request
        self.accepted = []          # paths answered 2xx
        self.script = {}
        self.delay = 0.0
        self._lock = threading.Lock()
        self._held = threading.Event()
        self._hold_after = None
        self._drop = False
        self._gate = None
        self._waiting = 0
        self._most_waiting = 0
        self._gate_open = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if endpoint._wait_turn(self.path, dict(self.headers), body) == "drop":
                    self.close_connection = True
                    return
                status, headers = endpoint._answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name):
        return f"{self.base}/push/{name}"

    def hold_after(self, n):
        self._hold_after = n

    def release(self, drop=False):
        self._drop = drop
        self._hold_after = None
        self._held.set()

    def gate(self, n):
        self._gate = n

    @property
    def most_waiting(self):
        return self._most_waiting

    def _wait_turn(self, path, headers, body):
        with self._lock:
            self.requests.append((path, headers, body))
            hold = self._hold_after is not None and len(self.accepted) >= self._hold_after
            if self._gate is not None and not self._gate_open.is_set():
                self._waiting += 1
                self._most_waiting = max(self._most_waiting, self._waiting)
                if self._waiting >= self._gate:
                    self._gate_open.set()
        if self._gate is not None:
            self._gate_open.wait(20)
        if hold:
            self._held.wait(60)
            if self._drop:
                return "drop"
        if self.delay:
            time.sleep(self.delay)
        return "answer"

    def _answer(self, path):
        with self._lock:
            answers = self.script.get(path)
            status, headers = answers.pop(0) if answers else (201, {})
            if 200 <= status < 300:
                self.accepted.append(path)
            return status, headers

    def close(self):
        self.release(drop=True)
        self._gate_open.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    endpoint = LocalPushEndpoint()
    yield endpoint
    endpoint.close()


class Device:
    """A browser's side of a subscription: its keys, so a test can decrypt."""

    def __init__(self, endpoint_url):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.subscription = {"endpoint": endpoint_url,
                             "keys": {"p256dh": b64(public), "auth": b64(self.auth)}}

    def decrypt(self, body):
        return json.loads(http_ece.decrypt(body, private_key=self.private_key,
                                           auth_secret=self.auth, version="aes128gcm"))


# --- App, members, alerts ------------------------------------------------------------------

@pytest.fixture
def app_config(database_url, tmp_path):
    # Tests give one member many devices; test_api checks the limit itself.
    return {"VAPID_PRIVATE_KEY_FILE": str(tmp_path / "vapid_private.pem"),
            "PUSH_MAX_SUBSCRIPTIONS_PER_MEMBER": 1000}


@pytest.fixture
def vapid_key(app):
    create_key(app.config["VAPID_PRIVATE_KEY_FILE"])
    return app.config["VAPID_PRIVATE_KEY_FILE"]


@pytest.fixture
def public_key(client, vapid_key):
    return client.get("/api/v1/push/key").get_json()["public_key"]


def make_member(token="member-token", revoked=False):
    return factories.make_member(token, revoked)[0]


@pytest.fixture
def member(app):
    return make_member("member-token")


@pytest.fixture
def auth():
    return {"Authorization": "Bearer member-token"}


def subscribe(member, device_or_subscription, areas):
    sub = getattr(device_or_subscription, "subscription", device_or_subscription)
    subscription, _ = service.save_subscription(
        member, sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"], areas)
    return subscription


def publish_alert(areas, severity="dangerous", expires_at=None, now=None):
    """-> (alert, deliveries queued)."""
    return factories.make_alert("Man posing as police", areas, summary="Took money at the door.",
                                severity=severity, incident_types=["posing_as_police"],
                                expires_at=expires_at, now=now)


def run_sender(app, clock=None, **overrides):
    """Send what is due (as `flask push worker --once`), then read fresh."""
    db.session.commit()
    sender = Sender(app, clock=clock or utcnow, **overrides)
    totals = outside_event_loop(sender.run_once)
    db.session.expire_all()
    return totals


def outside_event_loop(fn):
    """fn(), in a thread of its own when this thread runs an event loop (a test driving a
    browser: Playwright keeps one running), where the sender's asyncio.run() cannot."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    result, failure = [], []

    def run():
        try:
            result.append(fn())
        except BaseException as error:  # handed back to the calling thread
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def worker(app, *args, **settings):
    """`flask push worker` in its own process, on the test's database and key."""
    env = dict(os.environ, FLASK_APP="server",
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               VAPID_PRIVATE_KEY_FILE=app.config["VAPID_PRIVATE_KEY_FILE"],
               REDFLAG_INSTANCE=os.path.dirname(app.config["VAPID_PRIVATE_KEY_FILE"]),
               PUSH_ALLOW_LOCAL_ENDPOINTS="1",  # its own process is not TESTING
               **{name: str(value) for name, value in settings.items()})
    return subprocess.Popen([sys.executable, "-m", "flask", "push", "worker", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


class Clock:
    """A clock the test moves by hand (for backoff, Retry-After and leases)."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)
