"""The production server process: gunicorn with the repo's gunicorn.conf.py."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from pushservice import free_port  # one chooser of ports for every test

# How long a server may take to answer its first request: seconds when idle, but
# `make test` runs 4 workers on 2 cores, which can each be starting one at once.
SERVER_START_SECONDS = 90

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLIENT_ADDRESS = "127.0.0.99"  # loopback, but distinct from the server's own address


def raw_request(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=10,
                                  source_address=(CLIENT_ADDRESS, 0)) as conn:
        conn.sendall(request.encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_gunicorn_access_log_has_no_client_address(tmp_path):
    port = free_port()
    home = tmp_path / "home"  # where gunicorn would put its control socket
    home.mkdir()
    env = dict(os.environ, REDFLAG_INSTANCE=str(tmp_path), FLASK_APP="server",
               HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1", HOME=str(home),
               SECRET_KEY="serving-test-secret-key-0123456789abcdef")
    env.pop("DATABASE_URL", None)
    env.pop("XDG_RUNTIME_DIR", None)
    subprocess.run([BIN / "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([BIN / "gunicorn", "-c", "gunicorn.conf.py", "server:create_app()"],
                                  env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                reply = raw_request(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                          "User-Agent: DistinctAgent/1.0\r\nConnection: close\r\n\r\n")
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        assert " 200 " in reply.splitlines()[0]
        body = '{"reports": "not a list"}'
        raw_request(port, "POST /api/v1/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          f"X-Forwarded-For: {CLIENT_ADDRESS}\r\n"
                          f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    # No control socket: gunicornc could add workers past gunicorn.conf.py's refusal.
    assert list(home.iterdir()) == []
    assert "GET /healthz" in text  # the access log is on...
    assert CLIENT_ADDRESS not in text  # ...and never names the client
    assert "DistinctAgent" not in text
