"""Push: approval -> first push handed over, and 10,000 subscriptions in one area.

Measured in one run, on one engine, with the senders deployed as production runs them:
--senders 0 (the SQLite default) -> the sender inside the (here: this) web-server process,
PUSH_WORKER_IN_PROCESS, as `make run`; --senders N (the PostgreSQL default: one per
core) -> N `flask push worker` processes.

  (1) latency: 20 alerts published one after another (after one to warm up, shown
      apart: the first connection to the push service), each to an area with one
      subscription (--per-alert) at the real local push service (npm web-push-testing,
      as the push tests use). Per alert: from just before publish() (the moderator's
      approval: the transaction that queues the deliveries) to the push service's 201,
      as the sender records it (sent_at; with --per-alert > 1 a group's last, so an
      upper bound for the first). Median and p99.
  (2) fan-out: 10,000 subscriptions in one area (a bare asyncio endpoint in its own
      process answering 201, so the push service costs as little CPU as possible),
      from just before publish() to the last push handed over (the last sent_at), per
      round; every delivery sent, the endpoint got each once.
  (b) baseline, same run, same cores: pywebpush's aes128gcm encryption alone (the call
      the sender makes), in as many processes as the senders use (one for the embedded
      sender: it is one process), interleaved with the rounds of (2).

    .venv/bin/python bench/fanout.py [--engine sqlite|postgresql] [--subscriptions 10000]
                                     [--rounds 3] [--alerts 20] [--senders N]

PostgreSQL: a database of its own is made on --postgres (the server's admin URL) and
dropped afterwards. Needs `make node` (web-push-testing).
"""
import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # pushservice.py: the local push service runner
from harness import free_port  # noqa: E402 (the path above first)

PAYLOAD = json.dumps({"alert": str(uuid.uuid4()), "area": "bench", "severity": "dangerous"},
                     separators=(",", ":")).encode()


# --- The bare local endpoint for the fan-out ----------------------------------------------

def run_sink(port):
    """201 to every POST, keep-alive, and GET /count: a push service that accepts, at a
    few microseconds a request (a real one runs on other machines and costs us nothing)."""
    received = [0]

    class Endpoint(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buffer = transport, b""

        def data_received(self, data):
            self.buffer += data
            while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
                head = self.buffer[:end].lower()
                at = head.find(b"content-length:")
                length = int(head[at + 15:].split(b"\r\n", 1)[0]) if at >= 0 else 0
                if len(self.buffer) < end + 4 + length:
                    return
                self.buffer = self.buffer[end + 4 + length:]
                if head.startswith(b"get /count"):
                    body = str(received[0]).encode()
                    self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                else:
                    received[0] += 1
                    self.transport.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")

    async def serve():
        server = await asyncio.get_running_loop().create_server(Endpoint, "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(serve())


def start_sink():
    import requests
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--sink", str(port)])
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/count", timeout=1)
            return process, f"http://127.0.0.1:{port}"
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("the local push endpoint did not start")


def sink_count(base):
    import requests
    return requests.get(f"{base}/count", timeout=5).json()


# --- Encryption only, the baseline --------------------------------------------------------

def receiver_keys(n):
    """n subscriptions' keys, as browsers make them (P-256 public key, 16-byte secret)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    keys = []
    for _ in range(n):
        public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        keys.append((b64(public), b64(os.urandom(16))))
    return keys


def encrypt_all(keys):
    from pywebpush import WebPusher
    for p256dh, auth in keys:
        WebPusher({"endpoint": "https://x/", "keys": {"p256dh": p256dh, "auth": auth}}).encode(
            PAYLOAD, "aes128gcm")
    return len(keys)


def encryption_rate(pool, keys, processes):
    """Messages per second, encrypting every key once, split over `processes`."""
    parts = [keys[i::processes] for i in range(processes)]
    t = time.perf_counter()
    assert sum(pool.map(encrypt_all, parts)) == len(keys)
    return len(keys) / (time.perf_counter() - t)


# --- The run --------------------------------------------------------------------------------

def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", default="postgresql+psycopg://@127.0.0.1:5432/test",
                        help="PostgreSQL admin URL: the bench makes and drops its own database")
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--alerts", type=int, default=20)
    parser.add_argument("--per-alert", type=int, default=1,
                        help="subscriptions at the local push service in each latency area")
    parser.add_argument("--senders", type=int,
                        help="`flask push worker` processes; 0: the sender inside this process "
                             "(default: 0 on SQLite, one per core on PostgreSQL)")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        return run_sink(args.sink)
    if args.senders is None:
        args.senders = 0 if args.engine == "sqlite" else os.cpu_count()

    import sqlalchemy as sa

    tmp = Path(tempfile.mkdtemp(prefix="redflag-bench-"))
    admin = name = None
    if args.engine == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        name = f"redflag_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(args.postgres).set(database=name).render_as_string(
            hide_password=False)
    try:
        run(args, url, tmp)
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def run(args, url, tmp):
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from server import create_app
    from server.accounts.models import Member
    from server.alerts import service as alerts
    from server.areas.models import Area, Region
    from server.clock import utc
    from server.extensions import db
    from server.push import embedded, wake
    from server.push.models import Delivery, Subscription, subscription_area
    from server.push.service import delivery_counts
    from server.push.vapid import create_key, load_key, public_key
    from server.security import hash_token

    from pushservice import running_push_service

    settings = {"SQLALCHEMY_DATABASE_URI": url, "VAPID_PRIVATE_KEY_FILE": str(tmp / "vapid.pem"),
                "PUSH_ALLOW_LOCAL_ENDPOINTS": True}
    in_process = args.senders == 0
    app = create_app({**settings, "PUSH_WORKER_IN_PROCESS": in_process})
    create_key(settings["VAPID_PRIVATE_KEY_FILE"])
    senders = 1 if in_process else args.senders
    workers = []
    sink, base = start_sink()
    n = args.subscriptions
    keys = receiver_keys(n)
    load = os.getloadavg()
    print(f"push benchmark: {args.engine}, {os.cpu_count()} cores, "
          f"load average {load[0]:.2f} {load[1]:.2f} at the start; senders: "
          + ("1, inside this process (PUSH_WORKER_IN_PROCESS)" if in_process
             else f"{senders} `flask push worker` processes"))

    def area(slug):
        region = Region(slug=slug, name=slug)
        made = Area(slug=slug, name=slug, region=region)
        db.session.add_all([region, made])
        db.session.flush()
        return made

    def add_subscriptions(member, area_id, rows):
        rows = [{"id": uuid.uuid4(), "member_id": member.id, "endpoint": endpoint,
                 "p256dh": p256dh, "auth": auth} for endpoint, p256dh, auth in rows]
        db.session.execute(sa.insert(Subscription), rows)
        db.session.execute(sa.insert(subscription_area),
                           [{"subscription_id": r["id"], "area_id": area_id} for r in rows])

    def publish(area_id):
        """Draft first (as moderators make them), then time from the approval."""
        alert = alerts.new_alert(title="Bench", summary="Bench", severity="dangerous",
                                 areas=[db.session.get(Area, area_id)])
        db.session.commit()
        started = time.time()
        queued = alerts.publish(alert)
        db.session.commit()
        return alert.id, queued, started

    def sent_times(alert_id, expected, timeout=60, every=0.01):
        """(first, last) sent_at of the alert's deliveries once all are sent (looked at
        every `every` seconds: the sender records them every 0.2 s anyway)."""
        deadline = time.monotonic() + timeout
        while True:
            counts = delivery_counts(alert_id)
            db.session.rollback()
            if counts["sent"] == expected:
                break
            assert counts["failed"] == counts["gone"] == 0, counts
            assert time.monotonic() < deadline, f"not all sent: {counts}"
            time.sleep(every)
        first, last = db.session.execute(
            sa.select(sa.func.min(Delivery.sent_at), sa.func.max(Delivery.sent_at))
            .where(Delivery.alert_id == alert_id)).one()
        db.session.rollback()
        return utc(first).timestamp(), utc(last).timestamp()

    def wait_for_senders(count, timeout=120):
        """Until `count` senders listen for wake-ups (and so are idle, waiting)."""
        deadline = time.monotonic() + timeout
        while True:
            if db.engine.dialect.name == "postgresql":
                listening = db.session.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND query = :q"), {"q": f"LISTEN {wake.CHANNEL}"}).scalar()
                db.session.rollback()
            else:
                bound = Path("/proc/net/unix").read_text()
                listening = sum(name[1:] in bound for name in wake.socket_names(db.engine.url))
            if listening >= count:
                return
            assert time.monotonic() < deadline, "the senders did not start"
            time.sleep(0.1)

    latencies, fanout, encrypt = [], [], []
    with app.app_context(), running_push_service(tmp) as push_service, \
            multiprocessing.get_context("spawn").Pool(senders) as pool:
        upgrade(directory=str(ROOT / "server" / "migrations"))
        member = Member(token_hash=hash_token(uuid.uuid4().hex))
        db.session.add(member)
        key = public_key(load_key(settings["VAPID_PRIVATE_KEY_FILE"]))
        latency_areas = []
        for i in range(args.alerts + 1):
            made = area(f"latency-{i}")
            devices = [push_service.subscribe(key) for _ in range(args.per_alert)]
            add_subscriptions(member, made.id, [(d["endpoint"], d["keys"]["p256dh"],
                                                 d["keys"]["auth"]) for d in devices])
            latency_areas.append(made.id)
        fan = area("fanout")
        add_subscriptions(member, fan.id, [(f"{base}/push/{i}", p, a)
                                           for i, (p, a) in enumerate(keys)])
        fan_id = fan.id
        db.session.commit()
        db.session.remove()

        if in_process:
            embedded.start_in_process(app)
        else:
            env = dict(os.environ, FLASK_APP="server", DATABASE_URL=url,
                       VAPID_PRIVATE_KEY_FILE=settings["VAPID_PRIVATE_KEY_FILE"],
                       REDFLAG_INSTANCE=str(tmp), PUSH_ALLOW_LOCAL_ENDPOINTS="1")
            workers = [subprocess.Popen([sys.executable, "-m", "flask", "push", "worker"],
                                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL) for _ in range(senders)]
        try:
            wait_for_senders(senders)
            pool.map(encrypt_all, [keys[:200]] * senders)  # warm the pool's imports

            # (1) Approval -> first push handed to the local push service, one alert at a time.
            for area_id in latency_areas:
                alert_id, queued, started = publish(area_id)
                assert queued == args.per_alert
                first, _ = sent_times(alert_id, queued)
                latencies.append((first - started) * 1000)
                time.sleep(0.2)
            warm_up = latencies.pop(0)

            # (2) 10,000 in one area, rounds interleaved with the baseline (b).
            for _ in range(args.rounds):
                encrypt.append(encryption_rate(pool, keys, senders))
                before = sink_count(base)
                alert_id, queued, started = publish(fan_id)
                assert queued == n, queued
                _, last = sent_times(alert_id, n, timeout=120, every=0.5)
                fanout.append(last - started)
                assert sink_count(base) - before == n, "the endpoint did not get every push"
                time.sleep(0.5)
        finally:
            if in_process:
                embedded.stop_in_process()
            for worker in workers:
                worker.terminate()
                worker.wait(30)
            sink.terminate()
            sink.wait()
            db.session.remove()
            db.engine.dispose()

    load = os.getloadavg()
    rates = [n / seconds for seconds in fanout]
    best = min(range(len(fanout)), key=fanout.__getitem__)
    print(f"  load average at the end            {load[0]:.2f} {load[1]:.2f}")
    print(f"  (1) approval -> first push handed over, {len(latencies)} alerts x "
          f"{args.per_alert} subscriptions (web-push-testing)")
    print(f"      median {statistics.median(latencies):6.1f} ms   "
          f"p99 {percentile(latencies, 99):6.1f} ms   max {max(latencies):6.1f} ms   "
          "(targets: median <= 50, p99 <= 150)")
    print(f"      each: {' '.join(f'{v:.0f}' for v in latencies)}   "
          f"(the warm-up alert before them: {warm_up:.0f})")
    print(f"  (2) {n} subscriptions in one area: approval -> last push handed over")
    print(f"      rounds: {' '.join(f'{s:.2f} s' for s in fanout)}   (target <= 4 s)")
    print(f"      rate:   {' '.join(f'{r:.0f}/s' for r in rates)}")
    print(f"  (b) encryption only, {senders} process(es): "
          f"{' '.join(f'{r:.0f}/s' for r in encrypt)}")
    print(f"      sender / encryption only, same round: "
          f"{' '.join(f'{r / e:.2f}' for r, e in zip(rates, encrypt, strict=True))}  "
          f"(best round {rates[best] / encrypt[best]:.2f})")


if __name__ == "__main__":
    main()
