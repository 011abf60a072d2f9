"""The production server process: gunicorn with the repo's gunicorn.conf.py."""
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from server.serving import NoAddresses, own_addresses

from pushservice import free_port  # one chooser of ports for every test
from waiting import wait_until

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


def gunicorn_env(tmp_path, port, **extra):
    env = dict(os.environ, REDFLAG_INSTANCE=str(tmp_path), FLASK_APP="server",
               HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1",
               SECRET_KEY="serving-test-secret-key-0123456789abcdef", **extra)
    env.pop("DATABASE_URL", None)
    return env


@contextlib.contextmanager
def gunicorn(env, log):
    """gunicorn with gunicorn.conf.py, its output in the file `log`; stopped at the end."""
    with open(log, "wb") as out:
        server = subprocess.Popen([BIN / "gunicorn", "-c", "gunicorn.conf.py", "server:create_app()"],
                                  env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def once_up(server, log, send):
    """send()'s answer, tried until the server takes connections (SERVER_START_SECONDS)."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        try:
            return send()
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)


def test_gunicorn_access_log_has_no_client_address(tmp_path):
    port = free_port()
    home = tmp_path / "home"  # where gunicorn would put its control socket
    home.mkdir()
    env = gunicorn_env(tmp_path, port, HOME=str(home))
    env.pop("XDG_RUNTIME_DIR", None)
    subprocess.run([BIN / "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, log) as server:
        reply = once_up(server, log, lambda: raw_request(
            port, "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                  "User-Agent: DistinctAgent/1.0\r\nConnection: close\r\n\r\n"))
        assert " 200 " in reply.splitlines()[0]
        body = '{"reports": "not a list"}'
        raw_request(port, "POST /api/v1/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          f"X-Forwarded-For: {CLIENT_ADDRESS}\r\n"
                          f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}")
    text = log.read_text()
    # No control socket: gunicornc could add workers past gunicorn.conf.py's refusal.
    assert list(home.iterdir()) == []
    assert "GET /healthz" in text  # the access log is on...
    assert CLIENT_ADDRESS not in text  # ...and never names the client
    assert "DistinctAgent" not in text


# --- The server's own listening address stays in its log, a client's never ---------------

def record(message, *args, name="gunicorn.error"):
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, None)


def filtered(record, own):
    NoAddresses(own).filter(record)
    return record.getMessage()


def test_only_the_configured_listening_addresses_are_kept():
    own = own_addresses([("127.0.0.1", 5000), ("::1", 5000), "/run/redflag.sock"])
    assert {"('127.0.0.1', 5000)", "http://127.0.0.1:5000", "('::1', 5000)",
            "http://[::1]:5000"} <= own
    # gunicorn's messages about its sockets name it...
    assert filtered(record("Connection in use: %s", "('127.0.0.1', 5000)"), own) \
        == "Connection in use: ('127.0.0.1', 5000)"
    assert filtered(record("Can't connect to %s", "('::1', 5000)"), own) == "Can't connect to ('::1', 5000)"
    assert filtered(record("Listening at: %s (%s)", "http://127.0.0.1:5000,http://[::1]:5000", 42), own) \
        == "Listening at: http://127.0.0.1:5000,http://[::1]:5000 (42)"
    assert filtered(record("connection to ('127.0.0.1', 5000) failed: [Errno 98] Address already in use"),
                    own).startswith("connection to ('127.0.0.1', 5000) failed")
    # ...but only the configured address, exactly: another host or port is removed.
    for other in ("('10.1.2.3', 5000)", "('127.0.0.1', 50000)", "('127.0.0.2', 5000)"):
        assert "[address]" in filtered(record("Connection in use: %s", other), own), other
    assert filtered(record("Listening at: %s (%s)", "http://127.0.0.1:50001", 42), own) \
        == "Listening at: http://[address]:50001 (42)"
    # The same text from a request is a client's: the address goes, as from any record.
    from_request = "Invalid request from ip=127.0.0.1: Invalid HTTP Header: \"('127.0.0.1', 5000)\""
    assert filtered(record(from_request), own) \
        == "Invalid request from ip=[address]: Invalid HTTP Header: \"('[address]', 5000)\""
    assert filtered(record("Invalid request from ip=%s", "('127.0.0.1', 5000)"), own) \
        == "Invalid request from ip=('[address]', 5000)"
    # A socket message's template from another logger (the app's, the access log) keeps nothing.
    for name in ("gunicorn.access", "server"):
        assert filtered(record("Connection in use: %s", "('127.0.0.1', 5000)", name=name), own) \
            == "Connection in use: ('[address]', 5000)"
    # With no own addresses (the app's handler), everything goes, as before.
    assert filtered(record("Connection in use: %s", "('127.0.0.1', 5000)"), ()) \
        == "Connection in use: ('[address]', 5000)"


def test_a_taken_port_is_named_and_a_client_on_the_same_address_is_not(tmp_path):
    """A real gunicorn (gunicorn.conf.py) on a port another socket holds says which address
    is taken; the same server, once the port is free, never names a client that connects
    from the very address it listens on."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    env = gunicorn_env(tmp_path, port)
    try:
        failed = subprocess.run([BIN / "gunicorn", "-c", "gunicorn.conf.py", "server:create_app()"],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        holder.close()
    assert failed.returncode != 0
    assert f"Connection in use: ('127.0.0.1', {port})" in failed.stderr, failed.stderr
    assert f"Can't connect to ('127.0.0.1', {port})" in failed.stderr
    assert "[address]" not in failed.stderr

    log = tmp_path / "gunicorn.log"
    # From 127.0.0.1, the server's own address; the header's name is the bind address's
    # form, which gunicorn's error quotes.
    bad = f"GET / HTTP/1.1\r\nHost: x\r\n('127.0.0.1', {port}): y\r\nConnection: close\r\n\r\n"

    def send_bad():
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(bad.encode())
            return conn.recv(65536)
    with gunicorn(env, log) as server:
        assert once_up(server, log, send_bad).startswith(b"HTTP/1.1 400")
        wait_until(lambda: "Invalid request from" in log.read_text(), timeout=10)
    text = log.read_text()
    assert f"Listening at: http://127.0.0.1:{port}" in text
    assert "Invalid request from ip=[address]" in text
    assert f"('[address]', {port})" in text
    # The only line naming 127.0.0.1 is the server's own.
    assert [line for line in text.splitlines() if "127.0.0.1" in line] \
        == [line for line in text.splitlines() if "Listening at: " in line], text
