"""Cross-cutting guarantees: headers on every route, no client address kept anywhere,
errors that reveal nothing, and a production config that refuses unsafe defaults."""
import logging
import re
import uuid

import pytest
import sqlalchemy as sa

from server.config import ProductionConfig
from server.extensions import db

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


def test_every_route_sends_security_headers(app, client):
    seen = 0
    for method, path in every_request(app):
        response = send(client, method, path)
        assert response.status_code != 500, (method, path, response.status_code)
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'",
                          "frame-ancestors 'none'"):
            assert directive in csp, (path, directive)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        if path.startswith("/api/"):
            assert headers["Cache-Control"] == "no-store", path
        seen += 1
    assert seen >= 3


def test_unknown_route_is_json_with_headers(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert response.headers["Cache-Control"] == "no-store"


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
    assert response.headers["Content-Security-Policy"]


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
