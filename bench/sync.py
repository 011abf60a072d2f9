"""Sync batches against single POSTs, and the single POST against GET /healthz.

The app runs under gunicorn with gunicorn.conf.py (as in production) on a fresh database;
wrk sends, in interleaved rounds: GET /healthz (the baseline), POST /api/v1/reports (one
new report per request), and POST /api/v1/sync with 100 new reports per request. Prints
requests/s and reports/s, the ratios, and the server's own CPU per report (its gunicorn
workers' and, on PostgreSQL, its backends' /proc counters) with the cores it kept busy and
the load average; single POSTs are measured at both connection
counts (16, and the sync's 4) and the better figure is the one compared. Goal: sync
reports/s >= 20x single POST reports/s on both engines.

    .venv/bin/python bench/sync.py [--engine sqlite|postgresql|both] [--seconds 8]
                                   [--rounds 3] [--tree PATH]   (another checkout, to compare)
                                   [--workers N]

The server is the same for all three: gunicorn.conf.py's defaults (one gthread worker with
8 threads while rate limits count in memory), or --workers N gthread workers (with
RATELIMIT_STORAGE_URI pointed at the local Redis, as gunicorn.conf.py requires for more
than one; the limits themselves stay off). Each round's ratios are printed as well as the
medians: each ratio compares figures of the same round.
"""
import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from harness import (
    ROOT,
    SERVERS,
    children,
    database,
    gunicorn,
    make_app,
    migrate_and_seed_areas,
    process_cpu,
    wrk,
)

SYNC_CONNECTIONS = int(os.environ.get("SYNC_CONNECTIONS", "4"))
SCRIPT = ROOT / "bench" / "report.lua"


def server_processes(base, url):
    """The processes that serve the app: gunicorn's workers, and on PostgreSQL the
    database's backends (the work of a write is partly theirs)."""
    pids = children(SERVERS[base])
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            pids += conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")).scalars().all()
        engine.dispose()
    return pids


def measured(base, database_url, reports, **options):
    """wrk's figures, and the server's CPU (ms of CPU per report, all its processes), the
    cores it kept busy over the run, and each gunicorn worker's cores ("workers")."""
    pids = server_processes(base, database_url)
    workers = children(SERVERS[base])
    before = process_cpu(pids)
    each = [process_cpu([pid]) for pid in workers]
    figure = wrk(**options)
    # Backends that opened during the run count from 0; the pool keeps them open.
    used = process_cpu(set(pids) | set(server_processes(base, database_url))) - before
    figure["cpu"] = used * 1000 / max(1, figure["requests"] * reports)
    figure["cores"] = used / figure["seconds"]
    # Each gunicorn worker's share: wrk's connections stay with the worker that accepted
    # them, so a round where one worker took them all runs on about one core.
    figure["workers"] = [(process_cpu([pid]) - start) / figure["seconds"]
                         for pid, start in zip(workers, each, strict=True)]
    return figure


def run(engine, seconds, rounds, tree, connections, workers=None):
    env = {} if not workers else {"WEB_CONCURRENCY": str(workers),
                                  "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/"}
    with database(engine) as url:
        if Path(tree).resolve() == ROOT:
            migrate_and_seed_areas(make_app(url))
        else:  # the other checkout's own migrations: its schema, not this one's
            subprocess.run([sys.executable, "-c", (
                "import sys; sys.path[:0] = ['.', 'bench']; "
                "from harness import make_app, migrate_and_seed_areas; "
                "migrate_and_seed_areas(make_app(sys.argv[1]))"), url],
                cwd=tree, check=True, capture_output=True)
        figures = {"healthz": [], "single": [], "single4": [], "sync": []}
        with gunicorn(url, tree=tree, env=env) as base:
            wrk(base + "/healthz", seconds=2)  # warm up
            for _ in range(rounds):
                figures["healthz"].append(measured(base, url, 1, url=base + "/healthz",
                                                   seconds=seconds, connections=connections))
                os.environ["BATCH"] = "1"
                figures["single"].append(measured(base, url, 1, url=base, script=SCRIPT,
                                                  seconds=seconds, connections=connections))
                # The same connection count as the sync, so that neither side is measured
                # at a concurrency the other is not given; the better single figure is
                # the one the ratio divides by.
                figures["single4"].append(measured(base, url, 1, url=base, script=SCRIPT,
                                                   seconds=seconds,
                                                   connections=SYNC_CONNECTIONS))
                os.environ["BATCH"] = "100"
                figures["sync"].append(measured(base, url, 100, url=base, script=SCRIPT,
                                                seconds=seconds,
                                                connections=SYNC_CONNECTIONS))
                h, s16, s4, s100 = (figures[k][-1]["rps"]
                                    for k in ("healthz", "single", "single4", "sync"))
                s1 = max(s16, s4)
                c16, c4, c100 = (figures[k][-1]["cpu"] for k in ("single", "single4", "sync"))
                print(f"  {engine} round {len(figures['sync'])}: healthz {h:.0f} req/s, single "
                      f"{s16:.0f} req/s ({SYNC_CONNECTIONS} connections: {s4:.0f}; "
                      f"{s1 / h:.2f} of healthz), sync {s100 * 100:.0f} reports/s "
                      f"({s100 * 100 / s1:.1f}x the better single); server CPU per report: "
                      f"single {c16:.2f}/{c4:.2f} ms, sync {c100:.3f} ms "
                      f"({min(c16, c4) / c100:.1f}x); the sync's cores by worker "
                      f"{'+'.join(f'{c:.2f}' for c in figures['sync'][-1]['workers'])}, "
                      f"{load()}", flush=True)
    med = {k: {f: statistics.median(r[f] for r in v)
               for f in ("rps", "p50", "p99", "errors", "cpu", "cores")}
           for k, v in figures.items()}
    health, sync = med["healthz"], med["sync"]
    single = max(med["single"], med["single4"], key=lambda figure: figure["rps"])
    print(f"\n{engine}: medians of {rounds} rounds of {seconds} s, {connections} connections "
          f"(sync: {SYNC_CONNECTIONS}), gunicorn workers: {workers or 'gunicorn.conf.py default'}")
    print(f"  GET /healthz          {health['rps']:8.0f} req/s   p50 {health['p50']:7.1f} ms"
          f"  p99 {health['p99']:7.1f} ms")
    print(f"  POST /reports, {connections:2d} c   {med['single']['rps']:8.0f} req/s   "
          f"{SYNC_CONNECTIONS:2d} connections: {med['single4']['rps']:.0f} req/s")
    print(f"  POST /reports (best)  {single['rps']:8.0f} req/s   p50 {single['p50']:7.1f} ms"
          f"  p99 {single['p99']:7.1f} ms   ratio to healthz {single['rps'] / health['rps']:.2f}")
    print(f"  POST /sync (100)      {sync['rps']:8.1f} req/s   p50 {sync['p50']:7.1f} ms"
          f"  p99 {sync['p99']:7.1f} ms   = {sync['rps'] * 100:.0f} reports/s")
    print(f"  sync / single (reports/s): {sync['rps'] * 100 / single['rps']:.1f}x"
          f"   errors: {single['errors'] + sync['errors']:.0f}")
    lopsided = [n for n, figure in enumerate(figures["sync"], 1) if lopsided_round(figure)]
    if lopsided:
        print(f"  rounds where one gunicorn worker had the sync's connections (another "
              f"worker under a quarter of its share): {', '.join(map(str, lopsided))}")
    print("  server CPU (gunicorn workers" + (", PostgreSQL backends" if engine != "sqlite"
                                            else "") + "), ms per report and cores busy:")
    for key, label in (("healthz", "GET /healthz"), ("single", f"single, {connections} c"),
                       ("single4", f"single, {SYNC_CONNECTIONS} c"), ("sync", "sync (100)")):
        print(f"    {label:18s} {med[key]['cpu']:7.3f} ms   {med[key]['cores']:.2f} cores")
    print(f"  sync / single, reports per server CPU second: "
          f"{min(med['single']['cpu'], med['single4']['cpu']) / sync['cpu']:.1f}x   {load()}")
    return med


def lopsided_round(figure):
    """Whether one of several workers did under a quarter of an even share of the work."""
    shares = figure["workers"]
    return len(shares) > 1 and min(shares) < 0.25 * sum(shares) / len(shares)


def load():
    return "load average " + " ".join(f"{n:.2f}" for n in os.getloadavg())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--tree", default=str(ROOT))
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        run(engine, args.seconds, args.rounds, args.tree, args.connections, args.workers)


if __name__ == "__main__":
    main()
