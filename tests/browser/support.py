"""What the browser tests share that is not a fixture: paths, Chromium's settings, the
server under test, waiting, and the recorder of every request a page makes.
(Fixtures are in conftest.py; what a person does in the app is in pages.py.)"""
import os
import shutil
import sqlite3
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flaskcli import flask_commands  # the instance's setup commands, in one process
from pushservice import free_port  # one chooser of ports for every test
from waiting import wait_until  # noqa: F401 (the browser tests take it from here)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Needed to run Debian's Chromium headless as root in a container (see BRIEF.md).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 360, "height": 740}
TIMEOUT_MS = 10_000
# How long a server may take to answer its first request: seconds when idle, but
# `make test` runs 4 workers on 2 cores, which can each be starting one at once.
SERVER_START_SECONDS = 90


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Server:
    url: str
    database: Path
    webroot: Path
    log: Path
    env: dict = None  # the server's environment, to run `flask` commands on its database

    def reports(self, marker):
        """Rows of the report table whose description contains `marker`."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=15) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT id, description, member_id FROM report WHERE description LIKE ?",
                                (f"%{marker}%",)).fetchall()
        return [dict(row) for row in rows]

    def report_ids(self, marker):
        return sorted(str(uuid.UUID(row["id"])) for row in self.reports(marker))

    def write_web_file(self, relative, data):
        """Replace the served file `relative` (under the web root) with `data` (str or
        bytes), as a deploy does, and wait until the server has built the new shell.

        The first request after a change rebuilds the shell (bundling, hashing and
        compressing what changed: seconds under the suite's load), which would otherwise
        fall inside a page's timed navigation.
        """
        path = self.webroot / relative
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        with urllib.request.urlopen(f"{self.url}/", timeout=SERVER_START_SECONDS) as answer:
            answer.read()

    def set_status(self, marker, status):
        """Move the reports whose description contains `marker` to `status`, as a
        moderator's decision does."""
        with sqlite3.connect(self.database, timeout=15) as conn:
            conn.execute("UPDATE report SET status = ? WHERE description LIKE ?", (status, f"%{marker}%"))


class Watcher:
    """Records every request and every uncaught page error of the contexts it watches."""

    def __init__(self, app_url, neutral_url):
        self.app = origin(app_url)
        self.neutral = origin(neutral_url)
        self.requests = []
        self.errors = []

    def watch(self, context):
        context.on("request", self._request)
        context.on("page", self._page)
        for page in context.pages:
            self._page(page)
        return context

    def _page(self, page):
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: self.errors.append(message.text)
                if "Content Security Policy" in message.text else None)

    def _request(self, request):
        try:
            page_url = request.frame.url
        except Exception:  # a service worker's request has no frame
            page_url = ""
        self.requests.append((request.url, request.is_navigation_request(), page_url))

    def foreign_requests(self):
        found = []
        for url, navigation, page_url in self.requests:
            if url.startswith(("data:", "blob:", "about:")) or origin(url) == self.app:
                continue
            # Quick exit's navigation to the neutral site, and that site's own requests.
            if origin(url) == self.neutral and (navigation or origin(page_url) == self.neutral):
                continue
            found.append(url)
        return found


def prepare_instance(base, secret_key, **extra_env):
    """A test server's instance under `base`: a copy of the app to serve (so a test may change
    it), a free port, and the environment, migrated with VAPID keys and demo accounts only
    (tests make their own reports and alerts). Returns (webroot, port, env)."""
    webroot = base / "webroot"
    shutil.copytree(ROOT / "web", webroot / "web")
    for name in ("service-worker.js", "manifest.json"):
        shutil.copy(ROOT / name, webroot / name)
    port = free_port()
    env = dict(os.environ, REDFLAG_INSTANCE=str(base / "instance"), FLASK_APP="server",
               SECRET_KEY=secret_key, REDFLAG_WEB_ROOT=str(webroot), HOST="127.0.0.1",
               PORT=str(port), WEB_CONCURRENCY="1", **extra_env)
    for name in ("DATABASE_URL", "REDFLAG_ENV", "WEB_ROOT"):
        env.pop(name, None)
    done = flask_commands(env, ["db", "upgrade"], ["push", "keys"], ["demo", "load", "--no-content"])
    assert done.returncode == 0, f"preparing the test server failed:\n{done.stdout}\n{done.stderr}"
    return webroot, port, env
