"""SMS: 500 text members in one area, from approval to the last text handed to Kannel.

One run, one engine, the real gateway (Kannel's bearerbox + smsbox with a fake SMSC, and
Kannel's fakesmsc as the phones: tests/kannel.py), the sender deployed as production runs
it (`flask sms worker`, its own process, default settings: one request at a time, a
commit every 8 texts, woken by the publish).

  (a) Redflag: publish an alert to 500 text members (the approval: the transaction that
      queues the texts) -> the sender claims, writes each text in the member's language,
      hands it to smsbox's sendsms, records it. Measured from just before publish() to the
      last text recorded as handed over (its sent_at), and to the last one fakesmsc
      printed; every member got exactly one.
  (b) baseline, same run: Kannel's own throughput: the same 500 texts straight to sendsms
      one after another (as the sender sends them), no database, from the first request
      to the last text handed over, and to the last fakesmsc printed.
  Rounds interleave (a) and (b), after one (a) not counted (the worker's cold start);
  the best of each is reported, and the rate ratio.

    .venv/bin/python bench/sms.py [--engine sqlite|postgresql] [--members 500] [--rounds 3]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # kannel.py: the real gateway for tests and benches

import sqlalchemy as sa  # noqa: E402
from kannel import GATEWAY_NUMBER, PASSWORD, USERNAME, installed, running_kannel  # noqa: E402

SECRET = "bench-gateway-secret-0123456789abcdef"
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"


def database(engine, workdir, admin_url):
    if engine == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    name = f"redflag_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return url, drop


def settings(kannel):
    return {"SMS_GATEWAY": "kannel", "SMS_GATEWAY_SECRET": SECRET,
            "SMS_KANNEL_SENDSMS_URL": kannel.sendsms_url, "SMS_KANNEL_USERNAME": USERNAME,
            "SMS_KANNEL_PASSWORD": PASSWORD, "SMS_FROM": GATEWAY_NUMBER, "SMS_CALLBACK_URL": ""}


def wait_for_texts(phones, count, timeout=120):
    if phones.wait_for(count, timeout) < count:
        raise RuntimeError(f"only {len(phones.received)} of {count} texts arrived")
    return phones.arrival[count - 1]


def baseline(kannel, config, numbers, concurrency):
    """(b): the texts straight to Kannel, no database."""
    from server.sms.gateway import Kannel
    gateway = Kannel(config)
    text = "New safety message from Redflag. Reply READ 1"
    kannel.phones.clear()
    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda n: gateway.send(n, text, "0"), numbers))
    handed = time.monotonic()
    last = wait_for_texts(kannel.phones, len(numbers))
    return handed - start, last - start


def redflag(app, kannel, numbers, round_no):
    """(a): publish -> the running `flask sms worker` -> Kannel."""
    from server.alerts import service as alerts
    from server.areas.service import area_by_slug
    from server.extensions import db
    from server.sms.models import SmsDelivery
    kannel.phones.clear()
    alert = alerts.new_alert(title=f"Bench warning {round_no}", summary="Bench.",
                             severity="dangerous", incident_types=["robbery"],
                             areas=[area_by_slug("hackney")])
    db.session.commit()
    started_at = time.time()
    start = time.monotonic()
    alerts.publish(alert)
    db.session.commit()
    last = wait_for_texts(kannel.phones, len(numbers))
    db.session.expire_all()
    deadline = time.monotonic() + 30
    while True:  # the last round's record can land a moment after its texts arrive
        sent, first_sent, last_sent = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(SmsDelivery.sent_at), sa.func.max(SmsDelivery.sent_at))
            .where(SmsDelivery.alert_id == alert.id, SmsDelivery.status == "sent")).one()
        db.session.rollback()
        if sent == len(numbers) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sent == len(numbers), f"{sent} of {len(numbers)} recorded as sent"
    kannel.phones.settle(quiet=0.5)
    got = sorted(to for _, to, _ in kannel.phones.received)
    assert got == sorted(numbers), "not exactly one text per member"
    stamp = lambda t: (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()  # noqa: E731
    return stamp(last_sent) - started_at, last - start, stamp(first_sent) - started_at


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://@127.0.0.1:5432/test"))
    args = parser.parse_args()
    if not installed():
        sys.exit("Kannel is not installed: `make kannel` (apt-get install kannel kannel-extras)")

    from flask_migrate import upgrade

    from server import create_app
    from server.areas import service as areas
    from server.demo import DEMO_DIR
    from server.extensions import db
    from server.sms import service

    with tempfile.TemporaryDirectory(prefix="redflag-bench-sms-") as tmp:
        workdir = Path(tmp)
        url, drop = database(args.engine, workdir, args.postgres)
        worker = None
        try:
            with running_kannel(workdir, "http://127.0.0.1:9", SECRET) as kannel:
                config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY,
                          "REDFLAG_INSTANCE": str(workdir), **settings(kannel)}
                app = create_app(config)
                with app.app_context():
                    upgrade()
                    areas.import_areas(areas.parse_areas(
                        (DEMO_DIR / "london-areas.csv").read_text(), "csv"))
                    numbers = [f"+4477009{i:05d}" for i in range(args.members)]
                    start = time.monotonic()
                    for number in numbers:
                        service.enrol(None, number, ["hackney"], "en", "neutral")
                    enrolled = time.monotonic() - start
                    env = {**os.environ, "FLASK_APP": "server", "REDFLAG_INSTANCE": str(workdir),
                           "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY,
                           **{k: str(v) for k, v in settings(kannel).items()}}
                    worker = subprocess.Popen([sys.executable, "-m", "flask", "sms", "worker"],
                                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
                    time.sleep(2)  # the worker starts and goes idle, listening
                    redflag(app, kannel, numbers, "warm-up")  # not counted: a cold start
                    concurrency = app.config["SMS_CONCURRENCY"]
                    ours, theirs = [], []
                    for round_no in range(args.rounds):
                        theirs.append(baseline(kannel, app.config, numbers, concurrency))
                        ours.append(redflag(app, kannel, numbers, round_no))
                        db.session.remove()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(10)
            if drop:
                drop()

    n = args.members
    best_ours = min(ours, key=lambda r: r[0])
    best_theirs = min(theirs, key=lambda r: r[0])
    print(f"engine {args.engine}, {n} text members in one area, {args.rounds} rounds, "
          f"{concurrency} request(s) at a time (enrolment: {n / enrolled:,.0f} members/s)")
    print(f"(a) approval -> first text handed to Kannel: "
          f"{', '.join(f'{r[2] * 1000:.0f} ms' for r in ours)} (woken by the publish)")
    for label, (handed, printed, *_) in (("(a) Redflag: approval ->", best_ours),
                                         ("(b) Kannel alone: first request ->", best_theirs)):
        print(f"{label} last handed to Kannel {handed:.2f} s ({n / handed:,.0f} texts/s), "
              f"last at fakesmsc {printed:.2f} s ({n / printed:,.0f} texts/s)")
    print("every round: " + "; ".join(
        f"(a) {a[0]:.2f}/{a[1]:.2f} s (b) {b[0]:.2f}/{b[1]:.2f} s" for a, b in zip(ours, theirs, strict=True))
          + " (handed over / at fakesmsc)")
    print(f"rate (a)/(b), handed to Kannel: {best_theirs[0] / best_ours[0]:.2f}; "
          f"at the phones: {best_theirs[1] / best_ours[1]:.2f}")


if __name__ == "__main__":
    main()
