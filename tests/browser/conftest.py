"""Browser tests: Debian's headless Chromium, driven by Playwright, against a real server
process (gunicorn, as `make run` starts it) on 127.0.0.1 with its own SQLite database.

The server serves a copy of the app (REDFLAG_WEB_ROOT), so a test can publish a new
version of the service worker while it runs. Quick exit goes to a stand-in "neutral site"
on another local port (QUICK_EXIT_URL). Every request of every browser context is
recorded: a request to any other origin fails the test that made it.

These tests do not use the `app` fixture, so they run once, on SQLite.
"""
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from server import create_app
from server.extensions import db

from .support import (
    BIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    ROOT,
    SERVER_START_SECONDS,
    TIMEOUT_MS,
    Server,
    Watcher,
    free_port,
    prepare_instance,
    wait_until,
)
from pushservice import refusing_port


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
    webroot, port, env = prepare_instance(
        base, "browser-test-secret-key-0123456789abcdef", QUICK_EXIT_URL=neutral_site,
        PUSH_ALLOW_LOCAL_ENDPOINTS="1")  # the local push service (test_push.py)
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
        wait_until(healthy, timeout=SERVER_START_SECONDS, message="the server to start")
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
    with refusing_port() as no_proxy:  # held until every launch is closed

        def launch(no_network=False, **options):
            args = list(CHROMIUM_ARGS)
            if no_network:
                args += [f"--proxy-server=http://127.0.0.1:{no_proxy}",
                         "--proxy-bypass-list=<-loopback>"]
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


@pytest.fixture(scope="session")
def server_app(server):
    """The server's Flask app on the browser test server's SQLite database, to make and read
    members, alerts and subscriptions with the server's own service functions (members.py)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{server.database}",
                      "SECRET_KEY": server.env["SECRET_KEY"]})
    yield app
    with app.app_context():
        db.engine.dispose()
