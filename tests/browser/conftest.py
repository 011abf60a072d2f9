"""Browser tests: Debian's headless Chromium, driven by Playwright, against a real server
process (gunicorn, as `make run` starts it) on 127.0.0.1 with its own SQLite database.

The server serves a copy of the app (REDFLAG_WEB_ROOT), so a test can publish a new
version of the service worker while it runs. Quick exit goes to a stand-in "neutral site"
on another local port (QUICK_EXIT_URL). Every request of every browser context is
recorded: a request to any other origin fails the test that made it.

These tests do not use the `app` fixture, so they run once, on SQLite.
"""
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Needed to run Debian's Chromium headless as root in a container (see BRIEF.md).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 360, "height": 740}
TIMEOUT_MS = 10_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def wait_until(check, timeout=10.0, interval=0.05, message="condition", page=None):
    """Poll `check` until it returns something truthy; fail after `timeout` seconds.
    Pass `page` when `check` reads what Playwright event handlers record: they run only
    while Playwright is waiting, so the pause between polls is spent in the page."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        if page is not None:
            page.wait_for_timeout(interval * 1000)
        else:
            time.sleep(interval)


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


@pytest.fixture(scope="session")
def neutral_site():
    """The stand-in for the neutral site quick exit goes to: another origin, on this machine."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>Weather</title><h1>Weather today</h1>"
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


@pytest.fixture(scope="session")
def server(tmp_path_factory, neutral_site):
    base = tmp_path_factory.mktemp("browser-server")
    webroot = base / "webroot"
    shutil.copytree(ROOT / "web", webroot / "web")
    for name in ("service-worker.js", "manifest.json"):
        shutil.copy(ROOT / name, webroot / name)
    port = free_port()
    env = dict(os.environ, REDFLAG_INSTANCE=str(base / "instance"), FLASK_APP="server",
               SECRET_KEY="browser-test-secret-key-0123456789abcdef",
               REDFLAG_WEB_ROOT=str(webroot), QUICK_EXIT_URL=neutral_site,
               HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="2",
               PUSH_ALLOW_LOCAL_ENDPOINTS="1")  # the local push service (test_push.py)
    for name in ("DATABASE_URL", "REDFLAG_ENV", "WEB_ROOT"):
        env.pop(name, None)
    # The tests make their own reports and alerts: demo accounts only.
    for command in (["db", "upgrade"], ["push", "keys"], ["demo", "load", "--no-content"]):
        subprocess.run([BIN / "flask", *command], env=env, cwd=ROOT, check=True, capture_output=True)
    log = base / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([BIN / "gunicorn", "-c", "gunicorn.conf.py", "server:create_app()"],
                                   env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy():
        assert process.poll() is None, log.read_text()
        try:
            return requests.get(f"{url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(healthy, timeout=30, message="the server to start")
        yield Server(url=url, database=base / "instance" / "redflag.db", webroot=webroot, log=log,
                     env=env)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def playwright_driver():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make browser` installs it")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                headless=True)
    yield browser
    browser.close()


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


@pytest.fixture
def watcher(server, neutral_site):
    watcher = Watcher(server.url, neutral_site)
    yield watcher
    assert watcher.foreign_requests() == [], "the app asked another origin"
    assert watcher.errors == [], "uncaught errors or CSP violations in the page"


def _context_options(server, **options):
    return {"base_url": server.url, "viewport": PHONE, "locale": "en-GB",
            "service_workers": "allow", **options}


@pytest.fixture
def new_context(browser, server, watcher):
    """Make fresh browser contexts (a fresh profile each); closed after the test."""
    made = []

    def make(**options):
        context = watcher.watch(browser.new_context(**_context_options(server, **options)))
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def persistent_browser(playwright_driver, server, watcher, tmp_path):
    """Start Chromium on a profile folder that outlives it: call again to restart.

    no_network=True starts it with every request sent to a proxy that is not there: no
    network for the pages and for the service worker alike. (Playwright's offline mode
    does not reach a service worker that the browser starts by itself at launch, to fire
    a pending `sync`.)"""
    profile = tmp_path / "profile"
    running = []

    def launch(no_network=False, **options):
        args = list(CHROMIUM_ARGS)
        if no_network:
            args += [f"--proxy-server=http://127.0.0.1:{free_port()}", "--proxy-bypass-list=<-loopback>"]
        context = playwright_driver.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=args, headless=True,
            **_context_options(server, **options))
        context.set_default_timeout(TIMEOUT_MS)
        running.append(context)
        return watcher.watch(context)

    yield launch
    for context in running:
        try:
            context.close()
        except Exception:
            pass
