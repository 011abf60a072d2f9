"""Cross-cutting guarantees: each kind of answer with its security headers on every
route, no client address kept anywhere, errors that reveal nothing, and a production
config that refuses unsafe defaults."""
import collections
import logging
import re
import uuid

import pytest
import sqlalchemy as sa

from server.config import ProductionConfig
from server.extensions import db
from server.web import APP_ROUTES, current_shell

from factories import StaffClient

DISTINCT_IP = "203.0.113.77"
SAMPLE = {"uuid": str(uuid.uuid4()), "int": "1", "default": "x", "string": "x", "path": "x"}


def every_request(app):
    """(method, path) for every rule and method in the URL map, with sample arguments."""
    for rule in app.url_map.iter_rules():
        def sample(match, rule=rule):
            converter = rule._converters[match.group(1)]
            return SAMPLE.get(type(converter).__name__.replace("Converter", "").lower(), "x")
        path = re.sub(r"<(?:[^>:]+:)?([^>]+)>", sample, rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def send(client, method, path, **kwargs):
    body = {} if method in {"POST", "PUT", "PATCH", "DELETE"} else None
    return client.open(path, method=method, json=body, **kwargs)


# The policy, written out here so that a change to it is a change to this test too
# (server/security.py says why each header goes where).
CSP = ("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; "
       "manifest-src 'self'")
DOCUMENT = {  # HTML: the screens, the printable pages and their error pages
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}
WORKER = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
          "Referrer-Policy": "no-referrer"}
FILE = {"X-Content-Type-Options": "nosniff"}  # the app's scripts, styles, JSON, images, manifest
API = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff",
       "Cross-Origin-Resource-Policy": "same-origin"}  # every other answer
KINDS = {"document": DOCUMENT, "worker": WORKER, "file": FILE, "api": API}
POLICY_HEADERS = set(DOCUMENT)
PRINT_PAGES = ("/staff/print/bulletin", "/staff/print/police-pack", "/staff/print/stats")


def security_headers(response):
    """The policy headers an answer carries, exactly: a missing one and an extra one both show."""
    return {name: value for name, value in response.headers.items() if name in POLICY_HEADERS}


def expected_headers(path, response):
    # A screen's 304 has no Content-Type; a printable page refused (401, 403) is JSON.
    if response.mimetype == "text/html" or path in APP_ROUTES:
        return DOCUMENT
    if path == "/service-worker.js":
        return WORKER
    if path.startswith("/static/") or path == "/manifest.json":
        return FILE
    return API


def test_every_route_sends_the_headers_of_its_kind(app, client, areas):
    """Every rule and method, anonymous and as an admin (who gets the printable pages)."""
    admin = StaffClient(app, "boss", "admin")
    kinds = collections.Counter()
    for who in (client, admin.client):
        for method, path in every_request(app):
            response = send(who, method, path, headers=admin.csrf if who is admin.client else {})
            assert response.status_code != 500, (method, path, response.status_code)
            expected = expected_headers(path, response)
            assert security_headers(response) == expected, (method, path, response.status_code)
            if path.startswith("/api/"):
                assert response.headers["Cache-Control"] == "no-store", path
            kinds[next(name for name, policy in KINDS.items() if policy is expected)] += 1
            if who is admin.client and path in PRINT_PAGES:
                assert response.mimetype == "text/html", path
    # Every kind was met, the printable pages as documents among them.
    assert set(kinds) == set(KINDS), kinds
    assert kinds["document"] == len(APP_ROUTES) * 2 + len(PRINT_PAGES)


@pytest.mark.parametrize("encoding", ["br", "gzip", ""])
def test_app_files_carry_nosniff_and_their_cache_headers_only(client, encoding):
    """Each of the phone's files (every file of the shell, the other languages, the icons,
    the print stylesheet, the manifest), as sent and as revalidated (304): nosniff, no-cache
    and an ETag; none of the document headers. The worker's script: its own CSP and
    referrer policy too."""
    shell = current_shell()
    paths = [*shell.compressed, "/static/print.css", "/static/icons/icon-192.png",
             "/static/icons/maskable-512.png"]
    paths = [path for path in dict.fromkeys(paths) if path != "/"]
    assert len(paths) > 30 and "/manifest.json" in paths and "/service-worker.js" in paths
    for path in paths:
        sent = client.get(path, headers={"Accept-Encoding": encoding})
        assert sent.status_code == 200, path
        again = client.get(path, headers={"Accept-Encoding": encoding,
                                          "If-None-Match": sent.headers["ETag"]})
        assert again.status_code == 304, path
        expected = WORKER if path == "/service-worker.js" else FILE
        for response in (sent, again):
            assert security_headers(response) == expected, (path, response.status_code)
            assert response.headers["Cache-Control"] == "no-cache", path


def test_documents_keep_every_header(app, client, areas):
    """A screen as sent and as revalidated (a 304 has no Content-Type), and the printable
    pages with their figures and with their error page (422, HTML)."""
    for path in APP_ROUTES:
        sent = client.get(path)
        again = client.get(path, headers={"If-None-Match": sent.headers["ETag"]})
        assert (sent.status_code, again.status_code) == (200, 304), path
        assert security_headers(sent) == security_headers(again) == DOCUMENT, path
    admin = StaffClient(app, "boss", "admin")
    pages = {"/staff/print/bulletin": {"area": "hackney"},
             "/staff/print/police-pack": {"from": "2026-01-01", "to": "2026-02-01", "area": "hackney"},
             "/staff/print/stats": {"from": "2026-01-01", "to": "2026-02-01"}}
    assert set(pages) == set(PRINT_PAGES)
    for path, query in pages.items():
        shown = admin.get(path, query_string=query)
        wrong = admin.get(path, query_string={**query, "from": "not a date", "area": "nowhere"})
        assert (shown.status_code, wrong.status_code) == (200, 422), path
        for response in (shown, wrong):
            assert response.mimetype == "text/html"
            assert security_headers(response) == DOCUMENT, (path, response.status_code)
            assert response.headers["Cache-Control"] == "no-store"


def test_unknown_route_is_json_with_headers(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert response.headers["Cache-Control"] == "no-store"
    assert security_headers(response) == API


def test_server_error_reveals_nothing(app, client, caplog):
    def explode():
        raise RuntimeError("secret internal detail /srv/redflag/server/x.py")

    app.add_url_rule("/api/v1/explode", "explode", explode)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/explode")
    assert response.status_code == 500
    assert response.is_json
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text and "Traceback" not in text
    assert response.get_json()["message"]
    assert security_headers(response) == API


def test_client_address_is_never_stored_or_logged(app, client, areas, caplog):
    environ = {"REMOTE_ADDR": DISTINCT_IP}
    headers = {"X-Forwarded-For": DISTINCT_IP, "X-Real-IP": DISTINCT_IP,
               "User-Agent": "DistinctAgent/9.9"}
    report = {"id": str(uuid.uuid4()), "occurred_on": "2026-11-20", "area": "hackney",
              "incident_types": ["physical_assault"], "description": "Hit me.",
              "offender": {"phones": ["07700 900123"]}}
    with caplog.at_level(logging.DEBUG):
        created = client.post("/api/v1/reports", json=report, environ_base=environ,
                              headers=headers)
        assert created.status_code == 201
        client.post("/api/v1/sync", json={"reports": [report]}, environ_base=environ,
                    headers=headers)
        for method, path in every_request(app):
            send(client, method, path, environ_base=environ, headers=headers)
    db.session.remove()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).all():
            text = repr(tuple(row))
            assert DISTINCT_IP not in text, table.name
            assert "DistinctAgent" not in text, table.name
    for record in caplog.records:
        assert DISTINCT_IP not in record.getMessage()
        assert "DistinctAgent" not in record.getMessage()
    assert db.session.execute(sa.text("SELECT count(*) FROM report")).scalar() == 1


def test_production_refuses_default_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig().check()
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="FLASK_DEBUG"):
        ProductionConfig().check()
