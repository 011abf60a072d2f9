"""The member feed with 2,000 live alerts: what a first sync and a sync with nothing new
cost in bytes and time, against GET /healthz in the same run.

Loads 2,000 live alerts (each in one or two areas, with identifiers, a realistic title
and summary), then through the whole stack (test client -> member token -> view ->
service -> schema -> compression) times: the first sync as the app does it (GET
/api/v1/alerts/compact?key=number in its default pages, `next` as `before`, brotli as a browser
over HTTPS accepts it) and a sync with `since` when nothing changed; and once, for
comparison, the earlier forms (pages of 200 alert objects, and the single reply).
Goals: first sync < 100 KB, unchanged < 5 KB, p99 of a request <= 100 ms.

    .venv/bin/python bench/feed.py [--engine sqlite|postgresql|both] [--alerts 2000]
"""
import argparse
import gc
import gzip
import json
import random
import statistics
import time
import uuid
from datetime import timedelta
from urllib.parse import quote

import brotli
from harness import database, make_app, migrate_and_seed_areas

from server.extensions import db

HEADERS = {"Authorization": "Bearer bench-member", "Accept-Encoding": "gzip, deflate, br"}
WORDS = ("tall man in a grey van, calls from a withheld number, asks for outcalls, "
         "refused to pay and became violent, took the phone, known around the station, "
         "says he is a police officer, drives a silver estate car").split()


def load(app, alerts, random_ids=False):
    from server.accounts.models import Member
    from server.alerts.models import Alert, alert_area
    from server.alerts.service import members_view
    from server.areas.models import Area
    from server.reports.models import utcnow
    from server.security import hash_token
    with app.app_context():
        area_ids = db.session.execute(db.select(Area.id)).scalars().all()
        rng = random.Random(3)
        now = utcnow()
        rows, links = [], []
        for n in range(alerts):
            # Sequential ids compress far better than the random ones alerts really get.
            aid = uuid.uuid4() if random_ids else uuid.UUID(int=(1 << 100) + n)
            identifiers = [{"kind": "phone", "value": f"07700 9{n:05d}", "display": "masked"},
                           {"kind": "plate", "value": f"AB{n % 100:02d} CDE", "display": "full"}]
            published = now - timedelta(minutes=n + 1)
            rows.append(dict(
                id=aid, title=" ".join(rng.sample(WORDS, 4)).capitalize()[:100],
                summary=" ".join(rng.sample(WORDS, 15)).capitalize() + ".",
                severity=rng.choice(("dangerous", "risky", "nuisance")),
                incident_types=rng.sample(["robbery", "theft", "threats", "physical_assault"], 2),
                # As publishing stores them (a bulk insert fires no ORM event).
                identifiers=identifiers, shown_identifiers=members_view(identifiers),
                created_at=now, published_at=published, changed_at=published,
                number=alerts - n))
            for area_id in rng.sample(area_ids, rng.choice((1, 2))):
                links.append(dict(alert_id=aid, area_id=area_id))
        db.session.execute(db.insert(Alert), rows)
        db.session.execute(db.insert(alert_area), links)
        db.session.add(Member(token_hash=hash_token("bench-member")))
        db.session.commit()


CPU = []  # process CPU ms of each request: the work itself, whatever else the cores run


def get(client, path, headers=HEADERS):
    t, c = time.perf_counter(), time.process_time()
    response = client.get(path, headers=headers)
    elapsed = (time.perf_counter() - t) * 1000
    CPU.append((time.process_time() - c) * 1000)
    assert response.status_code == 200, response.status_code
    return response, elapsed


def body_of(response):
    encoding = response.headers.get("Content-Encoding")
    data = (brotli.decompress(response.data) if encoding == "br"
            else gzip.decompress(response.data) if encoding == "gzip" else response.data)
    return json.loads(data)


APP = "/api/v1/alerts/compact?key=number&"  # as the app asks: alerts known by number


def first_sync(client, path=APP, page=None, headers=HEADERS):
    """The app's first sync: (bytes moved, requests, [ms per request], now, alerts)."""
    moved, times, before, now, count = 0, [], None, None, 0
    while True:
        query = (f"limit={page}&" if page else "") + (f"before={quote(before)}" if before else "")
        response, ms = get(client, path + query, headers)
        moved += len(response.data)
        times.append(ms)
        body = body_of(response)
        count += len(body["alerts"]["number"] if isinstance(body["alerts"], dict) else body["alerts"])
        now = now or body["now"]
        before = body["next"]
        if not before:
            return moved, len(times), times, now, count


def p(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run(engine, alerts, rounds, freeze=True, random_ids=False):
    with database(engine) as url:
        app = make_app(url, RATELIMIT_ENABLED=False)
        migrate_and_seed_areas(app)
        load(app, alerts, random_ids)
        if freeze:  # as gunicorn.conf.py's post_worker_init does in each worker
            gc.collect()
            gc.freeze()
        with app.app_context():
            client = app.test_client()
            page_times, unchanged_times, health, page_cpu = [], [], [], []
            for _ in range(rounds):
                CPU.clear()
                moved, requests, times, now, count = first_sync(client)
                assert count == alerts, count
                page_times += times
                page_cpu += CPU
                response, ms = get(client, f"{APP}since={quote(now)}")
                unchanged_times.append(ms)
                unchanged = len(response.data)
                for _ in range(requests + 1):
                    health.append(get(client, "/healthz", headers={})[1])
            # The earlier forms, once, for comparison: pages of 200 objects with keys, gzip;
            # and the single reply of the first version.
            gzip_moved = first_sync(client, headers={**HEADERS, "Accept-Encoding": "gzip"})[0]
            # The previous app's form: alerts known by id too (an id column).
            ids_moved = first_sync(client, "/api/v1/alerts/compact?key=id&")[0]
            old_moved, old_requests, old_times, _, _ = first_sync(
                client, "/api/v1/alerts?", page=200)
            old, whole_ms = get(client, "/api/v1/alerts", headers={
                "Authorization": HEADERS["Authorization"]})
        b50, b99 = statistics.median(health), p(health, 99)
        print(f"\n{engine}, {alerts:,} live alerts, {rounds} rounds"
              + ("" if freeze else ", without gc.freeze()") + (", random ids" if random_ids else ""))
        print(f"  GET /healthz (baseline)      p50 {b50:6.1f} ms  p99 {b99:6.1f} ms")
        print(f"  first sync (compact): {requests} pages, {moved / 1000:.1f} KB "
              f"({response.headers.get('Content-Encoding') or 'br'}); per page "
              f"p50 {statistics.median(page_times):6.1f} ms  p99 {p(page_times, 99):6.1f} ms"
              f"  (x{statistics.median(page_times) / b50:.0f} / x{p(page_times, 99) / b99:.0f})")
        print(f"  the same with gzip only (a client that does not offer br): {gzip_moved / 1000:.1f} KB")
        print(f"  the same with an id column (key=id, the app before alert numbers): "
              f"{ids_moved / 1000:.1f} KB br")
        print(f"  CPU of this process per page: p50 {statistics.median(page_cpu):6.1f} ms  "
              f"p99 {p(page_cpu, 99):6.1f} ms  (the cores are shared: wall time includes waiting)")
        print(f"  nothing changed: {unchanged} bytes; p50 {statistics.median(unchanged_times):6.1f}"
              f" ms  p99 {p(unchanged_times, 99):6.1f} ms")
        print(f"  before (pages of 200 with keys): {old_requests} pages, {old_moved / 1000:.1f} KB, "
              f"per page p50 {statistics.median(old_times):6.1f} ms")
        print(f"  first version's single reply (no limit, no compression): "
              f"{len(old.data) / 1000:.1f} KB ({len(old.data) / alerts:.0f} bytes an alert), "
              f"{whole_ms:6.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both")
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave the app's objects to the collector (before gunicorn.conf.py froze them)")
    parser.add_argument("--random-ids", action="store_true",
                        help="uuid4 ids, as real alerts have (the default ids are sequential)")
    args = parser.parse_args()
    for engine in (["sqlite", "postgresql"] if args.engine == "both" else [args.engine]):
        run(engine, args.alerts, args.rounds, freeze=not args.no_freeze, random_ids=args.random_ids)


if __name__ == "__main__":
    main()
