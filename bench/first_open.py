"""First open on a slow phone: the report form usable, cold and offline, and the bytes
moved, against a tiny page in the same run and under the same emulation.

Debian's Chromium (Playwright, /usr/bin/chromium, the browser tests' launch arguments),
the app under gunicorn on a fresh SQLite database with the demo areas. Each round opens
a new browser context (empty cache, no service worker) and emulates a slow phone through
the DevTools protocol: 400 ms round-trip latency, 400 kbit/s down and up
(Network.emulateNetworkConditions) and the CPU slowed 4x (Emulation.setCPUThrottlingRate).

- cold: from navigation start to the report form being usable (the app marked ready, the
  area list filled, the description field there), and the bytes moved until then (the
  encoded sizes of every response, headers included); and the bytes of the whole first
  visit, the service worker's caching of the shell included (its resource timing);
- offline: after the service worker took control, the same page reloaded with the
  network cut (context.set_offline), to usable;
- baseline: a tiny page (one paragraph, no script) from another local server: its first
  contentful paint, cold, under the same emulation.

    .venv/bin/python bench/first_open.py [--rounds 3] [--tree PATH ...]

--tree may be given several times (other checkouts, e.g. main for a before/after): each
is served by its own gunicorn, and the rounds alternate between them, so the machine's
load (2 shared cores) falls on every tree alike. The load average is printed with the
figures.
"""
import argparse
import contextlib
import os
import statistics
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import ROOT, database, gunicorn, make_app, migrate_and_seed_areas
from playwright.sync_api import sync_playwright

# tests/ too: tests.browser.support imports the tests' own pushservice as pytest does.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, PHONE

SLOW = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8,
        "uploadThroughput": 400_000 / 8}
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


def slow_page(context):
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    moved = {"bytes": 0}
    cdp.on("Network.loadingFinished",
           lambda event: moved.__setitem__("bytes", moved["bytes"] + event["encodedDataLength"]))
    return page, moved


def wait_usable(page):
    page.wait_for_function("() => window.__usable", timeout=120_000, polling=200)
    return page.evaluate("() => window.__usable")


def one_round(browser, base, tiny):
    context = browser.new_context(viewport=PHONE, locale="en-GB", base_url=base)
    context.add_init_script(USABLE)
    try:
        page, moved = slow_page(context)
        page.goto("/report", wait_until="commit", timeout=120_000)
        cold = wait_usable(page)
        cold_bytes = moved["bytes"]
        page.wait_for_function("() => navigator.serviceWorker.controller !== null ||"
                               " navigator.serviceWorker.ready.then(() => true)",
                               timeout=120_000)
        page.evaluate("() => navigator.serviceWorker.ready")
        page.wait_for_timeout(3000)  # let the worker finish caching the shell
        # The worker's own fetches (the shell it caches) are not the page's: its resource
        # timing has them (transferSize: body as sent and the headers).
        worker_bytes = sum(worker.evaluate(
            "() => performance.getEntriesByType('resource').reduce((n, e) => n + e.transferSize, 0)")
            for worker in context.service_workers)
        total_bytes = moved["bytes"] + worker_bytes
        page.close()
        context.set_offline(True)
        page, _ = slow_page(context)
        page.goto("/report", wait_until="commit", timeout=120_000)
        offline = wait_usable(page)
    finally:
        context.close()
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    try:
        page, _ = slow_page(context)
        page.goto(tiny, wait_until="load", timeout=120_000)
        paint = page.evaluate("""() => new Promise((done) => {
          const found = () => performance.getEntriesByName('first-contentful-paint')[0];
          if (found()) return done(found().startTime);
          new PerformanceObserver(() => found() && done(found().startTime))
            .observe({ type: 'paint', buffered: true });
        })""")
    finally:
        context.close()
    return cold, cold_bytes, total_bytes, offline, paint


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", action="append", help="a checkout to serve (default: this one)")
    args = parser.parse_args()
    trees = args.tree or [str(ROOT)]
    tiny = tiny_site()
    rows = {tree: [] for tree in trees}
    loads = [os.getloadavg()[0]]
    with database("sqlite") as url, sync_playwright() as playwright, contextlib.ExitStack() as servers:
        migrate_and_seed_areas(make_app(url))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        bases = {tree: servers.enter_context(gunicorn(url, tree=tree, env={"WEB_CONCURRENCY": "1"}))
                 for tree in trees}
        for _ in range(args.rounds):
            for tree in trees:
                rows[tree].append(one_round(browser, bases[tree], tiny))
                loads.append(os.getloadavg()[0])
        browser.close()
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
