"""The member feed with 2,000 live alerts: what a first sync and a sync with nothing new
cost in bytes and time, against GET /healthz in the same run.

Loads 2,000 live alerts (each in one or two areas, with identifiers, a realistic title
and summary), then through the whole stack (test client -> member token -> view ->
service -> schema -> gzip) times: the first sync as the app does it (pages of 200, `next`
as `before`, gzip), the old single reply (no limit, no gzip) for comparison, and a sync
with `since` when nothing changed. Goals: first sync < 100 KB, unchanged < 5 KB, p99 of
a request <= 100 ms.

    .venv/bin/python bench/feed.py [--engine sqlite|postgresql|both] [--alerts 2000]
"""
import argparse
import random
import statistics
import time
import uuid
from datetime import timedelta
from urllib.parse import quote

from harness import database, make_app, migrate_and_seed_areas

from server.extensions import db

HEADERS = {"Authorization": "Bearer bench-member", "Accept-Encoding": "gzip, deflate, br"}
WORDS = ("tall man in a grey van, calls from a withheld number, asks for outcalls, "
         "refused to pay and became violent, took the phone, known around the station, "
         "says he is a police officer, drives a silver estate car").split()


def load(app, alerts):
    from server.accounts.models import Member
    from server.alerts.models import Alert, alert_area
    from server.areas.models import Area
    from server.reports.models import utcnow
    from server.security import hash_token
    with app.app_context():
        area_ids = db.session.execute(db.select(Area.id)).scalars().all()
        rng = random.Random(3)
        now = utcnow()
        rows, links = [], []
        for n in range(alerts):
            aid = uuid.UUID(int=(1 << 100) + n)
            rows.append(dict(
                id=aid, title=" ".join(rng.sample(WORDS, 4)).capitalize()[:100],
                summary=" ".join(rng.sample(WORDS, 15)).capitalize() + ".",
                severity=rng.choice(("dangerous", "risky", "nuisance")),
                incident_types=rng.sample(["robbery", "theft", "threats", "physical_assault"], 2),
                identifiers=[{"kind": "phone", "value": f"07700 9{n:05d}", "display": "masked"},
                             {"kind": "plate", "value": f"AB{n % 100:02d} CDE", "display": "full"}],
                created_at=now, published_at=now - timedelta(minutes=n + 1)))
            for area_id in rng.sample(area_ids, rng.choice((1, 2))):
                links.append(dict(alert_id=aid, area_id=area_id))
        db.session.execute(db.insert(Alert), rows)
        db.session.execute(db.insert(alert_area), links)
        db.session.add(Member(token_hash=hash_token("bench-member")))
        db.session.commit()


def get(client, path, headers=HEADERS):
    t = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = (time.perf_counter() - t) * 1000
    assert response.status_code == 200, response.status_code
    return response, elapsed


def first_sync(client, page=200):
    """The app's first sync: (bytes moved, requests, [ms per request], now)."""
    moved, times, before, now = 0, [], None, None
    while True:
        path = f"/api/v1/alerts?limit={page}" + (f"&before={quote(before)}" if before else "")
        response, ms = get(client, path)
        moved += len(response.data)
        times.append(ms)
        body = response.get_json() if "Content-Encoding" not in response.headers else None
        if body is None:
            import gzip
            import json
            body = json.loads(gzip.decompress(response.data))
        now = now or body["now"]
        before = body["next"]
        if not before:
            return moved, len(times), times, now


def p(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run(engine, alerts, rounds):
    with database(engine) as url:
        app = make_app(url, RATELIMIT_ENABLED=False)
        migrate_and_seed_areas(app)
        load(app, alerts)
        with app.app_context():
            client = app.test_client()
            page_times, unchanged_times, health, whole_times = [], [], [], []
            for _ in range(rounds):
                moved, requests, times, now = first_sync(client)
                page_times += times
                response, ms = get(client, f"/api/v1/alerts?limit=200&since={quote(now)}")
                unchanged_times.append(ms)
                unchanged = len(response.data)
                old, ms = get(client, "/api/v1/alerts", headers={
                    "Authorization": HEADERS["Authorization"]})
                whole_times.append(ms)
                for _ in range(requests + 1):
                    health.append(get(client, "/healthz", headers={})[1])
        b50, b99 = statistics.median(health), p(health, 99)
        print(f"\n{engine}, {alerts:,} live alerts, {rounds} rounds")
        print(f"  GET /healthz (baseline)      p50 {b50:6.1f} ms  p99 {b99:6.1f} ms")
        print(f"  first sync: {requests} pages, {moved / 1000:.1f} KB gzipped; per page "
              f"p50 {statistics.median(page_times):6.1f} ms  p99 {p(page_times, 99):6.1f} ms"
              f"  (x{statistics.median(page_times) / b50:.0f} / x{p(page_times, 99) / b99:.0f})")
        print(f"  nothing changed: {unchanged} bytes; p50 {statistics.median(unchanged_times):6.1f}"
              f" ms  p99 {p(unchanged_times, 99):6.1f} ms")
        print(f"  old single reply (no limit, no gzip): {len(old.data) / 1000:.1f} KB "
              f"({len(old.data) / alerts:.0f} bytes an alert), "
              f"p50 {statistics.median(whole_times):6.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="both")
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    for engine in (["sqlite", "postgresql"] if args.engine == "both" else [args.engine]):
        run(engine, args.alerts, args.rounds)


if __name__ == "__main__":
    main()
