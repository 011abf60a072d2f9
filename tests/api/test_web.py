"""Serving the phone app: the shell, the manifest, the service worker."""
import re

import pytest

from server.web import APP_ROUTES, DEFAULT_QUICK_EXIT_URL, ROOT


def test_every_screen_gets_the_shell(client):
    for path in APP_ROUTES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html"
        assert b'<script type="module" src="/static/app.js">' in response.data
        assert response.headers["Cache-Control"] == "no-cache"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_worker_knows_the_same_screens():
    source = (ROOT / "service-worker.js").read_text()
    routes = re.search(r"const APP_ROUTES = \[(.*?)\];", source, re.S).group(1)
    assert tuple(re.findall(r"'([^']+)'", routes)) == APP_ROUTES


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
    app.config["QUICK_EXIT_URL"] = "javascript:alert(1)"
    assert f'content="{DEFAULT_QUICK_EXIT_URL}"'.encode() in client.get("/").data
