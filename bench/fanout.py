"""Push fan-out: deliveries per second to 10,000 subscriptions on a local endpoint.

Side by side, in one run, on the same machine:
  (a) a plain one-at-a-time pywebpush `webpush()` loop (on a sample), and the same loop
      with a requests.Session (connection reuse), for reference;
  (b) the bare encryption cost: pywebpush's aes128gcm encryption alone, in one process,
      which is what the sender uses (it is one process: one core for Python);
  (c) Redflag's sender (server/push/sender.py) over every subscription: claim, encrypt,
      send with 32 requests in flight over reused connections, record.

The endpoint is a small aiohttp server in its own process that answers 201, like a push
service that accepted the message. Targets: (c) >= 5 x (a), and (c) >= 0.5 x (b).

    .venv/bin/python bench/fanout.py [--subscriptions 10000] [--sample 1000]
                                     [--database-url postgresql+psycopg://...]

SQLite (a temporary file) by default; a PostgreSQL URL must name an existing database;
the benchmark migrates it and removes what it made.
"""
import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_sink(port):
    """The local push endpoint: 201 to every POST, and a count of what it got."""
    from aiohttp import web

    received = {"n": 0}

    async def push(request):
        await request.read()
        received["n"] += 1
        return web.Response(status=201)

    async def count(request):
        return web.json_response(received)

    app = web.Application()
    app.router.add_post("/push/{id}", push)
    app.router.add_get("/count", count)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    return requests.get(f"{base}/count", timeout=5).json()["n"]


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


def rate(n, seconds):
    return n / seconds if seconds else float("inf")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000,
                        help="pushes for the one-at-a-time loops (they are slow)")
    parser.add_argument("--database-url")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        return run_sink(args.sink)

    import requests
    import sqlalchemy as sa
    from flask_migrate import upgrade
    from pywebpush import WebPusher, webpush

    from server import create_app
    from server.accounts.models import Member
    from server.alerts import service as alerts
    from server.alerts.models import Alert
    from server.areas.models import Area, Region
    from server.extensions import db
    from server.push.models import Delivery, Subscription, subscription_area
    from server.push.sender import Sender
    from server.push.service import delivery_counts
    from server.push.vapid import create_key, load_key
    from server.security import hash_token

    tmp = Path(tempfile.mkdtemp(prefix="redflag-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    os.environ.setdefault("REDFLAG_INSTANCE", str(tmp))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url,
                      "VAPID_PRIVATE_KEY_FILE": str(tmp / "vapid.pem"),
                      "PUSH_ALLOW_LOCAL_ENDPOINTS": True})
    create_key(app.config["VAPID_PRIVATE_KEY_FILE"])
    vapid = load_key(app.config["VAPID_PRIVATE_KEY_FILE"])
    subject = app.config["VAPID_SUBJECT"]
    sink, base = start_sink()
    n = args.subscriptions
    print(f"fan-out benchmark: {n} subscriptions, {os.cpu_count()} cores, "
          f"{'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}, endpoint {base}")
    try:
        keys = receiver_keys(n)
        infos = [{"endpoint": f"{base}/push/{i}", "keys": {"p256dh": p, "auth": a}}
                 for i, (p, a) in enumerate(keys)]
        payload = json.dumps({"alert": str(uuid.uuid4()), "area": "bench",
                              "severity": "dangerous"}, separators=(",", ":")).encode()
        sample = infos[:min(args.sample, n)]
        headers = {"Content-Type": "application/octet-stream", "Urgency": "high"}

        # (a) one at a time, as the pywebpush README does it: sign, encrypt, POST, wait.
        before = sink_count(base)
        t = time.perf_counter()
        for info in sample:
            webpush(info, payload.decode(), vapid_private_key=vapid,
                    vapid_claims={"sub": subject}, ttl=86400, headers=headers)
        plain = rate(len(sample), time.perf_counter() - t)
        with requests.Session() as session:
            t = time.perf_counter()
            for info in sample:
                webpush(info, payload.decode(), vapid_private_key=vapid,
                        vapid_claims={"sub": subject}, ttl=86400, headers=headers,
                        requests_session=session)
            plain_session = rate(len(sample), time.perf_counter() - t)
        assert sink_count(base) - before == 2 * len(sample), "the plain loops lost pushes"

        # (b) encryption alone, the sender's own call, on every subscription.
        t = time.perf_counter()
        for info in infos:
            WebPusher(info).encode(payload, "aes128gcm")
        encrypt_only = rate(n, time.perf_counter() - t)

        # (c) the sender: subscriptions in the database, one alert, enqueue, drain.
        with app.app_context():
            upgrade(directory=str(ROOT / "server" / "migrations"))
            region = Region(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench")
            area = Area(slug=region.slug, name="Bench", region=region)
            member = Member(token_hash=hash_token(uuid.uuid4().hex))
            db.session.add_all([region, area, member])
            db.session.flush()
            rows = [{"id": uuid.uuid4(), "member_id": member.id, "endpoint": info["endpoint"],
                     "p256dh": info["keys"]["p256dh"], "auth": info["keys"]["auth"]}
                    for info in infos]
            db.session.execute(sa.insert(Subscription), rows)
            db.session.execute(sa.insert(subscription_area),
                               [{"subscription_id": r["id"], "area_id": area.id} for r in rows])
            alert = alerts.new_alert(title="Bench", summary="Bench", severity="dangerous",
                                     areas=[area])
            db.session.commit()
            t = time.perf_counter()
            queued = alerts.publish(alert)
            db.session.commit()
            enqueue_seconds = time.perf_counter() - t
            assert queued == n, queued

            before = sink_count(base)
            t = time.perf_counter()
            totals = Sender(app).run_once()
            sender_seconds = time.perf_counter() - t
            sender = rate(n, sender_seconds)
            counts = delivery_counts(alert.id)
            assert counts["sent"] == n and totals["sent"] == n, (counts, totals)
            assert sink_count(base) - before == n, "the endpoint did not get every push"

            # Leave a shared database as we found it.
            db.session.execute(sa.delete(Delivery).where(Delivery.alert_id == alert.id))
            db.session.execute(sa.delete(Alert).where(Alert.id == alert.id))
            db.session.execute(sa.delete(Member).where(Member.id == member.id))
            db.session.execute(sa.delete(Area).where(Area.id == area.id))
            db.session.execute(sa.delete(Region).where(Region.id == region.id))
            db.session.commit()
    finally:
        sink.terminate()
        sink.wait()

    print(f"  enqueue (one INSERT ... SELECT)      {n} deliveries in {enqueue_seconds * 1000:.0f} ms")
    print(f"  (a) plain webpush() loop             {plain:8.0f} pushes/s  (sample of {len(sample)})")
    print(f"      same, with a requests.Session    {plain_session:8.0f} pushes/s  (sample of {len(sample)})")
    print(f"  (b) encryption only, one process     {encrypt_only:8.0f} messages/s ({n})")
    print(f"  (c) sender, 32 in flight             {sender:8.0f} deliveries/s ({n} in {sender_seconds:.2f} s)")
    print(f"  sender / plain loop                  {sender / plain:8.1f} x   (target >= 5)")
    print(f"  sender / plain loop with Session     {sender / plain_session:8.1f} x")
    print(f"  sender / encryption only             {sender / encrypt_only:8.2f}     (target >= 0.5)")


if __name__ == "__main__":
    main()
