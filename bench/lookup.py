"""Check-a-number latency with 100,000 reports and 300,000 identifiers loaded.

Loads a fresh database (SQLite in a temporary file by default, or --database-url naming
an existing, empty PostgreSQL database), then times members' checks through the whole
application stack (Flask test client -> view -> marshmallow -> rate limit -> index
lookup -> alert schema): a mix of numbers that match a live alert, match a hidden one and
match nothing, written in different forms. Alongside, in the same run and the same
stack, it times GET /healthz (a bare request with one `SELECT 1`) as the baseline, and
prints p50 and p99 for both and their ratio. Target: check p99 <= 20 ms.

    .venv/bin/python bench/lookup.py [--reports 100000] [--checks 3000]
                                     [--database-url postgresql+psycopg://...]
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402

AREAS = ["hackney", "camden", "islington", "lambeth", "southwark", "newham", "croydon"]


def phone(n):
    return f"07700 {n:06d}" if n < 1_000_000 else f"07900 {n - 1_000_000:06d}"


def plate(n):
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return (f"{letters[n % 23]}{letters[n // 23 % 23]}{n % 100:02d} "
            f"{letters[n // 529 % 23]}{letters[n // 12167 % 23]}{letters[n // 7 % 23]}")


def load(app, reports, alerts):
    from flask_migrate import upgrade

    from server.accounts.models import Member
    from server.alerts.models import Alert, alert_area
    from server.areas import service as areas
    from server.demo import DEMO_DIR
    from server.identifiers import normalise
    from server.identifiers.models import Identifier
    from server.reports.models import Report
    from server.security import hash_token

    upgrade()
    areas.import_areas(areas.parse_areas((DEMO_DIR / "london-areas.csv").read_text(), "csv"))
    area_ids = {a.slug: a.id for a in areas.list_areas()}
    now = datetime.now(UTC)
    rng = random.Random(7)
    batch = 5000
    for start in range(0, reports, batch):
        rows, idents = [], []
        for n in range(start, min(start + batch, reports)):
            rid = uuid.UUID(int=n + 1)
            offender = {"phones": [phone(n)], "emails": [f"user{n}@example.com"],
                        "vehicle": {"plate": plate(n)}}
            rows.append(dict(
                id=rid, content_hash=f"{n:064d}", receipt_hash=f"{n:064x}", status="received",
                received_at=now, updated_at=now, occurred_on=date(2026, 1, 1) + timedelta(days=n % 300),
                area_id=area_ids[rng.choice(AREAS)], incident_types=["robbery"],
                description="Bench report.", offender=offender, consent_publish=True,
                consent_police="none", support_requested=False, on_behalf=False))
            for kind, value, _ in normalise.from_offender(offender, "GB"):
                idents.append(dict(kind=kind, value=value, report_id=rid))
        db.session.execute(db.insert(Report), rows)
        db.session.execute(db.insert(Identifier), idents)
        db.session.commit()
    for n in range(alerts):
        aid = uuid.UUID(int=(1 << 100) + n)
        display = "hidden" if n % 10 == 0 else ("masked" if n % 3 == 0 else "full")
        db.session.execute(db.insert(Alert).values(
            id=aid, title=f"Alert {n}", summary="Violent when refused.", severity="dangerous",
            incident_types=["robbery"], created_at=now, published_at=now - timedelta(minutes=n),
            identifiers=[{"kind": "phone", "value": phone(n * 37), "display": display}]))
        db.session.execute(db.insert(alert_area).values(alert_id=aid, area_id=area_ids["hackney"]))
        db.session.execute(db.insert(Identifier).values(
            kind="phone", value=normalise.phone(phone(n * 37), "GB"), alert_id=aid, display=display))
    db.session.add(Member(token_hash=hash_token("bench-member")))
    db.session.commit()
    return db.session.execute(db.select(db.func.count()).select_from(Identifier)).scalar()


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(call, n):
    samples = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=2_000)
    parser.add_argument("--checks", type=int, default=3_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'lookup.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CHECK_RATE_LIMIT": "1000000 per hour",
                          "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789"})
        with app.app_context():
            started = time.perf_counter()
            identifiers = load(app, args.reports, args.alerts)
            print(f"loaded {args.reports:,} reports, {identifiers:,} identifiers, "
                  f"{args.alerts:,} live alerts on {db.engine.dialect.name} "
                  f"in {time.perf_counter() - started:.1f} s")
        client = app.test_client()
        headers = {"Authorization": "Bearer bench-member"}
        rng = random.Random(11)
        forms = ["07700 {0:03d} {1:03d}", "+44 7700 {0:03d}{1:03d}", "0044 7700 {0:03d} {1:03d}",
                 "(07700) {0:03d}-{1:03d}"]

        def check(i):
            # A third match a live alert, the rest a report only or nothing at all.
            n = rng.randrange(args.alerts) * 37 if i % 3 == 0 else rng.randrange(args.reports * 2)
            value = rng.choice(forms).format(n // 1000, n % 1000) if n < 1_000_000 else phone(n)
            response = client.post("/api/v1/checks", json={"kind": "phone", "value": value},
                                   headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)

        def health(_):
            assert client.get("/healthz").status_code == 200

        timed(check, 200), timed(health, 200)  # warm up
        checks, baseline = [], []
        for _ in range(3):  # interleave, so machine noise hits both alike
            checks += timed(check, args.checks // 3)
            baseline += timed(health, args.checks // 3)
        rows = [("check a number", checks), ("GET /healthz (baseline)", baseline)]
        print(f"{'':26} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
        for name, samples in rows:
            print(f"{name:26} {percentile(samples, 50):8.2f} {percentile(samples, 99):8.2f} "
                  f"{statistics.fmean(samples):8.2f}")
        p99 = percentile(checks, 99)
        print(f"ratio check/baseline: p50 {percentile(checks, 50) / percentile(baseline, 50):.1f}x, "
              f"p99 {p99 / percentile(baseline, 99):.1f}x")
        print(f"target p99 <= 20 ms: {'met' if p99 <= 20 else 'NOT met'} ({p99:.2f} ms)")
        if args.database_url:
            with app.app_context():
                db.drop_all()
                db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
                db.session.commit()


if __name__ == "__main__":
    main()
