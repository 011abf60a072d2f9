"""The app's size budget: what a phone downloads to install the app and use it offline.

The service worker's shell (server/web.py builds it from web/) is the app: every file under
web/ must be in it, and together they must stay small for prepaid data (sizes are gzipped,
as served over the wire by any reasonable proxy; the service worker itself is counted too).
"""
import gzip
import json
import subprocess
from pathlib import Path

from server.web import NETWORK_ONLY_MODULES, SCREENS, build_shell

ROOT = Path(__file__).resolve().parent.parent
# Files under web/ that the server uses but the phone app does not (staff printouts).
# Staff screens and the public dispute page: loaded from the network when used, never kept
# offline (the network-only screens of server/web.py SCREENS and the modules only they
# import; staff/staff.js, which drop-in mode needs offline, is in the shell).
NOT_THE_APP = {"print.css"} | NETWORK_ONLY_MODULES | {screen.module for screen in SCREENS if screen.network}
# Languages other than English are not in SHELL: the service worker keeps only the
# device's own (and English), so the budget counts the largest of them once.
LOCALES = ROOT / "web" / "locales"
BUDGET_ALL = 100 * 1024
BUDGET_JS = 50 * 1024


def file_for(url):
    if url == "/":
        return ROOT / "web" / "index.html"
    if url.startswith("/static/"):
        return ROOT / "web" / url[len("/static/"):]
    return ROOT / url.lstrip("/")


def gzipped(body):
    return len(gzip.compress(body, compresslevel=9))


def sizes():
    """Gzipped bytes of each file a phone keeps: the shell, the worker, and the largest
    catalogue of a language other than English (the device's own, which the worker adds)."""
    shell = build_shell(ROOT)
    found = {file_for(url).relative_to(ROOT).as_posix(): gzipped(body) for url, body in shell.files.items()}
    found["service-worker.js"] = gzipped(shell.worker)
    others = [path for path in LOCALES.glob("*.json") if path.stem != "en"]
    largest = max(others, key=lambda path: gzipped(path.read_bytes()))
    found[largest.relative_to(ROOT).as_posix()] = gzipped(largest.read_bytes())
    return found


def test_only_english_is_in_the_shell():
    shell = build_shell(ROOT)
    assert [url for url in shell.files if url.startswith("/static/locales/")] == ["/static/locales/en.json"]


def test_the_shell_is_every_file_of_the_app():
    listed = [file_for(url) for url in build_shell(ROOT).files]
    assert all(path.is_file() for path in listed), [str(p) for p in listed if not p.is_file()]
    on_disk = {p for p in (ROOT / "web").rglob("*")
               if p.is_file() and p.relative_to(ROOT / "web").as_posix() not in NOT_THE_APP
               and not (p.parent == LOCALES and p.stem != "en")}
    assert on_disk == set(listed) - {ROOT / "manifest.json"}, "the shell is not the app"
    assert len(listed) == len(set(listed))


def test_every_module_the_shell_imports_is_in_the_shell():
    """Offline, a static import of a file the worker did not keep breaks the whole app."""
    done = subprocess.run(["node", "--experimental-vm-modules", "--no-warnings",
                           ROOT / "tests" / "js" / "module-graph.js"],
                          capture_output=True, text=True, timeout=60, check=True)
    graph = json.loads(done.stdout)["modules"]
    shell = {file_for(url).relative_to(ROOT).as_posix() for url in build_shell(ROOT).files}
    kept = sorted(name for name in shell if name.endswith(".js")) + ["service-worker.js"]
    missing = {name: [dep for dep in graph[name] if dep not in shell] for name in kept}
    assert {name: deps for name, deps in missing.items() if deps} == {}


def test_the_app_is_within_its_size_budget():
    found = sizes()
    total = sum(found.values())
    javascript = sum(size for name, size in found.items() if name.endswith(".js"))
    report = "\n".join(f"{size:>7} {name}" for name, size in sorted(found.items(), key=lambda i: -i[1]))
    print(f"\n{report}\ngzipped: all {total} bytes (budget {BUDGET_ALL}), "
          f"JavaScript {javascript} bytes (budget {BUDGET_JS})")
    assert total <= BUDGET_ALL, report
    assert javascript <= BUDGET_JS, report


def test_the_first_screen_preloads_exactly_its_static_module_graph():
    """index.html names every module the app and the report form import statically (as
    Node's own linker finds them), so a phone fetches them in parallel; and nothing more."""
    import re
    done = subprocess.run(["node", "--experimental-vm-modules", "--no-warnings",
                           ROOT / "tests" / "js" / "module-graph.js"],
                          capture_output=True, text=True, timeout=60, check=True)
    graph = json.loads(done.stdout)["modules"]
    wanted, stack = set(), ["web/app.js", "web/screens/report.js"]
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(graph[name])
    shell = build_shell(ROOT)
    index = shell.index.decode()
    preloaded = {f"web/{href}" for href in
                 re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', index)}
    assert preloaded == wanted
    assert all(f"/static/{name[4:]}" in shell.files for name in preloaded)
    assert index.index('rel="modulepreload"') < index.index('<script type="module"')


def test_the_first_screen_waits_for_nothing_it_does_not_show():
    """On a slow phone each module of the first screen's static graph is one more request
    before the report form is usable (6 connections, 400 ms each): sending the outbox, the
    service worker, notifications, Settings and the feed are imported after it (app.js)."""
    done = subprocess.run(["node", "--experimental-vm-modules", "--no-warnings",
                           ROOT / "tests" / "js" / "module-graph.js"],
                          capture_output=True, text=True, timeout=60, check=True)
    graph = json.loads(done.stdout)["modules"]
    first, stack = set(), ["web/app.js", "web/screens/report.js"]
    while stack:
        name = stack.pop()
        if name not in first:
            first.add(name)
            stack.extend(graph[name])
    later = {"web/outbox.js", "web/outbox/sync.js", "web/outbox/scheduler.js", "web/outbox/status.js",
             "web/update.js", "web/notifications.js", "web/screens/settings.js", "web/alerts-store.js"}
    assert first & later == set()
    assert "web/outbox/items.js" in first  # the form saves into the outbox without them
