"""Staff pages and exports as the reports grow: statistics, the queue (first page, a deep
page, filtered first pages), a report's detail, and the police-pack CSV, at 10k / 100k /
1M reports, on SQLite and PostgreSQL.

Loads each size into one growing database with a bulk loader (COPY on PostgreSQL; on
SQLite executemany of pre-converted rows in transactions of 100,000 on its own connection
with synchronous=OFF, as nothing is lost if a benchmark's database is), then times each
endpoint through the whole application stack (Flask test client -> staff session -> view
-> service -> database), with GET /healthz (one `SELECT 1`) interleaved as the same-run
baseline, and prints p50/p99 in ms and their ratio to the baseline's.

The police pack is timed on a window of at most PACK_ROWS rows (the whole pack below
that): rows/s and how much this process's resident memory grew while streaming it.

    .venv/bin/python bench/staff.py [--engine sqlite|postgresql|both]
        [--sizes 10000,100000,1000000] [--only stats,queue,deep,filters,detail,pack]
        [--samples 40] [--no-freeze] [--tree PATH --tree PATH ... [--rounds 3]]

--tree (several times; e.g. main's checkout and this one) times the pack with each
checkout's own code on the same database, in rounds that alternate the trees, so that the
load of the 2 shared cores falls on every tree alike: before each tree's round the
database is migrated to that tree's head (its migrations must be this checkout's or an
earlier history), and a child process of that tree's code streams the pack with GET
/healthz interleaved. The load average is printed with each round.

Endpoints (--only): stats (statistics JSON), queue (first page), deep (the page after the
middle report, by the queue's cursor), filters (pages filtered by area, status, incident
type (one no report has: the worst case), identifier; first and half-way down),
detail (a report in full, a different report each time), pack (police-pack CSV).
"""
import argparse
import gc
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from harness import ROOT, database, make_app, migrate_and_seed_areas

# A child timing another checkout's code (--tree): that tree's server and test helpers
# come first on the path.
TREE = Path(os.environ.get("REDFLAG_BENCH_TREE") or ROOT)
sys.path.insert(0, str(TREE))
sys.path.insert(0, str(TREE / "tests"))

from server.extensions import db  # noqa: E402

ENDPOINTS = ("stats", "queue", "deep", "filters", "detail", "pack")
PACK_ROWS = 100_000
CHUNK = 100_000
# Reports arrive every 15 s from T0: 1M reports span 174 days, all in the past.
T0 = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 700
TYPES = ["physical_assault", "robbery", "theft", "refused_to_pay", "threats",
         "harassment_or_stalking", "condom_removal", "outing", "blackmail"]
# 70 % shareable with the police (n % 10 in 0..8 maps to these four; 9 is "none").
CONSENT = ["anonymous_intelligence", "contact_via_project", "full_report", "none"]
STATUSES = ("received", "in_review", "published", "not_published")
SHAREABLE = 0.7
COLUMNS = ("id", "content_hash", "receipt_hash", "status", "received_at", "updated_at",
           "occurred_on", "area_id", "incident_types", "description", "offender",
           "consent_publish", "consent_police", "support_requested", "support_come_back",
           "on_behalf", "perpetrator", "targeted_because")


def report_id(n):
    return uuid.UUID(int=n + 1)


def phone(n):
    """The offender's phone of report n (as written, normalised): 50,000 numbers, so at
    1M reports each is carried by 20 reports."""
    return f"07700 9{n % 50000:05d}", f"+4477009{n % 50000:05d}"


def rows(start, stop, area_ids):
    """Report rows n = start..stop-1 as Python values in COLUMNS order; the same n always
    gives the same row, whatever the chunking."""
    rng = random.Random(start)
    for n in range(start, stop):
        at = T0 + timedelta(seconds=15 * n)
        yield (report_id(n), f"{n:064x}", f"{n:064x}", STATUSES[rng.randrange(4)], at, at,
               date(2024, 1, 1) + timedelta(days=n % DAYS), area_ids[rng.randrange(len(area_ids))],
               rng.sample(TYPES, rng.choice((1, 1, 2, 3))),
               "Bench report: took the money back and left.",
               {"phones": [phone(n)[0]], "build": "slim"},
               True, CONSENT[n % 10 % 4] if n % 10 < 9 else "none", False, False, False,
               (None, "client", "manager_or_venue_staff")[rng.randrange(3)],
               ["sex_work"] if n % 7 == 0 else None)


def load(app, start, stop):
    """Add reports start..stop-1 and one phone identifier each (ids are the numbers, so
    the sizes grow one database); then ANALYZE."""
    with app.app_context():
        from server.areas.models import Area
        area_ids = db.session.execute(db.select(Area.id).order_by(Area.id)).scalars().all()
        engine = db.engine
        if engine.dialect.name == "postgresql":
            _load_postgresql(engine, start, stop, area_ids)
        else:
            _load_sqlite(engine, start, stop, area_ids)
        db.session.remove()


def _load_postgresql(engine, start, stop, area_ids):
    import json
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            json_at = [COLUMNS.index(c) for c in ("incident_types", "offender", "targeted_because")]
            with cursor.copy(f"COPY report ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows(start, stop, area_ids):
                    row = list(row)
                    for i in json_at:
                        if row[i] is not None:
                            row[i] = json.dumps(row[i])
                    copy.write_row(row)
            with cursor.copy("COPY identifier (kind, value, report_id) FROM STDIN") as copy:
                for n in range(start, stop):
                    copy.write_row(("phone", phone(n)[1], report_id(n)))
            # In the transaction, which is committed: `raw.autocommit = True` set an
            # attribute of the pool's proxy, not of the connection, so the ANALYZE ran in
            # a transaction that the pool rolled back, leaving the planner no column
            # statistics (it then scanned the whole table for each batch's linked reports).
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _load_sqlite(engine, start, stop, area_ids):
    """executemany on the driver's own connection, each value converted as SQLAlchemy
    would (its column type's bind processor), so the app reads the rows it wrote."""
    import sqlite3

    from server.identifiers.models import Identifier
    from server.reports.models import Report
    dialect = engine.dialect
    converters = [Report.__table__.c[name].type.bind_processor(dialect) for name in COLUMNS]
    to_id = Identifier.__table__.c.report_id.type.bind_processor(dialect)
    report_sql = (f"INSERT INTO report ({', '.join(COLUMNS)}) "
                  f"VALUES ({', '.join('?' * len(COLUMNS))})")
    connection = sqlite3.connect(engine.url.database, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")  # 256 MiB: the indexes stay in memory
        for chunk in range(start, stop, CHUNK):
            end = min(chunk + CHUNK, stop)
            batch = [tuple(value if value is None or convert is None else convert(value)
                           for convert, value in zip(converters, row, strict=True))
                     for row in rows(chunk, end, area_ids)]
            connection.execute("BEGIN")
            connection.executemany(report_sql, batch)
            connection.executemany(
                "INSERT INTO identifier (kind, value, report_id) VALUES ('phone', ?, ?)",
                [(phone(n)[1], to_id(report_id(n))) for n in range(chunk, end)])
            connection.execute("COMMIT")
        connection.execute("ANALYZE")
    finally:
        connection.close()


# --- Timing ------------------------------------------------------------------------------

def percentiles(times):
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(client, paths, samples, baseline):
    """(p50, p99) in ms of GET paths (a path, or a function of the sample number giving
    one), with /healthz timed right after each (into baseline)."""
    times = []
    for i in range(samples):
        path = paths(i) if callable(paths) else paths
        t = time.perf_counter()
        response = client.get(path)
        response.get_data()
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.get_data()[:300])
        t = time.perf_counter()
        client.get("/healthz").get_data()
        baseline.append((time.perf_counter() - t) * 1000)
    return percentiles(times)


def rss_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def middle_cursor(app, size):
    """The app's own cursor for the middle report: `after` it is a page half-way down."""
    from server.moderation import reading
    from server.moderation.schemas import queue_cursor
    with app.app_context():
        from server.reports.models import Report
        report = db.session.get(Report, report_id(size // 2))
        after = queue_cursor().encode(reading.queue_key(report))
        db.session.remove()
    return after


def pack_window(size):
    """Query string for a pack of at most PACK_ROWS rows: a window of incident days."""
    shareable = size * SHAREABLE
    if shareable <= PACK_ROWS:
        return ""
    days = math.floor(DAYS * PACK_ROWS / shareable)
    first = date(2024, 1, 1)
    return f"?from={first.isoformat()}&to={(first + timedelta(days=days - 1)).isoformat()}"


def measure(app, size, samples, only):
    """{endpoint label: (p50, p99)}, the baseline (p50, p99), and the pack's figures
    (rows, median seconds, MiB grown) or None."""
    from factories import StaffClient
    with app.app_context():
        staff = StaffClient(app, f"bench{uuid.uuid4().hex[:6]}", "admin").client
    baseline, out, pack = [], {}, None
    if "stats" in only:
        # The first read after a bulk load folds the load's changes into the statistics
        # summary (once, in proportion to the reports loaded): timed apart.
        t = time.perf_counter()
        assert staff.get("/api/v1/staff/stats").status_code == 200
        first = (time.perf_counter() - t) * 1000
        out["stats, first read (folds the load)"] = (first, first)
        out["stats"] = timed(staff, "/api/v1/staff/stats", max(5, samples // 2), baseline)
        out["stats, a range of part months"] = timed(
            staff, "/api/v1/staff/stats?from=2024-03-15&to=2025-02-10", max(5, samples // 2),
            baseline)
    if "queue" in only:
        out["queue first page"] = timed(staff, "/api/v1/staff/reports?limit=50", samples,
                                        baseline)
    after = middle_cursor(app, size) if {"deep", "filters"} & only else None
    if "deep" in only:
        out["queue deep page (cursor)"] = timed(
            staff, f"/api/v1/staff/reports?limit=50&after={after}", samples, baseline)
    if "filters" in only:
        for label, query in (("area", "area=camden"), ("area, deep", f"area=camden&after={after}"),
                             ("status", "status=received"),
                             ("status, deep", f"status=received&after={after}"),
                             ("two areas", "area=camden&area=hackney"),
                             ("incident type", "incident_type=robbery"),
                             ("type and status", "incident_type=blackmail&status=received"),
                             ("absent type", "incident_type=drugging"),
                             ("identifier", "identifier_kind=phone&identifier=07700+912345")):
            out[f"queue by {label}"] = timed(
                staff, f"/api/v1/staff/reports?limit=50&{query}", samples, baseline)
    if "detail" in only:
        rng = random.Random(size)
        ids = [report_id(rng.randrange(size)) for _ in range(samples)]
        out["report detail"] = timed(staff, lambda i: f"/api/v1/staff/reports/{ids[i]}",
                                     samples, baseline)
    if "pack" in only:
        count, times, grown = time_pack(staff, size, max(3, samples // 10), baseline)
        out["police pack"] = percentiles(times)
        pack = (count, statistics.median(times) / 1000, grown)
    return out, percentiles(baseline), pack


def time_pack(staff, size, samples, baseline):
    """The pack's rows, its times in ms and the most this process's resident memory grew
    while streaming it (MiB), /healthz timed after each (into baseline)."""
    path = "/api/v1/staff/police-pack.csv" + pack_window(size)
    times, grown, count = [], 0.0, 0
    for _ in range(samples):
        before = peak = rss_mib()
        t = time.perf_counter()
        response = staff.get(path)
        assert response.status_code == 200, response.get_data()[:300]
        count = -1
        for chunk in response.response:
            count += chunk.count(b"\n")
            peak = max(peak, rss_mib())
        response.close()
        times.append((time.perf_counter() - t) * 1000)
        grown = max(grown, peak - before)
        t = time.perf_counter()
        staff.get("/healthz").get_data()
        baseline.append((time.perf_counter() - t) * 1000)
    return count, times, grown


def pack_child(url, size, samples, freeze):
    """--tree's child: the pack timed with this process's tree (REDFLAG_BENCH_TREE); one
    line of JSON on stdout."""
    from factories import StaffClient
    app = make_app(url, RATELIMIT_ENABLED=False)
    with app.app_context():
        staff = StaffClient(app, f"bench{uuid.uuid4().hex[:6]}", "admin").client
    if freeze:
        gc.collect()
        gc.freeze()
    time_pack(staff, size, 1, [])  # a warm-up (imports, first statements): not timed
    baseline = []
    count, times, grown = time_pack(staff, size, samples, baseline)
    with app.app_context():
        db.engine.dispose()
    print(json.dumps({"rows": count, "times": times, "grown": grown, "healthz": baseline}))


def migrate_to(app, tree):
    """Migrate the database to tree's head (down when it is an earlier revision of ours)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade
    head = ScriptDirectory(str(Path(tree) / "server/migrations")).get_current_head()
    with app.app_context():
        with db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if current != head:
            ours = ScriptDirectory(str(ROOT / "server/migrations"))
            earlier = {script.revision for script in ours.iterate_revisions(current, "base")}
            (downgrade if head in earlier else upgrade)(revision=head)
        db.engine.dispose()


def compare_trees(app, url, size, trees, rounds, samples, freeze):
    """The pack with each tree's code, rounds alternating the trees; prints each round
    with the load average, then each tree's medians."""
    results = {tree: [] for tree in trees}
    for number in range(1, rounds + 1):
        for tree in trees:
            migrate_to(app, tree)
            command = [sys.executable, __file__, "--pack-child", url, "--sizes", str(size),
                       "--samples", str(samples)] + (["--no-freeze"] if not freeze else [])
            line = subprocess.run(command, check=True, capture_output=True, text=True,
                                  env=dict(os.environ, REDFLAG_BENCH_TREE=str(tree))
                                  ).stdout.strip().splitlines()[-1]
            result = json.loads(line)
            results[tree].append(result)
            load = " ".join(f"{value:.2f}" for value in os.getloadavg())
            rates = ", ".join(f"{result['rows'] / (ms / 1000):,.0f}" for ms in result["times"])
            print(f"  round {number} {tree}: {result['rows']:,} rows, rows/s {rates}; "
                  f"+{result['grown']:.0f} MiB; load average {load}")
            sys.stdout.flush()
    migrate_to(app, ROOT)
    for tree, runs in results.items():
        times = [ms for run in runs for ms in run["times"]]
        healthz = [ms for run in runs for ms in run["healthz"]]
        rows = runs[-1]["rows"]
        print(f"  police pack, {tree}: {rows:,} rows, median {statistics.median(times) / 1000:.2f}"
              f" s = {rows / (statistics.median(times) / 1000):,.0f} rows/s (best "
              f"{rows / (min(times) / 1000):,.0f}); memory +{max(r['grown'] for r in runs):.0f}"
              f" MiB; /healthz p50 {statistics.median(healthz):.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="both", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated report counts, growing (default: %(default)s)")
    parser.add_argument("--only", default=",".join(ENDPOINTS),
                        help="comma-separated endpoints (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave the app's objects to the cyclic collector"
                             " (production workers freeze them)")
    parser.add_argument("--tree", action="append",
                        help="a checkout whose code times the pack (several: alternating)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of --tree, each streaming the pack samples/10 times")
    parser.add_argument("--pack-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pack_child:
        pack_child(args.pack_child, int(args.sizes), args.samples, not args.no_freeze)
        return
    trees = [str(Path(tree).resolve()) for tree in args.tree or ()]
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    only = set(args.only.split(","))
    unknown = only - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints {sorted(unknown)}; choose from {', '.join(ENDPOINTS)}")
    for engine in engines:
        with database(engine) as url:
            app = make_app(url, RATELIMIT_ENABLED=False)
            migrate_and_seed_areas(app)
            loaded = 0
            for size in sizes:
                t = time.perf_counter()
                load(app, loaded, size)
                print(f"\n{engine}, {size:,} reports (loaded {size - loaded:,} in "
                      f"{time.perf_counter() - t:.1f} s)")
                loaded = size
                if not args.no_freeze:  # as gunicorn.conf.py's post_worker_init does
                    gc.collect()
                    gc.freeze()
                in_process = only - {"pack"} if trees else only
                if not in_process:  # the pack alone, with --tree
                    compare_trees(app, url, size, trees, args.rounds,
                                  max(1, args.samples // 10), not args.no_freeze)
                    continue
                out, (b50, b99), pack = measure(app, size, args.samples, in_process)
                print(f"  {'GET /healthz (baseline)':30} p50 {b50:8.1f} ms  p99 {b99:8.1f} ms")
                for name, (p50, p99) in out.items():
                    print(f"  {name:30} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms"
                          f"   x{p50 / b50:7.1f} / x{p99 / b99:7.1f}")
                if pack:
                    count, seconds, grown = pack
                    print(f"  police pack: {count:,} rows in {seconds:.2f} s (median) = "
                          f"{count / seconds:,.0f} rows/s; resident memory grew {grown:.0f} MiB")
                if trees and "pack" in only:
                    compare_trees(app, url, size, trees, args.rounds,
                                  max(1, args.samples // 10), not args.no_freeze)
                sys.stdout.flush()
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
