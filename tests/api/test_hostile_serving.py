"""Malformed and over-size requests against a real gunicorn (gunicorn.conf.py), on both
engines, sent from a distinctive loopback address (issue 9, kinds 5 and 6):

- every answer, gunicorn's own included, is JSON with the security headers;
- no log line, at any level, names the client's address;
- a client that sends a 5 MB body reads its 413 instead of a broken pipe.
"""
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from pushservice import free_port  # one chooser of ports for every test

# How long a server may take to answer its first request: seconds when idle, but
# `make test` runs 4 workers on 2 cores, which can each be starting one at once.
SERVER_START_SECONDS = 90

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLIENT_ADDRESS = "127.0.0.77"  # loopback, but distinct from the server's own address


def exchange(port, head, body=b"", timeout=20):
    """Send raw bytes from CLIENT_ADDRESS; returns (status, headers, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(CLIENT_ADDRESS, 0)) as conn:
        conn.sendall(head if isinstance(head, bytes) else head.encode("latin-1"))
        if body:
            conn.sendall(body)  # a broken pipe here is the fault being tested
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
            raw = b"".join(chunks)
            head_end = raw.find(b"\r\n\r\n")
            if head_end >= 0:
                lines = raw[:head_end].decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip()
                           for k, _, v in (line.partition(":") for line in lines[1:])}
                length = int(headers.get("content-length", -1))
                if length >= 0 and len(raw) - head_end - 4 >= length:
                    break
    raw = b"".join(chunks)
    head_bytes, _, payload = raw.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, payload


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    env = dict(os.environ, REDFLAG_INSTANCE=str(folder), FLASK_APP="server",
               HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1",
               DATABASE_URL=database_url,
               SECRET_KEY="serving-test-secret-key-0123456789abcdef")
    log = folder / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [BIN / "gunicorn", "-c", "gunicorn.conf.py", "--log-level", "debug",
             "server:create_app()"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                if exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield port, log
    finally:  # also a server that never answered: it is not left running
        process.terminate()
        process.wait(timeout=30)


LONG = "a" * 9000
MALFORMED = {
    "request line too long": (f"GET /{LONG} HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "bad header name": ("GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", 400),
    "NUL in a header": ("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    "header too large": (f"GET / HTTP/1.1\r\nHost: x\r\nX-A: {LONG}\r\n\r\n", 431),
    "too many headers": ("GET / HTTP/1.1\r\nHost: x\r\n"
                         + "".join(f"X-{n}: y\r\n" for n in range(150)) + "\r\n", 431),
    "bad method": ("G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "bad version": ("GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400),
    "bad chunk size": ("POST /api/v1/sync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       "Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", (400, 422)),
    "unknown transfer coding": ("POST /api/v1/sync HTTP/1.1\r\nHost: x\r\n"
                                "Transfer-Encoding: gzip\r\n\r\n", (400, 501)),
    "obsolete folding": ("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
    "forwarded from a stranger": ("GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                  f"X-Forwarded-For: {CLIENT_ADDRESS}\r\nConnection: close\r\n\r\n", 200),
}


@pytest.mark.parametrize("kind", MALFORMED)
def test_every_answer_is_json_with_the_security_headers(server, kind):
    port, _ = server
    request, expected = MALFORMED[kind]
    status, headers, body = exchange(port, request)
    assert status in (expected if isinstance(expected, tuple) else (expected,)), (kind, body[:200])
    assert headers["content-type"].startswith("application/json"), (kind, headers)
    # The headers of the app's own JSON answers (tests/api/test_security.py API).
    assert headers["content-security-policy"] == "frame-ancestors 'none'"
    assert headers["cross-origin-resource-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"
    assert json.loads(body)  # never an HTML page, never the request echoed back
    assert LONG not in body.decode()


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/sync"])
def test_a_client_sending_5_mb_reads_its_413(server, path):
    port, _ = server
    body = b'{"reports": ["' + b"a" * (5 * 1024 * 1024) + b'"]}'
    status, headers, payload = exchange(
        port, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(body)}\r\n\r\n", body)
    assert status == 413
    assert json.loads(payload)["code"] == 413
    assert headers["x-content-type-options"] == "nosniff"


def test_no_log_line_names_the_client(server):
    # Runs after the others in this module (pytest keeps file order): everything above
    # was sent from CLIENT_ADDRESS, with the log at debug level.
    port, log = server
    for request, _ in MALFORMED.values():
        exchange(port, request)
    time.sleep(0.5)  # the log is written by another process
    text = log.read_text(errors="replace")
    assert "Invalid request from ip=[address]" in text  # the error log is on...
    assert '"GET /healthz" 200' in text                  # ...so is the access log...
    assert CLIENT_ADDRESS not in text                   # ...and neither names the client


def _post_json(port, path, raw):
    body = raw.encode("ascii")  # \u escapes only: the wire carries what a client sends
    return exchange(port, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n", body)


def _report(description_json):
    return (f'{{"id": "{uuid.uuid4()}", "occurred_on": "2026-11-20", "area": "hackney", '
            f'"incident_types": ["robbery"], "description": {description_json}}}')


def test_the_issues_examples_over_real_sockets(server):
    # Issue 9's anonymous examples of kinds 1 and 2, as bytes on a socket to gunicorn.
    port, _ = server
    status, _, body = _post_json(port, "/api/v1/reports", "[" * 5000 + "]" * 5000)
    assert status == 400 and json.loads(body)["code"] == 400
    status, _, body = _post_json(port, "/api/v1/staff/login",
                                 '{"username": "demo\\u0000x", "password": "whatever it is"}')
    assert status == 422 and "username" in json.loads(body)["errors"]["json"]
    status, _, body = _post_json(port, "/api/v1/reports", _report('"hit me \\ud800"'))
    assert status == 422 and "description" in json.loads(body)["errors"]["json"]
    item = _report('"\\udfff"')
    status, _, body = _post_json(port, "/api/v1/sync", f'{{"reports": [{item}]}}')
    (result,) = json.loads(body)["results"]
    assert status == 200 and (result["result"], result["retryable"]) == ("invalid", False)
    assert "description" in result["errors"]
