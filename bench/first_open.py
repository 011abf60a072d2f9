"""First open on a slow phone: the report form usable, cold and offline, and the bytes
moved, against a tiny page in the same run and under the same emulation.

Debian's Chromium driven over the DevTools protocol (bench/cdp.py: no test driver's own
scripts in the page, see its docstring), the browser tests' launch arguments, the app
under gunicorn on a fresh SQLite database with the demo areas. Each round opens a new
browser context (empty cache, no service worker) and emulates a slow phone: 400 ms
round-trip latency, 400 kbit/s down and up (Network.emulateNetworkConditions) and the CPU
slowed 4x (Emulation.setCPUThrottlingRate), a 360 x 740 viewport, en-GB.

- cold: from navigation start to the report form being usable (the app marked ready, the
  area list filled, the description field there), and the bytes moved until then (the
  encoded sizes of every response, headers included); and the bytes of the whole first
  visit, the service worker's caching of the shell included (its resource timing);
- offline: once the service worker controls the page and has cached the shell, a new tab
  of the same context opens the page with the network emulated offline, to usable;
- baseline: a tiny page (one paragraph, no script) from another local server: its first
  contentful paint, cold, under the same emulation.

    .venv/bin/python bench/first_open.py [--rounds 3] [--tree PATH ...]

--tree may be given several times (other checkouts, e.g. main for a before/after): each
is served by its own gunicorn, and the rounds alternate between them, so the machine's
load (2 shared cores) falls on every tree alike. The load average is printed with the
figures.
"""
import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cdp import Chromium
from harness import ROOT, database, gunicorn, make_app, migrate_and_seed_areas

# tests/ too: tests.browser.support imports the tests' own pushservice as pytest does.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, PHONE

SLOW = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8,
        "uploadThroughput": 400_000 / 8}
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
LOCALE = "en-GB"
# Recorded by the page itself (performance.now(): ms since navigation start), so the
# measuring costs nothing on the throttled CPU until the moment it records.
USABLE = """
new MutationObserver((_, observer) => {
  const ready = document.documentElement.hasAttribute('data-ready');
  const area = document.querySelector("select[name='area'] option[value='hackney']");
  const text = document.querySelector('textarea');
  if (ready && area && text && !window.__usable) {
    window.__usable = performance.now();
    observer.disconnect();
  }
}).observe(document, { subtree: true, childList: true, attributes: true });
"""
TINY = b"<!doctype html><html><head><title>tiny</title></head><body><p>Hello.</p></body></html>"
FIRST_PAINT = """new Promise((done) => {
  const found = () => performance.getEntriesByName('first-contentful-paint')[0];
  if (found()) return done(found().startTime);
  new PerformanceObserver(() => found() && done(found().startTime))
    .observe({ type: 'paint', buffered: true });
})"""
OFFLINE_AND_CONTROLLED = "!navigator.onLine && navigator.serviceWorker.controller !== null"
WORKER_BYTES = "performance.getEntriesByType('resource').reduce((n, e) => n + e.transferSize, 0)"


def tiny_site():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(TINY)))
            self.end_headers()
            self.wfile.write(TINY)

        def log_message(self, *args):
            pass
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_port}/"


async def slow_page(browser, context, network=SLOW, usable=True):
    """A tab of `context` as a slow phone: the CPU slowed 4x, the network as `network`;
    with `usable`, the script that records when the form is usable. Returns (page, a
    dict whose "bytes" counts the encoded bytes of every response)."""
    page = await browser.new_page(context, **PHONE)
    moved = {"bytes": 0}
    page.on("Network.loadingFinished",
            lambda event: moved.__setitem__("bytes", moved["bytes"] + event["encodedDataLength"]))
    await page.send("Page.enable")
    if usable:
        await page.send("Page.addScriptToEvaluateOnNewDocument", {"source": USABLE})
    await page.send("Emulation.setLocaleOverride", {"locale": LOCALE})
    await page.send("Network.enable")
    await page.send("Network.emulateNetworkConditions", network)
    await page.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    return page, moved


async def one_round(browser, base, tiny):
    context = await browser.new_context()
    try:
        page, moved = await slow_page(browser, context)
        await page.send("Page.navigate", {"url": base + "/report"})
        cold = await page.wait_for("window.__usable")
        cold_bytes = moved["bytes"]
        await page.wait_for("navigator.serviceWorker.controller !== null")
        await asyncio.sleep(3)  # let the worker finish caching the shell
        # The worker's own fetches (the shell it caches) are not the page's: its resource
        # timing has them (transferSize: body as sent and the headers).
        worker_bytes = 0
        for target in await browser.targets("service_worker", context):
            worker = await browser.attach(target)
            worker_bytes += await worker.evaluate(WORKER_BYTES)
            # Offline for the worker too (its fetch() falls back to the network), as for
            # the page below.
            await worker.send("Network.enable")
            await worker.send("Network.emulateNetworkConditions", OFFLINE)
        total_bytes = moved["bytes"] + worker_bytes
        await page.close()
        page, _ = await slow_page(browser, context, OFFLINE)
        await page.send("Page.navigate", {"url": base + "/report"})
        offline = await page.wait_for("window.__usable")
        if not await page.evaluate(OFFLINE_AND_CONTROLLED):
            raise RuntimeError("the offline open was not offline, or not answered by the worker")
    finally:
        await browser.close_context(context)
    context = await browser.new_context()
    try:
        page, _ = await slow_page(browser, context, usable=False)
        await page.send("Page.navigate", {"url": tiny})
        await page.wait_for("document.readyState === 'complete'")
        paint = await page.evaluate(FIRST_PAINT, await_promise=True)
    finally:
        await browser.close_context(context)
    return cold, cold_bytes, total_bytes, offline, paint


async def rounds(bases, count, tiny, loads):
    rows = {tree: [] for tree in bases}
    async with Chromium(CHROMIUM, [*CHROMIUM_ARGS, f"--lang={LOCALE}"]) as browser:
        for _ in range(count):
            for tree, base in bases.items():
                rows[tree].append(await one_round(browser, base, tiny))
                loads.append(os.getloadavg()[0])
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", action="append", help="a checkout to serve (default: this one)")
    args = parser.parse_args()
    trees = args.tree or [str(ROOT)]
    tiny = tiny_site()
    loads = [os.getloadavg()[0]]
    with database("sqlite") as url, contextlib.ExitStack() as servers:
        migrate_and_seed_areas(make_app(url))
        bases = {tree: servers.enter_context(gunicorn(url, tree=tree, env={"WEB_CONCURRENCY": "1"}))
                 for tree in trees}
        rows = asyncio.run(rounds(bases, args.rounds, tiny, loads))
    print(f"\nfirst open, {args.rounds} rounds per tree, alternating, medians; 400 ms RTT, 400 kbit/s,"
          f" CPU 4x; load average {min(loads):.1f} to {max(loads):.1f} ({os.cpu_count()} cores)")
    for tree in trees:
        medians = (statistics.median(c) for c in zip(*rows[tree], strict=True))
        cold, cold_bytes, total_bytes, offline, paint = medians
        print(f"{tree}")
        print(f"  tiny page first paint (baseline)  {paint / 1000:6.2f} s")
        print(f"  report form usable, cold          {cold / 1000:6.2f} s   x{cold / paint:.1f}"
              f"   {cold_bytes / 1000:.0f} KB moved until usable")
        print(f"  first visit, the worker's shell cache included   {total_bytes / 1000:.0f} KB moved in all")
        print(f"  report form usable, offline       {offline / 1000:6.2f} s   x{offline / paint:.1f}")
        print("  rounds (cold / offline s): " + "  ".join(
            f"{row[0] / 1000:.2f}/{row[3] / 1000:.2f}" for row in rows[tree]))


if __name__ == "__main__":
    main()
