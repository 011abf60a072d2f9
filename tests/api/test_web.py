"""Serving the phone app: the shell, the manifest, the service worker."""
import gzip
import json
import shutil
import subprocess
from datetime import date

import brotli
import pytest

from server import web
from server.bundle import BUNDLE_URL
from server.reports.models import LEGACY_POLICE_CONSENT
from server.web import APP_ROUTES, DEFAULT_QUICK_EXIT_URL, ROOT, SCREENS, build_shell

from factories import app_on

SCREENS_ELEMENT = '<script type="application/json" id="screens">'


def screens_in(page):
    """The screens list the server wrote into the shell page."""
    return json.loads(page.split(SCREENS_ELEMENT, 1)[1].split("</script>", 1)[0])


def payload_module():
    """What web/report-payload.js gives the server: its vocabulary and a report with every
    part filled in (tests/js/print-vocabulary.js, run by Node)."""
    done = subprocess.run(["node", ROOT / "tests" / "js" / "print-vocabulary.js", date.today().isoformat()],
                          capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


@pytest.fixture
def webroot(tmp_path):
    """A copy of the app's web root that a test may change."""
    shutil.copytree(ROOT / "web", tmp_path / "web")
    for name in ("service-worker.js", "manifest.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_every_screen_gets_the_shell(client):
    for path in APP_ROUTES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html"
        assert b'<script type="module" src="/static/app.js">' in response.data
        assert response.headers["Cache-Control"] == "no-cache"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_page_the_worker_and_the_server_know_the_same_screens(client):
    screens = screens_in(client.get("/").get_data(as_text=True))
    assert [s["path"] for s in screens] == [s.path for s in SCREENS] == list(APP_ROUTES[1:])
    assert all((ROOT / "web" / s["module"]).is_file() for s in screens)
    shell = build_shell(ROOT)
    worker = client.get("/service-worker.js").data
    assert worker == shell.worker
    assert b"__SHELL_MANIFEST__" not in worker
    manifest = {"version": shell.version, "files": list(shell.files), "routes": list(APP_ROUTES)}
    assert json.dumps(manifest, indent=1).encode() in worker
    # Staff screens come from the network only; drop-in mode opens offline.
    network = {f"/static/{s.module}" for s in SCREENS if s.network}
    assert network and not network & set(shell.files)
    assert "/static/screens/dropin.js" in shell.files and "/static/staff/staff.js" in shell.files


def test_every_shell_file_changes_the_version(webroot):
    """A changed byte in any file of the shell (or the worker) is a new version, so phones
    always get a changed file: a new worker, a new cache."""
    versions = {build_shell(webroot).version}
    files = [webroot / "service-worker.js", webroot / "manifest.json", webroot / "web" / "index.html"]
    # The first screen's bundle is made from web/'s files (server/bundle.py): the files are
    # the input. A byte that leaves the bundle as it was (in an import statement) counts too.
    files += [webroot / "web" / url[len("/static/"):]
              for url in build_shell(webroot).files if url.startswith("/static/") and url != BUNDLE_URL]
    assert len(files) > 30
    for path in files:
        body = path.read_bytes()
        # Same size, one byte different: the version must not hang on sizes or times.
        path.write_bytes(body[:-1] + bytes([body[-1] ^ 1]))
        version = build_shell(webroot).version
        assert version not in versions, path
        versions.add(version)
    # A new language is a new version, but not in the shell: a phone keeps English and
    # its own language only (the page caches that one, web/i18n.js).
    (webroot / "web" / "locales" / "xx.json").write_text("{}")
    shell = build_shell(webroot)
    assert "/static/locales/xx.json" not in shell.files and shell.version not in versions
    assert [url for url in shell.files if url.startswith("/static/locales/")] == ["/static/locales/en.json"]
    # ... and a changed catalogue of another language is a new version too.
    thai = webroot / "web" / "locales" / "th.json"
    thai.write_bytes(thai.read_bytes().replace(b"}", b" }", 1))
    assert build_shell(webroot).version != shell.version
    shell = build_shell(webroot)
    # The server's printout stylesheet is not part of the app.
    (webroot / "web" / "print.css").write_text("body { color: red }")
    assert build_shell(webroot).version == shell.version


def test_a_rebuild_compresses_only_what_changed_and_serves_its_new_bytes(webroot):
    """A shell rebuilt after one file changed compresses that file and what names the new
    version (the worker), not the other ~40: the request that finds the change waits for
    the rebuild (~1.2 s of CPU when every file was compressed again)."""
    build_shell(webroot)
    before = web._densest.cache_info()
    styles = webroot / "web" / "styles.css"
    changed = styles.read_bytes() + b"\n/* the next version */\n"
    styles.write_bytes(changed)
    shell = build_shell(webroot)
    compressed = web._densest.cache_info().misses - before.misses
    assert 1 <= compressed <= 3, compressed
    body, variants = shell.compressed["/static/styles.css"]
    assert body == changed and brotli.decompress(variants["br"]) == changed
    assert gzip.decompress(variants["gzip"]) == changed
    worker, variants = shell.compressed["/service-worker.js"]
    assert shell.version.encode() in worker and brotli.decompress(variants["br"]) == worker


def test_a_file_changed_while_serving_is_a_new_worker(app, client, webroot):
    app.config["WEB_ROOT"] = str(webroot)
    before = client.get("/service-worker.js").data
    assert client.get("/service-worker.js").data == before  # cached, same bytes
    app_js = webroot / "web" / "app.js"
    app_js.write_text(app_js.read_text() + "\n// next\n")
    after = client.get("/service-worker.js").data
    assert after != before and after == build_shell(webroot).worker
    assert build_shell(webroot).version.encode() in after


def test_a_changed_file_is_built_into_a_shell_once_however_many_requests_find_it(
        app, webroot, monkeypatch):
    """A page's requests (the page, the bundle, the catalogue...) arrive together; after a
    change each must not build the shell again in turn behind the lock (~1.6 s each)."""
    import threading

    from server import web
    app.config["WEB_ROOT"] = str(webroot)
    builds = []
    real = web.build_shell
    monkeypatch.setattr(web, "build_shell", lambda *args: builds.append(args) or real(*args))
    app_js = webroot / "web" / "app.js"
    app_js.write_text(app_js.read_text() + "\n// next\n")
    gate = threading.Barrier(6)

    def page_request():
        gate.wait()
        with app.test_client() as client:
            assert client.get("/static/app.js").status_code == 200
    threads = [threading.Thread(target=page_request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(builds) == 1


def test_a_web_root_without_the_manifest_marker_is_refused(webroot):
    (webroot / "service-worker.js").write_text("const VERSION = '7';\n")
    with pytest.raises(RuntimeError):
        build_shell(webroot)


def test_a_server_without_the_apps_files_refuses_to_start_and_says_where_to_look(
        tmp_path, monkeypatch):
    """`pip install .` copies server/ alone: run elsewhere than the checkout, the app must
    not start without its files (phones would get errors), and must say what to set."""
    from server import web
    monkeypatch.setattr(web, "ROOT", tmp_path)  # where an installed package would look
    monkeypatch.delenv("REDFLAG_WEB_ROOT", raising=False)
    with pytest.raises(RuntimeError, match="REDFLAG_WEB_ROOT"):
        app_on("sqlite://")


@pytest.mark.parametrize("path, mimetype", [
    ("/service-worker.js", "text/javascript"),
    ("/manifest.json", "application/manifest+json"),
    ("/static/app.js", "text/javascript"),
    ("/static/styles.css", "text/css"),
    ("/static/locales/en.json", "application/json"),
    ("/static/icons/icon-192.png", "image/png"),
])
def test_files_have_their_type_and_are_revalidated(client, path, mimetype):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/static/../server/config.py", "/static/nothing.js",
                                  "/static/.hidden.js", "/static/icons/../../pyproject.toml"])
def test_only_app_files_are_served(client, path):
    assert client.get(path).status_code == 404


def test_quick_exit_target_is_a_setting(app, client):
    assert f'content="{DEFAULT_QUICK_EXIT_URL}"'.encode() in client.get("/").data
    app.config["QUICK_EXIT_URL"] = "https://weather.example/?a=1&b=2"
    page = client.get("/report").data
    assert b'name="redflag-quick-exit" content="https://weather.example/?a=1&amp;b=2"' in page
    # The shell page is part of the version: phones get the new target too.
    assert client.get("/service-worker.js").data != build_shell(ROOT).worker
    app.config["QUICK_EXIT_URL"] = "javascript:alert(1)"
    assert f'content="{DEFAULT_QUICK_EXIT_URL}"'.encode() in client.get("/").data


def test_the_report_form_speaks_the_servers_vocabulary(client, areas):
    """The app's lists are the API's enums, in the OpenAPI document; and a report built
    from a form with every part filled in is one the server takes."""
    js = payload_module()
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]

    def enum(schema, name):
        prop = schemas[schema]["properties"][name]
        return [value for value in prop.get("items", prop)["enum"] if value is not None]

    assert js["incident_types"] == enum("Report", "incident_types")
    assert js["parts_of_day"] == enum("Report", "part_of_day")
    assert js["police_consent"] + list(js["legacy_police"]) == enum("Consent", "police")
    assert js["legacy_police"] == LEGACY_POLICE_CONSENT  # old drafts open as the server stores them
    assert js["contact_methods"] == enum("Offender", "contact_method")
    assert js["perpetrator_kinds"] == enum("Report", "perpetrator")
    assert js["targeted_because"] == enum("Report", "targeted_because")
    for name, choices in js["pickers"].items():  # free text on the server: within its length
        assert all(len(choice) <= schemas["Offender"]["properties"][name].get("maxLength", 80)
                   for choice in choices), name

    report = js["report"]
    assert set(report) <= set(schemas["Report"]["properties"])
    assert report["perpetrator"] and report["targeted_because"] == js["targeted_because"]
    assert report["support"]["come_back"] is True
    assert set(report["offender"]) == set(schemas["Offender"]["properties"])
    response = client.post("/api/v1/sync", json={"reports": [report]})
    assert response.status_code == 200
    assert response.get_json()["results"][0]["result"] == "created", response.get_json()


def test_the_shell_carries_the_deployments_region(app, client):
    """Dates and numbers follow the deployment's region (web/i18n.js reads this meta)."""
    assert '<meta name="redflag-region" content="GB">' in client.get("/").get_data(as_text=True)
    app.config["DEFAULT_PHONE_REGION"] = "ie"
    assert '<meta name="redflag-region" content="IE">' in client.get("/").get_data(as_text=True)
    app.config["DEFAULT_PHONE_REGION"] = '"><script>'
    assert '<meta name="redflag-region" content="GB">' in client.get("/").get_data(as_text=True)


# --- Compressed once, sent as the client accepts ------------------------------------------

@pytest.mark.parametrize("path", [BUNDLE_URL, "/static/notifications.js", "/", "/service-worker.js",
                                  "/static/locales/en.json", "/static/styles.css"])
def test_text_files_are_sent_compressed_as_the_client_accepts(client, path):
    import gzip

    import brotli
    plain = client.get(path)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    br = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.data) == plain.data
    assert len(br.data) < len(plain.data)
    gz = client.get(path, headers={"Accept-Encoding": "gzip, br;q=0"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data) == plain.data
    # One ETag per encoding, each revalidates to a 304; and never cached unchecked.
    etags = {r.headers["ETag"] for r in (plain, br, gz)}
    assert len(etags) == 3
    again = client.get(path, headers={"Accept-Encoding": "br", "If-None-Match": br.headers["ETag"]})
    assert again.status_code == 304
    assert all("no-cache" in r.headers["Cache-Control"] for r in (plain, br, gz))


@pytest.mark.parametrize(("accept", "language"), [
    (None, "en"), ("en-GB,en;q=0.9", "en"), ("pt-PT,pt;q=0.9", "pt-BR"), ("fr-FR, es;q=0.5", "es"),
    ("zh-Hans-CN", "zh-CN"), ("de, ar;q=0", "en"), ("ro;q=0.2, bg;q=0.8", "bg"), ("th", "th")])
def test_the_page_preloads_the_catalogue_of_the_phones_language(client, accept, language):
    """English (the fallback) and the phone's own catalogue are fetched with the modules,
    not one after the other: the server picks the language from Accept-Language as
    web/i18n.js pick() picks from navigator.languages."""
    import re
    response = client.get("/report", headers={"Accept-Language": accept} if accept else {})
    assert "Accept-Language" in response.headers["Vary"]
    preloaded = re.findall(r'<link rel="preload" href="/static/locales/([^"]+)\.json" as="fetch" '
                           r'crossorigin="anonymous">', response.get_data(as_text=True))
    assert preloaded == (["en"] if language == "en" else ["en", language])


# --- The areas written into the page ------------------------------------------------------

AREAS_ELEMENT = '<script type="application/json" id="areas">'


def areas_in(page):
    return json.loads(page.split(AREAS_ELEMENT, 1)[1].split("</script>", 1)[0])


def test_the_page_carries_the_areas_as_the_api_gives_them(client, areas):
    """A first open fills the report form from the page, without waiting for the API
    (web/areas.js); each answer carries the list of that moment."""
    from server.areas import service
    page = client.get("/report").get_data(as_text=True)
    assert areas_in(page) == client.get("/api/v1/areas").get_json()
    assert {"hackney"} <= {area["slug"] for area in areas_in(page)}
    # A new area, even one whose name tries to close the element, is in the next answer.
    service.import_areas(service.parse_areas(json.dumps([{
        "slug": "tricky", "name": "</script><script>alert(1)</script>", "region": "central-london",
        "region_name": "Central London"}]), "json"))
    page = client.get("/").get_data(as_text=True)
    assert "</script><script>alert(1)" not in page
    assert "</script><script>alert(1)</script>" in {area["name"] for area in areas_in(page)}
    assert areas_in(page) == client.get("/api/v1/areas").get_json()
    # Compressed as the list is: the br answer is this page.
    import brotli
    br = client.get("/", headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.data).decode() == page


def test_the_page_without_areas_is_still_the_shell(client):
    """No areas yet (a new deployment): an empty list, and the app fetches its own."""
    assert areas_in(client.get("/").get_data(as_text=True)) == []


# --- The icons written into the page ------------------------------------------------------

def icon_names_drawn():
    """Every icon name web/**/*.js draws: each icon('name') call's, and the names the other
    calls are given: the tabs' (web/app.js: a tab screen's path), chips()' options' third
    item and an alert's (incident types and severities). A new kind of call fails here
    until its names are added."""
    import re

    from server.alerts.models import SEVERITIES
    from server.reports.models import INCIDENT_TYPES
    calls = [call for path in (ROOT / "web").rglob("*.js")
             for call in re.findall(r"(?<!function )\bicon\(([^()]*)\)", path.read_text())]
    named = {call.strip("'") for call in calls if re.fullmatch(r"'\w+'", call)}
    assert {call for call in calls if not re.fullmatch(r"'\w+'", call)} == {
        "here.iconName", "s.iconName", "iconName", "alert.severity", "type"}
    tabs = {screen.path[1:] for screen in SCREENS if screen.nav}
    assert named and tabs
    return named | tabs | set(INCIDENT_TYPES) | set(SEVERITIES)


def sprites_in(page):
    """The attributes of each <svg> of a page (the app draws its icons itself: the page's
    only <svg> is the sprite), and the ids of its <symbol>s."""
    from html.parser import HTMLParser
    svgs, symbols = [], []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "svg":
                svgs.append(dict(attrs))
            elif tag == "symbol":
                symbols.append(dict(attrs).get("id"))

    parser = Parser()
    parser.feed(page)
    parser.close()
    return svgs, symbols


def test_the_page_holds_every_icon_the_app_draws(client):
    """web/dom.js icon() points at #icon-NAME in the page (no fetch of a sprite, no second
    SVG document on a slow phone's main thread): the page holds one hidden sprite with a
    symbol for every icon the app draws, after everything the phone should fetch first."""
    import re
    page = client.get("/report").get_data(as_text=True)
    svgs, symbols = sprites_in(page)
    # One sprite, drawn nowhere and read by no screen reader; a symbol for each icon.
    assert svgs == [{"display": "none", "aria-hidden": "true"}]
    assert all(symbol.startswith("icon-") for symbol in symbols)
    assert {f"icon-{name}" for name in icon_names_drawn()} - set(symbols) == set()
    # Its ids clash with none of the page's own.
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)) and set(symbols) <= set(ids)
    # Last in the body: the preloads, the app's script and the page's own elements first.
    before, sprite = page.split("<svg ")
    assert 'rel="modulepreload"' in before and '<script type="module" src="/static/app.js">' in before
    assert '<main id="main"' in before
    assert sprite.split("</svg>")[1].split() == ["</body>", "</html>"]


def test_the_sprite_is_the_pages_not_a_file_the_phone_keeps(client, webroot):
    """The phone does not fetch or keep web/icons/icons.svg (the page holds its symbols);
    the server still sends it from disk, like print.css: a page of the version before,
    open in a tab through an update, still finds its icons by their names there."""
    shell = build_shell(ROOT)
    assert not [url for url in shell.files if url.endswith(".svg")]
    assert b"icons.svg" not in shell.worker
    response = client.get("/static/icons/icons.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b'<symbol id="report"' in response.data
    # A changed icon is a new page, so a new version of the app.
    before = build_shell(webroot).version
    sprite = webroot / "web" / "icons" / "icons.svg"
    sprite.write_text(sprite.read_text().replace('r="9"', 'r="8"', 1))
    shell = build_shell(webroot)
    assert shell.version != before and b'r="8"' in shell.index


@pytest.mark.parametrize("change", [
    lambda source: None,
    lambda source: source.replace("</svg>", ""),
    lambda source: source.replace('<symbol id="report"', "<symbol"),
    lambda source: source.replace('id="risky"', 'id="report"'),
    lambda source: source.replace("<circle ", '<circle id="dot" ', 1),
    lambda source: source.replace('<path d="M10 21h4"/>', '<use href="#report"/>'),
    lambda source: source.replace("<svg ", "<!DOCTYPE svg>\n<svg ", 1),
    lambda source: source.replace("<defs>", "<defs><symbol id=\"empty\"/>"),
])
def test_a_sprite_the_page_cannot_hold_stops_the_shell(webroot, change):
    """Missing, not well-formed, or not a set of symbols the page can hold under their
    prefixed ids: the server refuses to start rather than send a page without icons."""
    sprite = webroot / "web" / "icons" / "icons.svg"
    changed = change(sprite.read_text())
    if changed is None:
        sprite.unlink()
    else:
        sprite.write_text(changed)
    with pytest.raises(RuntimeError, match="icons.svg"):
        build_shell(webroot)
