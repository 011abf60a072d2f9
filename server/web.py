"""The phone app: the shell in web/, the manifest and the service worker, from one origin.

This module is the one source of what the app is made of:
- SCREENS, the app's screens: the server answers a navigation to any of them with the
  shell (index.html), the page's router draws them (index.html carries the list), and the
  service worker answers them offline.
- the shell: every file the phone keeps for offline use (web/ except the files named in
  NOT_IN_SHELL, the network-only screens and NETWORK_ONLY_MODULES, and the catalogues of languages other than
  English: the worker adds the device's own), and a version that is a hash of their bytes
  and of every catalogue's.
  The service worker is sent with both written in, so a changed file is always a new
  worker and a new cache: no list or version is kept by hand, and there is no build step.
- the first screen's bundle (server/bundle.py): the report form's 13 modules sent as one,
  each of their addresses answering a module that exports its names from it.
- the icons: the symbols of web/icons/icons.svg, written into the page (_sprite()).

The shell is computed when the app starts and cached; a request for the shell or the
worker re-reads only the files' sizes and modification times, and recomputes when one
changed (a deploy, or the browser tests publishing a new version into their web root).

Every file is sent with `Cache-Control: no-cache` (revalidated with an ETag): the service
worker keeps the offline copy and decides when a new version takes over, so the HTTP cache
must never hand it a stale file. Text files are sent compressed (brotli, else gzip, as the
client accepts), compressed once when the shell is built: a first visit on prepaid data
moves about a quarter of the bytes.

Settings (environment or app config):
- QUICK_EXIT_URL: where quick exit goes (a neutral site; default a weather page).
- DEFAULT_PHONE_REGION: also the region dates and numbers are written for (en + GB:
  "30 Nov 2026, 16:10"), written into the shell as <meta name="redflag-region">.
- REDFLAG_WEB_ROOT / WEB_ROOT: the folder holding web/, manifest.json and
  service-worker.js (default: the repository). The browser tests serve a copy they can
  change, to publish a new app version while the server runs.
"""
import functools
import gzip
import hashlib
import json
import os
import re
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import brotli
from flask import Blueprint, Response, abort, current_app, request, send_from_directory
from markupsafe import escape
from sqlalchemy.exc import SQLAlchemyError

from . import bundle
from .areas import service as areas_service
from .areas.schemas import AreaSchema
from .bundle import BUNDLE, BUNDLE_URL
from .extensions import db

bp = Blueprint("web", __name__)

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Screen:
    """One screen of the app.

    path: its address; module: the ES module under web/ that draws it; title: the locale
    key of its title; nav: shown in the tab bar; network: loaded from the network only,
    never kept on the phone (staff screens and the public dispute page: no use offline,
    and a worker's phone need not hold them)."""
    path: str
    module: str
    title: str
    nav: bool = False
    network: bool = False


SCREENS = (
    Screen("/report", "screens/report.js", "nav.report", nav=True),
    Screen("/reports", "screens/reports.js", "nav.reports", nav=True),
    Screen("/alerts", "screens/alerts.js", "nav.alerts", nav=True),
    Screen("/check", "screens/check.js", "nav.check", nav=True),
    Screen("/join", "screens/join.js", "nav.join", nav=True),
    Screen("/settings", "screens/settings.js", "nav.settings", nav=True),
    Screen("/staff", "staff/login.js", "login.title", network=True),
    Screen("/staff/queue", "staff/queue.js", "queue.title", network=True),
    Screen("/staff/report", "staff/report.js", "staff.report", network=True),
    Screen("/staff/alert", "staff/alert-editor.js", "staff.alert", network=True),
    Screen("/staff/alerts", "staff/alerts.js", "alertlist.title", network=True),
    Screen("/staff/invites", "staff/invites.js", "invites.title", network=True),
    Screen("/staff/texts", "staff/texts.js", "texts.title", network=True),
    Screen("/staff/support", "staff/support.js", "support.title", network=True),
    Screen("/staff/case", "staff/case.js", "case.screen", network=True),
    Screen("/staff/disputes", "staff/disputes.js", "disputes.title", network=True),
    # Public: someone who believes an alert wrongly describes them objects here; filing
    # needs the server anyway, so it is not kept on members' phones.
    Screen("/dispute", "screens/dispute.js", "dispute.title", network=True),
    # Drop-in mode is the report form, and must open offline on a tablet.
    Screen("/staff/dropin", "screens/dropin.js", "dropin.title"),
)
# Every address that gets the shell: "/" shows the report screen.
APP_ROUTES = ("/",) + tuple(screen.path for screen in SCREENS)
# The app's icons: one <symbol> each, written into the page (_sprite()) rather than fetched.
SPRITE = "icons/icons.svg"
# Files under web/ that the phone app does not fetch: the server's printouts, and the
# sprite (the page holds its symbols). Both are still served from disk at their address.
NOT_IN_SHELL = frozenset({"print.css", SPRITE})
# Modules that only network-only screens import: loaded from the network with them.
# conversation.js: a report's messages are fetched when opened and never kept offline.
NETWORK_ONLY_MODULES = frozenset({"staff/tools.js", "conversation.js"})
DEFAULT_QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"
DEFAULT_REGION = "GB"
# The app's language catalogues: only English is in the shell; the service worker keeps
# the device's own language too (a phone need not hold ten).
LOCALES = "locales/"
SHELL_LOCALE = "locales/en.json"
# Only these kinds of file are served from web/; anything else is a 404.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html",
}
# service-worker.js names the manifest with this word; the server writes it in.
MANIFEST_MARKER = "__SHELL_MANIFEST__"
# index.html holds the screens list in this (empty) element; the server fills it in.
SCREENS_ELEMENT = '<script type="application/json" id="screens"></script>'
# index.html holds the area list in this (empty) element; each answer for a screen fills
# it in, so a first open draws a filled report form without waiting for /api/v1/areas
# (web/areas.js uses it until the app's own fetch has kept a list on the device).
AREAS_ELEMENT = '<script type="application/json" id="areas"></script>'
# The English catalogue is preloaded by every page; a page for a phone in another
# language (Accept-Language, matched as web/i18n.js pick() matches navigator.languages)
# preloads that one too, so it is not fetched only after English. Not written into the
# page: the page's own bytes delay every file it names.
CATALOGUE_PRELOAD = (f'<link rel="preload" href="/static/{SHELL_LOCALE}" as="fetch" '
                     'crossorigin="anonymous">')


def _root():
    return Path(current_app.config.get("WEB_ROOT") or os.environ.get("REDFLAG_WEB_ROOT") or ROOT)


def _quick_exit_url():
    url = current_app.config.get("QUICK_EXIT_URL") or os.environ.get("QUICK_EXIT_URL")
    if url and url.startswith(("https://", "http://")):
        return url
    return DEFAULT_QUICK_EXIT_URL


def _servable(relative):
    """Whether a path under web/ (posix, relative) is an app file the server sends."""
    parts = relative.split("/")
    return Path(relative).suffix in CONTENT_TYPES and not any(p.startswith(".") for p in parts)


@dataclass(frozen=True)
class Shell:
    """The app shell of one web root, as the phone gets it.

    files: {url: bytes} of every file the service worker caches, "/" being the rendered
    index.html, the first screen's modules as server/bundle.py serves them; version: 16
    hex digits of SHA-256 over those urls and bytes, the bundled modules' own files and
    the worker's own source; index: the rendered index.html; worker: service-worker.js with the
    manifest ({version, files: [url], routes: [path]}) written in."""
    files: dict
    version: str
    index: bytes
    worker: bytes
    # {url: (body, {"br": bytes, "gzip": bytes})}: every file above, the worker and the
    # other languages' catalogues, with the variants that save bytes.
    compressed: dict = None


def _region():
    region = str(current_app.config.get("DEFAULT_PHONE_REGION") or DEFAULT_REGION)
    return region.upper() if region.isalpha() and len(region) == 2 else DEFAULT_REGION


# The report form is the first screen: these modules and their static imports are sent as
# one module (server/bundle.py), each of their own addresses answering a module that
# exports its names from it.
FIRST_MODULES = ("app.js", "screens/report.js")
APP_SCRIPT = '<script type="module" src="/static/app.js"></script>'


def _preloads():
    """<link rel=modulepreload> for the first screen's modules as they are served: the
    bundle and app.js (the page's script; the router's import of the report screen is
    answered from the bundle, server/bundle.py); and before them a preload of the English
    catalogue. A phone at 400 ms a round trip fetches them in one wave instead of
    discovering them import by import."""
    # The catalogue first: the app waits for it before it draws anything; named last, it
    # was among the last requests on the 6 connections.
    modules = [BUNDLE_URL, f"/static/{FIRST_MODULES[0]}"]
    return "\n".join([CATALOGUE_PRELOAD] + [f'<link rel="modulepreload" href="{url}">' for url in modules])


SVG_NS = "http://www.w3.org/2000/svg"
# A symbol's id in the page: "icon-" + its name in the sprite (web/dom.js icon() uses it),
# so no icon name ("report", "check", "other") can clash with an id of the page's own.
ICON_ID_PREFIX = "icon-"


def _sprite(root):
    """The symbols of web/icons/icons.svg as one hidden <svg> for the page, their ids
    prefixed with ICON_ID_PREFIX. In the page, each icon's <use> points within the page:
    an external sprite cost a phone a fetch per icon and a second SVG document parsed on
    the main thread before the form was usable. Prefixed here, not in the file: the file
    keeps the icons' own names, which a page of an earlier version (still open in a tab
    after an update) asks the server for. display="none" (a presentation attribute, not a
    style, which the Content-Security-Policy forbids): no layout box; the symbols are
    drawn only where a <use> points. Raises RuntimeError when the sprite is missing or
    is not what this expects."""
    path = root / "web" / SPRITE
    try:
        source = path.read_text(encoding="utf-8")
        tree = ElementTree.fromstring(source)
    except (OSError, UnicodeDecodeError, ElementTree.ParseError) as error:
        raise RuntimeError(f"web/{SPRITE} is missing or not well-formed XML: {error}") from error
    symbols = tree.findall(f".//{{{SVG_NS}}}symbol")
    names = [symbol.get("id") for symbol in symbols]
    if tree.tag != f"{{{SVG_NS}}}svg" or not symbols or not all(names) or len(set(names)) != len(names):
        raise RuntimeError(f"web/{SPRITE} must be an <svg> of <symbol>s, each with its own id")
    source = re.sub(r"<!--.*?-->", "", source, flags=re.S)
    # Only the symbols' ids get the prefix: another id, or a reference to one, would
    # point at the wrong thing in the page; a DOCTYPE's entities or CDATA are not HTML's.
    if len(tree.findall(".//*[@id]")) != len(symbols) or re.search(r"href|url\(|<!", source):
        raise RuntimeError(f"web/{SPRITE}: only <symbol>s may have ids, nothing may refer to one, "
                           "and no <!DOCTYPE> or CDATA")
    found = []
    for symbol in re.findall(r"<symbol\b.*?</symbol>", source, flags=re.S):
        symbol, prefixed = re.subn(r'(<symbol\b[^>]*?\sid=")', rf"\g<1>{ICON_ID_PREFIX}", symbol, count=1)
        found.append(symbol if prefixed else None)
    if len(found) != len(symbols) or None in found:
        raise RuntimeError(f'web/{SPRITE}: write each <symbol id="..."> with an end tag')
    return ('<svg display="none" aria-hidden="true">\n'
            + "\n".join(found) + "\n</svg>")


def _render_index(root, quick_exit_url, region=DEFAULT_REGION):
    html = (root / "web" / "index.html").read_text(encoding="utf-8")
    if APP_SCRIPT not in html:
        raise RuntimeError(f"web/index.html has no {APP_SCRIPT}")
    if html.count("</body>") != 1:
        raise RuntimeError("web/index.html must have one </body>")
    # Last in the body: the preloads and everything else before it reach the phone first.
    html = html.replace("</body>", _sprite(root) + "\n</body>")
    html = html.replace(APP_SCRIPT, _preloads() + "\n" + APP_SCRIPT)
    for element in (SCREENS_ELEMENT, AREAS_ELEMENT):
        if element not in html:
            raise RuntimeError(f"web/index.html has no {element}")
    # The quick-exit target and the region are written into the shell, so they work offline too.
    html = html.replace(f'content="{DEFAULT_QUICK_EXIT_URL}"', f'content="{escape(quick_exit_url)}"')
    html = html.replace(f'<meta name="redflag-region" content="{DEFAULT_REGION}">',
                        f'<meta name="redflag-region" content="{escape(region)}">')
    screens = [{"path": s.path, "module": s.module, "title": s.title, "nav": s.nav, "network": s.network}
               for s in SCREENS]
    # JSON inside <script>: "<" escaped, so no text can close the element early.
    html = html.replace(SCREENS_ELEMENT, _filled(SCREENS_ELEMENT, screens))
    return html.encode()


def _filled(element, value):
    """An empty <script type="application/json"> element holding `value` as JSON, with
    "<" escaped so no text can close the element early."""
    data = json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")
    return element.replace("></", f">{data}</")


def build_shell(root, quick_exit_url=DEFAULT_QUICK_EXIT_URL, region=DEFAULT_REGION):
    """Read the web root `root` (a Path) and make its Shell. Raises RuntimeError when
    service-worker.js or index.html lacks the place the server writes into."""
    web = root / "web"
    network_only = {screen.module for screen in SCREENS if screen.network} | NETWORK_ONLY_MODULES
    files = {"/": _render_index(root, quick_exit_url, region),
             "/manifest.json": (root / "manifest.json").read_bytes()}
    catalogues = {}  # other languages: not kept by every phone, but a change is a new version
    if (web / BUNDLE).exists():
        raise RuntimeError(f"web/{BUNDLE} is the name of the server's bundle (server/bundle.py)")
    code, stubs, _ = bundle.build(web, FIRST_MODULES)
    sources = {}  # the bundled modules' own files: a changed byte is a new version even if
    # the bundle did not change (an import statement's spacing)
    for path in sorted(web.rglob("*")):
        relative = path.relative_to(web).as_posix()
        if (not path.is_file() or relative == "index.html" or relative in NOT_IN_SHELL
                or relative in network_only or not _servable(relative)):
            continue
        if relative.startswith(LOCALES) and relative != SHELL_LOCALE:
            catalogues[f"/static/{relative}"] = path.read_bytes()
            continue
        files[f"/static/{relative}"] = path.read_bytes()
        if relative in stubs:
            sources[f"/static/{relative}"] = files[f"/static/{relative}"]
            files[f"/static/{relative}"] = stubs[relative].encode()
    missing = set(stubs) - {url.removeprefix("/static/") for url in sources}
    if missing:
        # Served from disk as written, it would be a second instance of the module.
        raise RuntimeError(f"the first screen imports modules the shell does not keep: "
                           f"{sorted(missing)}")
    files[BUNDLE_URL] = code.encode()
    source = (root / "service-worker.js").read_bytes()
    if source.count(MANIFEST_MARKER.encode()) != 1:
        raise RuntimeError(f"service-worker.js must name {MANIFEST_MARKER} exactly once")
    digest = hashlib.sha256(source)
    for url, body in [*files.items(), *catalogues.items(), *((f"source:{url}", body)
                                                              for url, body in sources.items())]:
        # Length-prefixed, so no two different shells hash the same stream.
        digest.update(f"\0{url}\0{len(body)}\0".encode())
        digest.update(body)
    version = digest.hexdigest()[:16]
    manifest = {"version": version, "files": list(files), "routes": list(APP_ROUTES)}
    worker = source.replace(MANIFEST_MARKER.encode(), json.dumps(manifest, indent=1).encode())
    compressed = {url: (body, _densest(body)) for url, body in
                  [*files.items(), *catalogues.items(), ("/service-worker.js", worker)]}
    return Shell(files=files, version=version, index=files["/"], worker=worker,
                 compressed=compressed)


COMPRESS_FROM_BYTES = 512


def _compress(body, quality=11):
    """{"br": ..., "gzip": ...} of a body worth compressing (text, over 512 bytes, and
    smaller compressed), else {}. Brotli at its densest by default: done once per shell
    build."""
    if len(body) < COMPRESS_FROM_BYTES:
        return {}
    variants = {"br": brotli.compress(body, quality=quality), "gzip": gzip.compress(body, 9, mtime=0)}
    return {name: data for name, data in variants.items() if len(data) < len(body)}


@functools.lru_cache(maxsize=256)
def _densest(body):
    """_compress(body) at brotli's densest, remembered by the body's bytes (the result is
    shared: read only). A shell rebuilt because a file changed (a deploy under a running
    server, a test) compresses only the files that changed: all of them took ~1.2 s of CPU,
    which the request that found the change waited for. At most 256 bodies (a few shells,
    a few MB) are kept."""
    return _compress(body)


def _weighted(header):
    """An Accept-* header's values -> [(name lowercased, quality, position)], those with
    quality 0 ("br;q=0") left out; an unreadable quality counts as 0."""
    values = []
    for position, part in enumerate(header.split(",")):
        name, *params = [piece.strip() for piece in part.split(";")]
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name and quality > 0:
            values.append((name.lower(), quality, position))
    return values


def _accepted(header):
    """The encodings an Accept-Encoding header allows ("br;q=0" refuses br)."""
    return {name for name, _, _ in _weighted(header)}


def _signature(root):
    """Size, modification time and inode of every file the shell is made from (a file
    replaced by a rename has a new inode even when its size and time look the same).
    os.scandir, not Path.rglob: this runs on every request for the shell or the worker."""
    found = []
    for name in ("service-worker.js", "manifest.json"):
        try:
            stat = os.stat(root / name)
        except FileNotFoundError:
            continue
        found.append((name, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    folders = [str(root / "web")]
    while folders:
        try:
            entries = list(os.scandir(folders.pop()))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
                continue
            stat = entry.stat()
            found.append((entry.path, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return tuple(sorted(found))


_shells = {}  # (root, quick exit url, region) -> (signature, Shell)
_shells_lock = threading.Lock()


def current_shell():
    """The Shell of this app's web root: built once, rebuilt when a file changed, once
    however many requests find the change (a first build costs ~1.6 s of CPU: a page's
    requests each building it in turn behind the lock kept the page from loading for 10 s;
    a rebuild compresses only the files that changed, see _densest)."""
    key = _root(), _quick_exit_url(), _region()
    cached = _shells.get(key)
    if cached and cached[0] == _signature(key[0]):
        return cached[1]
    with _shells_lock:
        # Looked at again behind the lock: the request before may have built it already.
        signature, cached = _signature(key[0]), _shells.get(key)
        if cached and cached[0] == signature:
            return cached[1]
        shell = build_shell(*key)
        _shells[key] = (signature, shell)
    return shell


@bp.record_once
def _build_at_start(state):
    # A web root the server cannot build a shell from fails at start, not on a phone.
    with state.app.app_context():
        root = _root()
        if not (root / "web" / "index.html").is_file():
            # `pip install .` copies server/ alone: the app's files stay in the checkout.
            raise RuntimeError(f"no web/index.html under {root}: run from the checkout, or "
                               "set REDFLAG_WEB_ROOT to the folder holding web/")
        current_shell()


def _no_cache(response):
    response.cache_control.no_cache = True
    return response


def _send_bytes(body, variants=None, mimetype="application/octet-stream"):
    """body from memory, compressed when the client accepts one of its variants; each
    encoding has its own ETag (a cache must not answer a br request with gzip bytes)."""
    etag = hashlib.sha256(body).hexdigest()[:32]
    encoding = None
    if variants:
        accepted = _accepted(request.headers.get("Accept-Encoding", ""))
        encoding = next((name for name in ("br", "gzip") if name in variants and name in accepted),
                        None)
    response = Response(variants[encoding] if encoding else body, mimetype=mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    if variants:
        response.vary.add("Accept-Encoding")
    response.set_etag(f"{etag}-{encoding}" if encoding else etag)
    return _no_cache(response.make_conditional(request))


def _areas():
    """The areas as GET /api/v1/areas answers them; [] when the database cannot say (the
    page then works as before: the app fetches the list itself)."""
    try:
        return AreaSchema(many=True).dump(areas_service.list_areas())
    except SQLAlchemyError:
        db.session.rollback()
        return []


_pages = {}  # (shell version, areas, language) -> (body, variants): compressed once each
_PAGES_KEPT = 32
PAGE_QUALITY = 7


def _language(shell, header):
    """The app language for an Accept-Language header, as web/i18n.js pick() chooses from
    navigator.languages (which the browser sends in this order): the first tag that is
    one of ours, else one with the same first part ("pt-PT" -> "pt-BR"); else English."""
    codes = sorted(url[len(f"/static/{LOCALES}"):-len(".json")] for url in shell.compressed
                   if url.startswith(f"/static/{LOCALES}") and url.endswith(".json"))
    tags = sorted((-quality, position, tag) for tag, quality, position in _weighted(header)
                  if tag != "*")
    for _, _, tag in tags:
        found = (next((code for code in codes if code.lower() == tag), None)
                 or next((code for code in codes if code.lower().split("-")[0] == tag.split("-")[0]), None))
        if found:
            return found
    return "en"


def _page(shell):
    """The shell page with today's areas written in and the phone's catalogue preloaded,
    and its compressed variants."""
    areas = _filled(AREAS_ELEMENT, _areas())
    language = _language(shell, request.headers.get("Accept-Language", ""))
    key = (shell.version, areas, language)
    found = _pages.get(key)
    if found is None:
        body = shell.index.replace(AREAS_ELEMENT.encode(), areas.encode(), 1)
        if language != "en":
            own = CATALOGUE_PRELOAD.replace(SHELL_LOCALE, f"{LOCALES}{language}.json")
            body = body.replace(CATALOGUE_PRELOAD.encode(), f"{CATALOGUE_PRELOAD}\n{own}".encode(), 1)
        # Made on a phone's request: brotli 7 takes a tenth of 11's time for 10 % more bytes.
        found = (body, _compress(body, quality=PAGE_QUALITY))
        if len(_pages) >= _PAGES_KEPT:
            _pages.clear()
        _pages[key] = found
    return found


def index():
    response = _send_bytes(*_page(current_shell()), mimetype="text/html")
    response.vary.add("Accept-Language")
    return response


for _path in APP_ROUTES:
    bp.add_url_rule(_path, f"screen{_path.replace('/', '_')}", index)


def _send(folder, name):
    if not _servable(name):
        abort(404)
    response = send_from_directory(folder, name, mimetype=CONTENT_TYPES[Path(name).suffix],
                                   max_age=None, conditional=True, etag=True)
    return _no_cache(response)


@bp.get("/static/<path:name>")
def static(name):
    found = current_shell().compressed.get(f"/static/{name}")
    if found is not None:
        return _send_bytes(*found, mimetype=CONTENT_TYPES[Path(name).suffix])
    return _send(_root() / "web", name)


@bp.get("/manifest.json")
def manifest():
    response = _send(_root(), "manifest.json")
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/service-worker.js")
def service_worker():
    return _send_bytes(*current_shell().compressed["/service-worker.js"],
                       mimetype="text/javascript")
