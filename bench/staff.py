"""Staff pages and exports as the reports grow: statistics, the queue (first page and a
deep page), a report's detail, and the police-pack CSV, at 10k / 100k (/ 1M) reports.

Loads each size with a bulk loader (COPY on PostgreSQL, executemany in transactions of
50,000 on SQLite), then times each endpoint through the whole application stack (Flask
test client -> staff session -> view -> service -> database), with GET /healthz (one
`SELECT 1`) interleaved as the same-run baseline; prints p50/p99 and the ratio. The police
pack is timed once per size: rows/s and how much this process's peak memory grew.

    .venv/bin/python bench/staff.py [--engine sqlite|postgresql|both] [--sizes 10000,100000]
                                    [--samples 40]
"""
import argparse
import json
import random
import resource
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from harness import database, make_app, migrate_and_seed_areas

from server.extensions import db

TYPES = ["physical_assault", "robbery", "theft", "refused_to_pay", "threats",
         "harassment_or_stalking", "condom_removal", "outing_or_blackmail"]
CONSENT = ["anonymous_intelligence", "contact_via_project", "full_report", "none"]
COLUMNS = ("id", "content_hash", "receipt_hash", "status", "received_at", "updated_at",
           "occurred_on", "area_id", "incident_types", "description", "offender",
           "consent_publish", "consent_police", "support_requested", "on_behalf",
           "perpetrator", "targeted_because")


def rows(start, stop, area_ids, now):
    rng = random.Random(start)
    for n in range(start, stop):
        types = rng.sample(TYPES, rng.choice((1, 1, 2, 3)))
        yield (uuid.UUID(int=n + 1), f"{n:064x}", f"{n:064x}",
               rng.choice(("received", "in_review", "published", "rejected")),
               now - timedelta(seconds=stop - n), now - timedelta(seconds=stop - n),
               date(2024, 1, 1) + timedelta(days=n % 700), rng.choice(area_ids),
               json.dumps(types), "Bench report: took the money back and left.",
               json.dumps({"phones": [f"07700 9{n % 50000:05d}"], "build": "slim"}),
               True, CONSENT[n % 10 % 4] if n % 10 < 9 else "none", False, False,
               rng.choice((None, "client", "manager")),
               json.dumps(["sex_work"]) if n % 7 == 0 else None)


def load(app, start, stop):
    """Add reports start..stop (ids are the numbers, so sizes grow one database)."""
    with app.app_context():
        from server.areas.models import Area
        area_ids = db.session.execute(db.select(Area.id)).scalars().all()
        now = datetime.now(UTC)
        engine = db.engine
        if engine.dialect.name == "postgresql":
            raw = engine.raw_connection()
            try:
                with raw.cursor() as cursor:
                    with cursor.copy(f"COPY report ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                        for row in rows(start, stop, area_ids, now):
                            copy.write_row(row)
                    cursor.execute(
                        "INSERT INTO identifier (kind, value, report_id) "
                        "SELECT 'phone', '+4477009' || lpad(((n - 1) %% 50000)::text, 5, '0'), id "
                        "FROM (SELECT id, ('x' || substr(replace(id::text, '-', ''), 17))"
                        "::bit(64)::bigint AS n FROM report) r WHERE n > %s AND n <= %s",
                        (start, stop))
                raw.commit()
            finally:
                raw.close()
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        else:
            from server.identifiers.models import Identifier
            from server.reports.models import Report
            table = Report.__table__
            for chunk in range(start, stop, 50_000):
                batch = [dict(zip(COLUMNS, row, strict=True)) for row in
                         rows(chunk, min(chunk + 50_000, stop), area_ids, now)]
                for row in batch:
                    for key in ("incident_types", "offender", "targeted_because"):
                        row[key] = json.loads(row[key]) if row[key] else None
                with engine.begin() as conn:
                    conn.execute(table.insert(), batch)
                    conn.execute(Identifier.__table__.insert(), [
                        {"kind": "phone", "value": f"+4477009{(row['id'].int - 1) % 50000:05d}",
                         "report_id": row["id"]} for row in batch])
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")


def timed(client, path, samples, baseline):
    """(p50, p99) in ms of path, and of /healthz interleaved (into baseline)."""
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        t = time.perf_counter()
        client.get("/healthz")
        baseline.append((time.perf_counter() - t) * 1000)
    return percentiles(times)


def percentiles(times):
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def rss_mib():
    """This process's resident memory now (the peak, ru_maxrss, was set by the loader)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def measure(app, size, samples):
    from tests.api.staff import StaffClient
    with app.app_context():
        username = f"bench{uuid.uuid4().hex[:6]}"
        staff = StaffClient(app, username, "admin").client
        some_id = uuid.UUID(int=size // 2)
        baseline, out = [], {}
        out["stats"] = timed(staff, "/api/v1/staff/stats", max(5, samples // 4), baseline)
        out["queue first page"] = timed(staff, "/api/v1/staff/reports?limit=50", samples,
                                        baseline)
        deep = max(0, size // 2)
        out[f"queue at offset {deep}"] = timed(
            staff, f"/api/v1/staff/reports?limit=50&offset={deep}", samples, baseline)
        out["report detail"] = timed(staff, f"/api/v1/staff/reports/{some_id}", samples,
                                     baseline)
        before = peak = rss_mib()
        t = time.perf_counter()
        response = staff.get("/api/v1/staff/police-pack.csv")
        count = -1
        for chunk in response.response:
            count += chunk.count(b"\n")
            peak = max(peak, rss_mib())
        seconds = time.perf_counter() - t
        grown = peak - before
        return out, percentiles(baseline), (count, seconds, grown)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    sizes = [int(s) for s in args.sizes.split(",")]
    for engine in engines:
        with database(engine) as url:
            app = make_app(url, PASSWORD_HASH_FAST=True, RATELIMIT_ENABLED=False)
            migrate_and_seed_areas(app)
            loaded = 0
            for size in sizes:
                t = time.perf_counter()
                load(app, loaded, size)
                print(f"\n{engine}, {size:,} reports (loaded {size - loaded:,} in "
                      f"{time.perf_counter() - t:.1f} s)")
                loaded = size
                out, (b50, b99), (count, seconds, grown) = measure(app, size, args.samples)
                print(f"  {'GET /healthz (baseline)':32} p50 {b50:8.1f} ms  p99 {b99:8.1f} ms")
                for name, (p50, p99) in out.items():
                    print(f"  {name:32} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms"
                          f"   x{p50 / b50:6.1f} / x{p99 / b99:6.1f}")
                print(f"  police pack: {count:,} rows in {seconds:.2f} s = "
                      f"{count / seconds:,.0f} rows/s; peak memory grew {grown:.0f} MiB")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
