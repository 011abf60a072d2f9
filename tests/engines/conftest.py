"""Smoke tests in the two other browser engines a worker may carry: Firefox (Gecko) and
WebKitGTK (the engine family of Safari on iPhones), against a real gunicorn server that a
test can stop and start again on the same port ("the server is down").

Like tests/browser, a missing browser fails the run (`make browser` installs them); these
tests run once, on SQLite, and do not use the `app` fixture.
"""
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from server import create_app
from server.extensions import db

from .drivers import FIREFOX, WEBKIT_DRIVER, XVFB, Firefox, WebKit, minibrowser
from browser.support import BIN, ROOT, SERVER_START_SECONDS, prepare_instance, wait_until


@dataclass
class StoppableServer:
    """gunicorn serving a copy of the app on a fixed free port, with its own SQLite file."""
    url: str
    port: int
    database: Path
    env: dict
    log: Path
    process: subprocess.Popen = None

    def start(self):
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [BIN / "gunicorn", "-c", "gunicorn.conf.py", "server:create_app()"],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)

        def healthy():
            assert self.process.poll() is None, self.log.read_text()
            try:
                return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                return False
        wait_until(healthy, timeout=SERVER_START_SECONDS, message="the server to start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{self.url}/healthz", timeout=5)

    def report_ids(self, marker):
        import sqlite3
        import uuid
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=15) as conn:
            rows = conn.execute("SELECT id FROM report WHERE description LIKE ?", (f"%{marker}%",)).fetchall()
        return sorted(str(uuid.UUID(row[0])) for row in rows)


@pytest.fixture(scope="session")
def engine_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("engines-server")
    _, port, env = prepare_instance(base, "engine-test-secret-key-0123456789abcdef")
    server = StoppableServer(url=f"http://127.0.0.1:{port}", port=port,
                             database=base / "instance" / "redflag.db", env=env, log=base / "server.log")
    server.start()
    yield server
    if server.process and server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=30)


@pytest.fixture
def up(engine_server):
    """The server is running at the start of each test, whatever the last one did."""
    if engine_server.process.poll() is not None:
        engine_server.start()
    yield engine_server
    if engine_server.process.poll() is not None:
        engine_server.start()


@pytest.fixture(scope="session")
def engine_app(engine_server):
    """The server's Flask app on its SQLite file, to make members and alerts."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{engine_server.database}",
                      "SECRET_KEY": engine_server.env["SECRET_KEY"]})
    yield app
    with app.app_context():
        db.engine.dispose()


def _require(*paths):
    for path in paths:
        if not Path(path).exists():
            pytest.fail(f"no {path}: `make browser` installs Firefox ESR, WebKitGTK's driver and Xvfb")


@pytest.fixture(params=["firefox", "webkit"])
def engine(request, engine_server, tmp_path):
    """A fresh browser of each engine (a new profile), closed after the test."""
    if request.param == "firefox":
        _require(FIREFOX)
        driver = Firefox(engine_server.url, tmp_path / "profile")
    else:
        _require(WEBKIT_DRIVER, XVFB, minibrowser())
        driver = WebKit(engine_server.url, tmp_path / "webkit")
    yield driver
    driver.quit()
