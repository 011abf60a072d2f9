"""Two small browser drivers with one interface, enough for the smoke tests:

- Firefox (Debian `firefox-esr`) through its built-in WebDriver BiDi on
  `--remote-debugging-port` (geckodriver is not packaged in Debian): JSON commands
  over one websocket.
- WebKitGTK (Debian `webkit2gtk-driver`) through `WebKitWebDriver`, classic WebDriver
  over HTTP, driving MiniBrowser under Xvfb.

Both offer: goto(path), evaluate(function_source, arg) -> JSON value, wait(function_source),
new_tab() (close the app and open it again), window_size(width, height), version, and
console_errors(). Page scripts are async arrow functions taking one JSON argument; the
result comes back through JSON.stringify, so both protocols return the same plain values.
"""
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import requests
from websockets.sync.client import connect

from browser.support import free_port, wait_until

FIREFOX = os.environ.get("FIREFOX", "/usr/bin/firefox-esr")
WEBKIT_DRIVER = os.environ.get("WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver")
XVFB = os.environ.get("XVFB", "/usr/bin/Xvfb")
TIMEOUT = 15.0

# Collects what a page reports as an error from its first line on: uncaught errors,
# rejected promises nobody handled, console.error, and CSP violations. Kept in
# sessionStorage so that it survives a reload of the tab. Both engines run it (WebKit's
# classic WebDriver has no console log; Firefox also reports through BiDi's log events).
PROBE = """
(() => {
  const key = 'engine-test-errors';
  const note = (text) => {
    const list = JSON.parse(sessionStorage.getItem(key) || '[]');
    list.push(String(text));
    sessionStorage.setItem(key, JSON.stringify(list));
  };
  addEventListener('error', (e) => note(`error: ${e.message || e.type} ${e.filename || ''}:${e.lineno || ''}`));
  addEventListener('unhandledrejection', (e) => note(`unhandled rejection: ${e.reason && (e.reason.stack || e.reason)}`));
  addEventListener('securitypolicyviolation', (e) => note(`CSP: ${e.violatedDirective} ${e.blockedURI}`));
  const original = console.error.bind(console);
  console.error = (...args) => { note(`console.error: ${args.join(' ')}`); original(...args); };
})();
"""

READ_PROBE = "async () => JSON.parse(sessionStorage.getItem('engine-test-errors') || '[]')"


def expression(function_source, arg=None):
    """A JS expression that runs `function_source(arg)` and gives its result as JSON text."""
    return (f"(async () => JSON.stringify((await ({function_source})({json.dumps(arg)})) ?? null))()")


class Driver:
    name = "?"
    version = "?"

    def __init__(self, base_url, folder: Path):
        self.base_url = base_url
        self.probe_errors = []
        self.started = []  # processes, killed if the browser never comes up
        try:
            self.start(folder)
        except BaseException:
            for process in self.started:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            raise

    def start(self, folder: Path):
        raise NotImplementedError

    def url(self, path):
        return path if path.startswith("http") else self.base_url + path

    def wait(self, function_source, arg=None, timeout=TIMEOUT, message=None):
        """Poll the page until the function returns something truthy; returns it."""
        def check():
            try:
                return self.evaluate(function_source, arg)
            except PageScriptError:  # the page is between two documents
                return None
        return wait_until(check, timeout=timeout, interval=0.1, message=message or function_source)

    def collect_probe(self):
        try:
            self.probe_errors += self.evaluate(READ_PROBE) or []
            self.evaluate("async () => sessionStorage.removeItem('engine-test-errors')")
        except PageScriptError:
            pass


class PageScriptError(AssertionError):
    pass


# --- Firefox: WebDriver BiDi -----------------------------------------------------------------

class Firefox(Driver):
    name = "firefox"

    def start(self, profile: Path):
        profile.mkdir(parents=True, exist_ok=True)
        # Quiet first start; nothing fetched from Mozilla (the tests fail on foreign requests
        # of the app only, but a browser calling home slows a start with no network).
        (profile / "user.js").write_text("\n".join(f'user_pref("{k}", {json.dumps(v)});' for k, v in {
            "browser.shell.checkDefaultBrowser": False,
            "browser.startup.homepage_override.mstone": "ignore",
            "datareporting.policy.dataSubmissionEnabled": False,
            "toolkit.telemetry.reportingpolicy.firstRun": False,
            "app.update.disabledForTesting": True,
            "browser.safebrowsing.update.enabled": False,
            "network.captive-portal-service.enabled": False,
            "network.connectivity-service.enabled": False,
            "extensions.update.enabled": False,
            "intl.accept_languages": "en-GB",
        }.items()) + "\n")
        port = free_port()
        self.log = open(profile.parent / "firefox.log", "wb")
        self.process = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--profile", str(profile),
             f"--remote-debugging-port={port}", "--remote-allow-hosts", "127.0.0.1", "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(self.process)
        self.ws = wait_until(lambda: self._connect(port), timeout=30, message="Firefox's BiDi socket")
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.lock = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        session = self.send("session.new", {"capabilities": {}})
        self.version = session["capabilities"]["browserVersion"]
        self.send("session.subscribe", {"events": ["log.entryAdded"]})
        self.send("script.addPreloadScript", {"functionDeclaration": f"() => {{{PROBE}}}"})
        self.context = self.send("browsingContext.getTree", {})["contexts"][0]["context"]

    def _connect(self, port):
        assert self.process.poll() is None, "Firefox exited"
        try:
            return connect(f"ws://127.0.0.1:{port}/session", max_size=None, open_timeout=5)
        except OSError:
            return None

    def _read(self):
        try:
            for text in self.ws:
                message = json.loads(text)
                with self.lock:
                    if "id" in message:
                        self.replies[message["id"]] = message
                    else:
                        self.events.append(message)
                    self.lock.notify_all()
        except Exception:
            pass

    def send(self, method, params, timeout=30):
        with self.lock:
            self.next_id += 1
            ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        with self.lock:
            while ident not in self.replies:
                left = deadline - time.monotonic()
                assert left > 0, f"no answer to {method}"
                self.lock.wait(left)
            reply = self.replies.pop(ident)
        if reply.get("type") == "error":
            raise PageScriptError(f"{method}: {reply.get('error')}: {reply.get('message')}")
        return reply["result"]

    def goto(self, path):
        self.collect_probe()
        self.send("browsingContext.navigate", {"context": self.context, "url": self.url(path),
                                                "wait": "complete"})

    def evaluate(self, function_source, arg=None):
        result = self.send("script.evaluate", {
            "expression": expression(function_source, arg), "target": {"context": self.context},
            "awaitPromise": True, "resultOwnership": "none"})
        if result["type"] == "exception":
            raise PageScriptError(result["exceptionDetails"].get("text"))
        return json.loads(result["result"]["value"])

    def new_tab(self):
        """Close the app's tab and open the app again in a new one."""
        self.collect_probe()
        fresh = self.send("browsingContext.create", {"type": "tab"})["context"]
        self.send("browsingContext.close", {"context": self.context})
        self.context = fresh

    def window_size(self, width, height):
        self.send("browsingContext.setViewport", {"context": self.context,
                                                   "viewport": {"width": width, "height": height}})

    def console_errors(self):
        self.collect_probe()
        with self.lock:
            logged = [f"{e['params'].get('type')}: {e['params'].get('text')}" for e in self.events
                      if e["method"] == "log.entryAdded" and e["params"].get("level") == "error"]
        return logged + self.probe_errors

    def quit(self):
        try:
            self.send("browser.close", {}, timeout=10)
        except Exception:
            pass
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


# --- WebKitGTK: classic WebDriver over HTTP --------------------------------------------------

def minibrowser():
    """Debian puts MiniBrowser under the multiarch library folder of webkit2gtk-4.x."""
    for found in sorted(Path("/usr/lib").glob("*/webkit2gtk-4.*/MiniBrowser"), reverse=True):
        return str(found)
    return os.environ.get("MINIBROWSER", "MiniBrowser")


class WebKit(Driver):
    name = "webkit"

    def start(self, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = open(workdir / "webkit.log", "wb")
        # Xvfb picks a free display itself and writes its number to the pipe (-displayfd):
        # other test runs on this machine start their own at the same time.
        read_end, write_end = os.pipe()
        self.xvfb = subprocess.Popen([XVFB, "-displayfd", str(write_end), "-screen", "0", "1280x1024x24",
                                      "-nolisten", "tcp"], pass_fds=(write_end,),
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(self.xvfb)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        assert number.isdigit(), "Xvfb did not start"
        self.display = f":{number}"
        port = free_port()
        env = dict(os.environ, DISPLAY=self.display, LANG="en_GB.UTF-8",
                   # No GPU here; the sandbox needs user namespaces a container may not give.
                   WEBKIT_DISABLE_COMPOSITING_MODE="1", WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS="1")
        self.driver = subprocess.Popen([WEBKIT_DRIVER, f"--port={port}"], env=env,
                                       stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(self.driver)
        self.endpoint = f"http://127.0.0.1:{port}"
        wait_until(self._ready, timeout=30, message="WebKitWebDriver")
        caps = {"capabilities": {"alwaysMatch": {"webkitgtk:browserOptions": {
            "binary": minibrowser(), "args": ["--automation"]}}}}
        session = requests.post(f"{self.endpoint}/session", json=caps, timeout=60).json()["value"]
        assert "sessionId" in session, session
        self.session = f"{self.endpoint}/session/{session['sessionId']}"
        self.version = session["capabilities"].get("browserVersion", "?")

    def _ready(self):
        assert self.driver.poll() is None, "WebKitWebDriver exited"
        try:
            return requests.get(f"{self.endpoint}/status", timeout=2).ok
        except requests.RequestException:
            return False

    def call(self, method, path, body=None, timeout=60):
        response = requests.request(method, self.session + path, json=body, timeout=timeout)
        value = response.json().get("value")
        if not response.ok:
            raise PageScriptError(f"{path}: {value}")
        return value

    def goto(self, path):
        self.collect_probe()
        self.call("POST", "/url", {"url": self.url(path)})
        self._probe()

    def _probe(self):
        # Classic WebDriver cannot run a script before the page's own: installed as soon
        # as the page has loaded, which is before the app's module scripts finish.
        self.call("POST", "/execute/sync", {"script": PROBE, "args": []})

    def evaluate(self, function_source, arg=None):
        return json.loads(self.call("POST", "/execute/sync", {
            "script": f"return {expression(function_source, arg)};", "args": []}))

    def new_tab(self):
        self.collect_probe()
        old = self.call("GET", "/window")
        fresh = self.call("POST", "/window/new", {"type": "tab"})["handle"]
        self.call("DELETE", "/window")
        assert fresh != old
        self.call("POST", "/window", {"handle": fresh})

    def window_size(self, width, height):
        self.call("POST", "/window/rect", {"width": width, "height": height})

    def console_errors(self):
        self.collect_probe()
        return list(self.probe_errors)

    def quit(self):
        try:
            requests.delete(self.session, timeout=20)
        except requests.RequestException:
            pass
        for process in (self.driver, self.xvfb):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.log.close()


def which(path):
    return Path(path).exists() or shutil.which(path)
