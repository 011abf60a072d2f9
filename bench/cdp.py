"""Chromium driven over the DevTools protocol directly, for a benchmark that must measure
the page and nothing else in it.

A test driver attached to a page adds work to it. Playwright, for one, creates a
JavaScript world of its own in every new document and evaluates its injected script
there (and in the page, for `wait_for_function`); on a renderer slowed 4x that work is
measured with the page's: the offline first open measured ~0.6-0.7 s through Playwright
and ~0.35-0.4 s through this client, the same tree in the same hour (docs/benchmarks.md,
round 7). Here the only domains enabled are those a measurement asks for (Page, for the
script that records when the form is usable; Emulation; Network where the network is
emulated or its bytes counted), and the page is asked for its figure by a plain
`Runtime.evaluate` a few times a second.

Protocol reference: https://chromedevtools.github.io/devtools-protocol/ (Target,
Page, Runtime, Network, Emulation domains).

    async with Chromium(CHROMIUM, args) as browser:
        context = await browser.new_context()
        page = await browser.new_page(context)
        await page.send("Page.navigate", {"url": url})
        value = await page.wait_for("window.__usable")
"""
import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time

import aiohttp

# As Playwright launches Chromium: a headless window is never treated as hidden, so its
# renderer keeps its priority and timers (a phone's app in front is not backgrounded).
FOREGROUND_ARGS = ["--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
                   "--disable-renderer-backgrounding"]


class ProtocolError(RuntimeError):
    """The browser answered a command with an error."""


class Chromium:
    """A Chromium process with a fresh profile, and one WebSocket to it (flattened
    sessions: every target's commands and events on the same connection)."""

    def __init__(self, executable, args=()):
        self.executable, self.args = executable, list(args)
        self._ids = itertools.count(1)
        self._waiting = {}  # command id -> future
        self._listeners = {}  # (session id, method) -> [callback(params)]

    async def __aenter__(self):
        self._profile = tempfile.mkdtemp(prefix="redflag-bench-")
        self._process = subprocess.Popen(
            [self.executable, "--headless", "--remote-debugging-port=0",
             f"--user-data-dir={self._profile}", *FOREGROUND_ARGS, *self.args, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Chromium prints "DevTools listening on ws://…" once its port is open.
        address = await asyncio.to_thread(self._address)
        self._http = aiohttp.ClientSession()
        self._socket = await self._http.ws_connect(address, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        return self

    def _address(self):
        for line in self._process.stderr:
            if line.startswith("DevTools listening on "):
                return line.split(" on ", 1)[1].strip()
        raise RuntimeError(f"{self.executable} exited before its DevTools port opened")

    async def __aexit__(self, *exc):
        self._reader.cancel()
        with contextlib.suppress(Exception):
            await self._socket.close()
        await self._http.close()
        self._process.kill()
        self._process.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

    async def _read(self):
        async for message in self._socket:
            data = json.loads(message.data)
            if "id" in data:
                future = self._waiting.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            for callback in self._listeners.get((data.get("sessionId"), data.get("method")), ()):
                callback(data.get("params", {}))

    async def send(self, method, params=None, session=None):
        """One command; its result (a dict). Raises ProtocolError if the browser refuses."""
        number = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        message = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self._socket.send_str(json.dumps(message))
        answer = await future
        if "error" in answer:
            raise ProtocolError(f"{method}: {answer['error']}")
        return answer["result"]

    def on(self, session, method, callback):
        self._listeners.setdefault((session, method), []).append(callback)

    async def new_context(self):
        """A new browser context (its own storage, cache and service workers): its id."""
        return (await self.send("Target.createBrowserContext"))["browserContextId"]

    async def close_context(self, context):
        await self.send("Target.disposeBrowserContext", {"browserContextId": context})

    async def new_page(self, context, width=360, height=740):
        """A blank tab in `context`, attached, with a viewport of width x height CSS px."""
        target = (await self.send("Target.createTarget",
                                  {"url": "about:blank", "browserContextId": context}))["targetId"]
        page = await self.attach(target)
        await page.send("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        return page

    async def attach(self, target):
        session = (await self.send("Target.attachToTarget",
                                   {"targetId": target, "flatten": True}))["sessionId"]
        return Page(self, target, session)

    async def targets(self, kind, context):
        """The ids of the targets of one type ("page", "service_worker") in `context`."""
        found = (await self.send("Target.getTargets"))["targetInfos"]
        return [t["targetId"] for t in found
                if t["type"] == kind and t.get("browserContextId") == context]


class Page:
    """One attached target (a page, or a service worker): commands and events of its session."""

    def __init__(self, browser, target, session):
        self.browser, self.target, self.session = browser, target, session

    async def send(self, method, params=None):
        return await self.browser.send(method, params, self.session)

    def on(self, method, callback):
        self.browser.on(self.session, method, callback)

    async def evaluate(self, expression, await_promise=False):
        """The JSON value of `expression` in the target's main world."""
        result = await self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                      "awaitPromise": await_promise})
        if "exceptionDetails" in result:
            raise ProtocolError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    async def wait_for(self, expression, timeout=120, every=0.2):
        """The first truthy value of `expression`, asked `every` seconds (a page's script
        records its own time, so the asking only has to come after it)."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(ProtocolError):  # a document between two navigations
                value = await self.evaluate(expression)
                if value:
                    return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression} still false after {timeout} s")
            await asyncio.sleep(every)

    async def close(self):
        await self.browser.send("Target.closeTarget", {"targetId": self.target})
