"""The phone app: the shell in web/, the manifest and the service worker, from one origin.

Every file is sent with `Cache-Control: no-cache` (revalidated with an ETag): the service
worker keeps the offline copy and decides when a new version takes over, so the HTTP cache
must never hand it a stale file.

Settings (environment or app config):
- QUICK_EXIT_URL: where quick exit goes (a neutral site; default a weather page).
- REDFLAG_WEB_ROOT / WEB_ROOT: the folder holding web/, manifest.json and
  service-worker.js (default: the repository). The browser tests serve a copy they can
  change, to publish a new app version while the server runs.
"""
import hashlib
import os
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, send_from_directory
from markupsafe import escape

bp = Blueprint("web", __name__)

ROOT = Path(__file__).resolve().parent.parent
# The screens of the app: a navigation to any of them gets index.html, and the router in
# web/router.js draws the screen. Keep in step with APP_ROUTES in service-worker.js.
APP_ROUTES = ("/", "/report", "/reports", "/alerts", "/check", "/join", "/settings",
              "/staff", "/staff/queue", "/staff/report", "/staff/alert", "/staff/alerts",
              "/staff/invites", "/staff/dropin")
DEFAULT_QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"
# Only these kinds of file are served from web/; anything else is a 404.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html",
}


def _root():
    return Path(current_app.config.get("WEB_ROOT") or os.environ.get("REDFLAG_WEB_ROOT") or ROOT)


def _quick_exit_url():
    url = current_app.config.get("QUICK_EXIT_URL") or os.environ.get("QUICK_EXIT_URL")
    if url and url.startswith(("https://", "http://")):
        return url
    return DEFAULT_QUICK_EXIT_URL


def _no_cache(response):
    response.cache_control.no_cache = True
    return response


def index():
    # The quick-exit target is written into the shell, so it works offline too.
    html = (_root() / "web" / "index.html").read_text(encoding="utf-8")
    html = html.replace(f'content="{DEFAULT_QUICK_EXIT_URL}"',
                        f'content="{escape(_quick_exit_url())}"')
    response = Response(html, mimetype="text/html")
    response.set_etag(hashlib.sha256(html.encode()).hexdigest()[:32])
    return _no_cache(response.make_conditional(request))


for _path in APP_ROUTES:
    bp.add_url_rule(_path, f"screen{_path.replace('/', '_')}", index)


def _send(folder, name):
    content_type = CONTENT_TYPES.get(Path(name).suffix)
    if content_type is None or any(part.startswith(".") for part in Path(name).parts):
        abort(404)
    response = send_from_directory(folder, name, mimetype=content_type, max_age=None,
                                   conditional=True, etag=True)
    return _no_cache(response)


@bp.get("/static/<path:name>")
def static(name):
    return _send(_root() / "web", name)


@bp.get("/manifest.json")
def manifest():
    response = _send(_root(), "manifest.json")
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/service-worker.js")
def service_worker():
    return _send(_root(), "service-worker.js")
