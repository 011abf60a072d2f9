"""The app's size budget: what a phone downloads to install the app and use it offline.

The service worker's shell (server/web.py builds it from web/) is the app: every file under
web/ must be in it, and together they must stay small for prepaid data (sizes are gzipped,
as served over the wire by any reasonable proxy; the service worker itself is counted too).
"""
import gzip
import json
import subprocess
from pathlib import Path

from server import bundle
from server.bundle import BUNDLE_URL
from server.web import FIRST_MODULES, NETWORK_ONLY_MODULES, SCREENS, build_shell

ROOT = Path(__file__).resolve().parent.parent
# Files under web/ that the server uses but the phone app does not fetch: staff printouts,
# and the icons' sprite (the server writes its symbols into the page, counted there).
# Staff screens and the public dispute page: loaded from the network when used, never kept
# offline (the network-only screens of server/web.py SCREENS and the modules only they
# import; staff/staff.js, which drop-in mode needs offline, is in the shell).
NOT_THE_APP = ({"print.css", "icons/icons.svg"} | NETWORK_ONLY_MODULES
               | {screen.module for screen in SCREENS if screen.network})
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
    # ... and the first screen's bundle, which the server makes from them (server/bundle.py).
    listed = [file_for(url) for url in build_shell(ROOT).files if url != BUNDLE_URL]
    assert all(path.is_file() for path in listed), [str(p) for p in listed if not p.is_file()]
    on_disk = {p for p in (ROOT / "web").rglob("*")
               if p.is_file() and p.relative_to(ROOT / "web").as_posix() not in NOT_THE_APP
               and not (p.parent == LOCALES and p.stem != "en")}
    assert on_disk == set(listed) - {ROOT / "manifest.json"}, "the shell is not the app"
    assert len(listed) == len(set(listed))


def test_every_module_the_shell_imports_is_in_the_shell(tmp_path):
    """Offline, a static import of a file the worker did not keep breaks the whole app
    (the modules as served: the first screen's addresses import the bundle)."""
    graph = module_graph(served_root(tmp_path))["modules"]
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


def module_graph(root=ROOT):
    """tests/js/module-graph.js on the web root `root`: {modules, exports, errors}."""
    done = subprocess.run(["node", "--experimental-vm-modules", "--no-warnings",
                           ROOT / "tests" / "js" / "module-graph.js", root],
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def served_root(folder):
    """`folder` made a web root holding the modules as the server sends them: the shell's
    (the bundle, each bundled module's address exporting its names from it, the rest as
    written), the network-only ones, and the service worker."""
    shell = build_shell(ROOT)
    served = {url[len("/static/"):]: body for url, body in shell.files.items()
              if url.startswith("/static/") and url.endswith(".js")}
    served |= {name: (ROOT / "web" / name).read_bytes() for name in NOT_THE_APP if name.endswith(".js")}
    for name, body in served.items():
        path = folder / "web" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    (folder / "service-worker.js").write_bytes(shell.worker)
    return folder


def first_screen(graph):
    """web/app.js, web/screens/report.js and every module they import statically."""
    found, stack = set(), [f"web/{name}" for name in FIRST_MODULES]
    while stack:
        name = stack.pop()
        if name not in found:
            found.add(name)
            stack.extend(graph[name])
    return found


def test_the_first_screen_is_one_bundle_and_preloaded():
    """The first screen's whole static module graph (as Node's own linker finds it) is in
    the bundle, and nothing more; the page preloads the bundle and the one module it loads
    by its own address (app.js, the page's script; the router's import of the report
    screen is answered from the bundle), so a phone fetches them at once."""
    import re
    graph = module_graph()["modules"]
    code, stubs, bundled = bundle.build(ROOT / "web", FIRST_MODULES)
    assert {f"web/{name}" for name in bundled} == first_screen(graph)
    shell = build_shell(ROOT)
    index = shell.index.decode()
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', index)
    assert preloaded == [BUNDLE_URL, "/static/app.js"]
    assert shell.files[BUNDLE_URL] == code.encode()
    assert all(shell.files[f"/static/{name}"] == stubs[name].encode() for name in bundled)
    assert index.index('rel="modulepreload"') < index.index('<script type="module"')


def test_the_served_modules_link_and_export_what_their_sources_export(tmp_path):
    """The modules as the server sends them (the bundle, each bundled module's address
    exporting its names from it, the rest as written), with the service worker: every
    import finds its module and its names, and each address exports exactly the names its
    source file does. A module the generator misread fails here, not on a phone."""
    served, source = module_graph(served_root(tmp_path)), module_graph()
    assert served["errors"] == []
    assert set(served["exports"]) == set(source["exports"]) | {"web" + BUNDLE_URL[len("/static"):]}
    assert {name: names for name, names in served["exports"].items() if name in source["exports"]} \
        == source["exports"]


def test_the_bundle_refuses_what_it_cannot_keep_the_meaning_of(tmp_path):
    """Code the generator cannot bundle faithfully stops the server at start (web.py
    builds the shell then), with the file and line named; it never makes a wrong bundle."""
    import pytest
    refused = {
        "export default function x() {}": "default",
        "export let x = 1;": "live or default",
        "export * from './b.js';": "live or default",
        "export const { x } = {};": "expected name",
        "export const x = 1, z = 2;": "one name per export const",
        "import x from './b.js';": "default imports",
        "import { default as x } from './b.js';": "default",
        "const u = import.meta.url;": "import.meta",
        "const b = (n) => import(n);": "import()",
        "import { x } from 'https://example.org/x.js';": "cannot bundle an import",
        "import { x } from './c.js';": "import cycle",
        "const $rfx = 1;": "the bundle's",
        "const s = 'open;": "unterminated string",
    }
    web = tmp_path / "web"
    web.mkdir()
    (web / "b.js").write_text("export const x = 1;\n")
    (web / "c.js").write_text("import { y } from './a.js';\nexport const x = y;\n")
    for code, message in refused.items():
        (web / "a.js").write_text(f"// a module\nexport const y = 2;\n{code}\n")
        with pytest.raises(bundle.BundleError, match=message) as raised:
            bundle.build(web, ["a.js"])
        assert "web/" in str(raised.value)
    # What web/ does use is kept: named and namespace imports, re-exports, regular
    # expressions and templates that look like imports, an import() made absolute.
    (web / "a.js").write_text(
        "import * as b from './b.js';\nimport { x as z } from './b.js'\n"
        "export { x as w } from './b.js';\nconst r = /import { q } from 'no'/g;\n"
        "const t = `export ${`let ${z}`} x`;\nexport const v = () => import('./b.js');\n"
        "export function f() { return [b.x, z, r, t]; }\nexport { f as g };\n")
    code, stubs, bundled = bundle.build(web, ["a.js"])
    assert bundled == ["b.js", "a.js"]
    assert "const { x: z } = $rf0();" in code and "const b = $rf0();" in code
    assert "$rfimport('/static/b.js')" in code and "/import { q } from 'no'/g" in code
    assert "const $rfmodules = { __proto__: null, '/static/b.js': $rf0, '/static/a.js': $rf1 };" in code
    assert "return { __proto__: null, v, f, g: f, w: $rf0().x };" in code
    assert stubs["a.js"].endswith("export const { v, f, g, w } = $rf1();\n")


def test_the_first_screen_waits_for_nothing_it_does_not_show():
    """On a slow phone each module of the first screen's static graph is one more request
    before the report form is usable (6 connections, 400 ms each): sending the outbox, the
    service worker, notifications, Settings and the feed are imported after it (app.js)."""
    first = first_screen(module_graph()["modules"])
    later = {"web/outbox.js", "web/outbox/sync.js", "web/outbox/scheduler.js", "web/outbox/status.js",
             "web/update.js", "web/notifications.js", "web/screens/settings.js", "web/alerts-store.js"}
    assert first & later == set()
    assert "web/outbox/items.js" in first  # the form saves into the outbox without them
