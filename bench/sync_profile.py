"""Where a sync batch's and a single report's CPU goes, in-process (no HTTP server).

Drives the whole Flask stack through the test client (routing, limiter, member lookup,
schema, service, database, response) on a fresh database, the same payloads as
bench/report.lua. Prints ms per request (wall and process CPU) for GET /healthz, a single
POST /api/v1/reports and a 100-report POST /api/v1/sync, and the ratios (on PostgreSQL
also with its backends' CPU added, from /proc: part of a write is theirs); with --profile,
cProfile's top functions for the sync batch and the single POST.

    .venv/bin/python bench/sync_profile.py [--engine sqlite|postgresql|both] [--batches 20]
                                           [--profile] [--top 40]
"""
import argparse
import cProfile
import io
import json
import pstats
import random
import statistics
import time
import uuid

import sqlalchemy as sa
from harness import database, make_app, migrate_and_seed_areas, process_cpu

COUNTER = [0]


def one():
    COUNTER[0] += 1
    n = COUNTER[0]
    return {"id": str(uuid.uuid4()), "occurred_on": "2026-11-01", "area": "hackney",
            "incident_types": ["robbery"], "description": f"Took the money back. {n}",
            "offender": {"phones": [f"07700 9{random.randrange(100000):05d}"]}}


def backends(url):
    """The process ids of the PostgreSQL backends serving this database; [] on SQLite."""
    if not url.startswith("postgresql"):
        return []
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pids = conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")).scalars().all()
    engine.dispose()
    return pids


def timed(fn, n, pids=()):
    """(median wall ms, median CPU ms of this process, mean CPU ms of the processes
    `pids`) of n calls; the last from /proc's clock ticks over all n calls."""
    walls, cpus = [], []
    before = process_cpu(pids)
    for _ in range(n):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append((time.process_time() - c) * 1000)
        walls.append((time.perf_counter() - w) * 1000)
    return statistics.median(walls), statistics.median(cpus), (process_cpu(pids) - before) * 1000 / n


def run(engine, batches, profile, top):
    with database(engine) as url:
        app = make_app(url, RATELIMIT_ENABLED=False)
        migrate_and_seed_areas(app)
        client = app.test_client()

        def healthz():
            assert client.get("/healthz").status_code == 200

        def single():
            response = client.post("/api/v1/reports", data=json.dumps(one()),
                                   content_type="application/json")
            assert response.status_code == 201, response.get_data(as_text=True)

        def batch():
            body = json.dumps({"reports": [one() for _ in range(100)]})
            response = client.post("/api/v1/sync", data=body, content_type="application/json")
            assert response.status_code == 200
            assert all(r["result"] == "created" for r in response.get_json()["results"])

        for fn in (healthz, single, batch):  # warm up
            fn()
        pids = backends(url)
        h = timed(healthz, batches * 10, pids)
        s = timed(single, batches * 10, pids)
        b = timed(batch, batches, pids)
        print(f"\n{engine}: median ms per request (wall / CPU of this process)")
        print(f"  GET /healthz      {h[0]:7.2f} / {h[1]:7.2f}")
        print(f"  POST /reports     {s[0]:7.2f} / {s[1]:7.2f}   = {1000 / s[0]:6.0f} reports/s"
              f"   CPU ratio to healthz {h[1] / s[1]:.2f}")
        print(f"  POST /sync (100)  {b[0]:7.2f} / {b[1]:7.2f}   = {100_000 / b[0]:6.0f} reports/s"
              f"   per item {b[1] / 100:.3f} ms CPU")
        print(f"  sync / single, reports per CPU second: {100 * s[1] / b[1]:.1f}x;"
              f" per wall second: {100 * s[0] / b[0]:.1f}x")
        if pids:
            print(f"  with the database's backends (mean ms CPU): single {s[1] + s[2]:.2f},"
                  f" sync per item {(b[1] + b[2]) / 100:.3f} ms:"
                  f" {100 * (s[1] + s[2]) / (b[1] + b[2]):.1f}x")
        if profile:
            for name, fn, n in (("sync (100)", batch, batches), ("single", single, batches * 10)):
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(n):
                    fn()
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
                print(f"\n--- {engine} {name}: {n} requests, by own time ---")
                print(out.getvalue()[:12000])
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
                print(f"\n--- {engine} {name}: {n} requests, cumulative ---")
                print(out.getvalue()[:12000])
        with app.app_context():
            from server.extensions import db
            db.engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    for engine in ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]:
        run(engine, args.batches, args.profile, args.top)


if __name__ == "__main__":
    main()
