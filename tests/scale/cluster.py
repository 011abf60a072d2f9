"""Real deployments for the scale tests: gunicorn hosts (started with gunicorn.conf.py, as
`make run` and production start them), `flask push worker` senders, on SQLite or on one
PostgreSQL database, with the rate limits in memory or in the local Redis.

Every process gets a free port and a temp folder, runs in its own process group, and is
killed when the deployment closes; every wait is bounded.
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from flaskcli import flask_commands  # the setup commands, in one process
from pushservice import free_port  # one chooser of ports for every test
from waiting import wait_until

# How long a server may take to answer its first request: seconds when idle, but
# `make test` runs 4 workers on 2 cores, which can each be starting one at once.
SERVER_START_SECONDS = 90

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")



def call(base, method, path, body=None, source="127.0.0.1", headers=None, timeout=30, raw=None):
    """One HTTP request on its own connection from the loopback address `source`.
    -> (status, parsed JSON body or None, headers dict)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.connect()
        if conn.sock.getsockname() == conn.sock.getpeername():
            # TCP's simultaneous open: polling a port nobody listens on yet, from the same
            # ephemeral range, can connect the socket to itself and read back its own request.
            raise ConnectionRefusedError(f"connected to itself on port {parts.port}")
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        payload = response.read()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return response.status, parsed, dict(response.getheaders())
    finally:
        conn.close()


class Deployment:
    """One Redflag deployment: a database, an instance folder (VAPID key), env settings,
    and any number of hosts and senders. Use as a context manager."""

    def __init__(self, base, engine="sqlite", redis=False, env=None):
        self.base = Path(base)
        self.instance = self.base / "instance"
        self.engine = engine
        self.processes = {}
        self.redis_prefix = f"redflag-test-{uuid.uuid4().hex[:12]}" if redis else None
        self._pg_name = None
        if engine == "postgresql":
            self._pg_name = f"redflag_scale_{uuid.uuid4().hex[:12]}"
            with self._admin() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{self._pg_name}"'))
            self.database_url = sa.engine.make_url(PG_ADMIN_URL).set(
                database=self._pg_name).render_as_string(hide_password=False)
        else:
            self.database_url = f"sqlite:///{self.instance / 'redflag.db'}"
        self.env = dict(os.environ, FLASK_APP="server", REDFLAG_INSTANCE=str(self.instance),
                        DATABASE_URL=self.database_url,
                        SECRET_KEY=f"scale-test-{uuid.uuid4().hex}{uuid.uuid4().hex}",
                        PUSH_ALLOW_LOCAL_ENDPOINTS="1")
        for name in ("REDFLAG_ENV", "WEB_CONCURRENCY", "RATELIMIT_STORAGE_URI",
                     "RATELIMIT_KEY_PREFIX", "PUSH_WORKER_IN_PROCESS", "TRUST_PROXY"):
            self.env.pop(name, None)
        if redis:
            self.env.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=self.redis_prefix)
        self.env.update(env or {})

    def _admin(self):
        return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT").connect()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- commands -------------------------------------------------------------------------

    def flask(self, *args, check=True, env=None):
        result = subprocess.run([BIN / "flask", *args], env={**self.env, **(env or {})}, cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def setup(self, demo=True):
        """Migrate, make the VAPID key, load the demo areas and accounts (as `make run`)."""
        commands = [["db", "upgrade"], ["push", "keys"]]
        if demo:
            commands.append(["demo", "load", "--no-content"])
        done = flask_commands(self.env, *commands)
        if done.returncode != 0:
            raise AssertionError(f"setting up {self.base} failed:\n{done.stdout}\n{done.stderr}")

    # --- processes ------------------------------------------------------------------------

    def _spawn(self, name, argv, env):
        log = self.base / f"{name}.log"
        out = open(log, "ab")
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        out.close()
        self.processes[name] = (process, log)
        return process

    def start_host(self, name, port=None, env=None):
        """A gunicorn host with gunicorn.conf.py; -> its base URL once /healthz answers."""
        port = port or free_port()
        host_env = {**self.env, "HOST": "127.0.0.1", "PORT": str(port), **(env or {})}
        process = self._spawn(name, [BIN / "gunicorn", "-c", "gunicorn.conf.py",
                                     "server:create_app()"], host_env)
        url = f"http://127.0.0.1:{port}"

        def healthy():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited:\n{self.log(name)}")
            try:
                return call(url, "GET", "/healthz", timeout=5)[0] == 200
            except OSError:
                return False
        wait_until(healthy, SERVER_START_SECONDS, f"{name} to answer")
        return url

    def start_sender(self, name, *args, env=None):
        return self._spawn(name, [BIN / "flask", "push", "worker", *args],
                           {**self.env, **(env or {})})

    def kill(self, name, sig=signal.SIGKILL):
        """Signal the whole process group (gunicorn's master and its workers) and reap it."""
        process, _ = self.processes[name]
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def log(self, name):
        return self.processes[name][1].read_text(errors="replace")

    def close(self):
        for process, _ in list(self.processes.values()):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    process.wait(timeout=10)
        if self.redis_prefix:
            import redis
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f"*{self.redis_prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
        if self._pg_name:
            with self._admin() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)'))

    # --- the database, read directly --------------------------------------------------------

    def query(self, sql, **params):
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql), params).all()
        finally:
            engine.dispose()
