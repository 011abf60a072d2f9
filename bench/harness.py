"""Shared pieces of the HTTP benchmarks: a fresh database on either engine, the app
served by gunicorn as in production (gunicorn.conf.py), and wrk to load it.

Every figure is printed next to GET /healthz measured the same way in the same run
(interleaved rounds), because this machine's 2 cores are shared and noisy.
"""
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://@127.0.0.1:5432/test")
BENCH_SECRET = "bench-secret-key-that-is-long-enough-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def database(engine):
    """A fresh, empty database URL for the engine (dropped afterwards)."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="redflag-bench-") as folder:
            yield f"sqlite:///{folder}/redflag.db"
        return
    name = f"redflag_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(url, **config):
    from server import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": BENCH_SECRET, **config})


def migrate_and_seed_areas(app):
    from flask_migrate import upgrade

    from server.areas import service as areas
    from server.demo import DEMO_DIR
    from server.extensions import db
    with app.app_context():
        upgrade()
        areas.import_areas(areas.parse_areas((DEMO_DIR / "london-areas.csv").read_text(), "csv"))
        db.engine.dispose()


SERVERS = {}  # base URL -> the gunicorn master's process id, while it runs


def process_cpu(pids):
    """Seconds of CPU (user + system) these processes have used so far; a process that
    is gone counts 0."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def children(pid):
    """The process ids of a process's children (a gunicorn master's workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += (task / "children").read_text().split()
    return [int(child) for child in found]


@contextlib.contextmanager
def gunicorn(url, tree=ROOT, env=None):
    """The app under gunicorn.conf.py (its defaults: one gthread worker with 8 threads
    while rate limits count in memory; `env` may change them) on a free port; yields the
    base URL. Rate limits off: we measure the path, not the limit."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="redflag-bench-instance-") as instance:
        environment = dict(os.environ, PORT=str(port), HOST="127.0.0.1", DATABASE_URL=url,
                           SECRET_KEY=BENCH_SECRET, RATELIMIT_ENABLED="0",
                           REDFLAG_INSTANCE=instance, **(env or {}))
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", str(Path(tree) / "gunicorn.conf.py"),
             "--chdir", str(tree), "server:create_app()"],
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tree)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("gunicorn did not start")
            SERVERS[base] = process.pid
            yield base
        finally:
            SERVERS.pop(base, None)
            process.terminate()
            process.wait(30)


def wrk(url, script=None, seconds=8, connections=16, threads=2):
    """Run wrk; returns {'rps': requests/s, 'p50': ms, 'p99': ms, 'errors': n,
    'requests': n, 'seconds': s}."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--latency", "--timeout", "30s"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", out)
    took = float(done.group(2)) * {"ms": 0.001, "s": 1, "m": 60}[done.group(3)]
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"),
            "errors": int(errors.group(1)) if errors else 0,
            "requests": int(done.group(1)), "seconds": took}
