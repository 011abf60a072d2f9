"""Push fan-out: deliveries per second to 10,000 subscriptions on a local endpoint.

Side by side, in one run, on the same machine:
  (a) a plain one-at-a-time pywebpush `webpush()` loop (on a sample), and the same loop
      with a requests.Session (connection reuse), for reference;
  (b) the bare encryption cost: pywebpush's aes128gcm encryption alone (the very call
      the sender makes), in one process, as the sender is one process;
  (c) Redflag's sender (server/push/sender.py) over every subscription: claim from the
      database, encrypt, send with 32 requests in flight over kept-alive connections,
      record the results.

The endpoint is a bare asyncio server in its own process that answers 201, like a push
service that accepted the message. Each figure is the best of --rounds rounds, and the
rounds interleave (a), (b) and (c), so that other work on the machine hits all alike;
CPU time per message (this process only) is printed too. Targets: (c) >= 5 x (a), and
(c) >= 0.5 x (b).

    .venv/bin/python bench/fanout.py [--subscriptions 10000] [--sample 1000] [--rounds 3]
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
    """The local push endpoint: 201 to every POST, keep-alive, and GET /count.

    A push service runs on other machines and costs the sender nothing; this stand-in
    is a bare asyncio protocol (a few microseconds a request) so that it takes as little
    as possible of the CPU the sender and the loops it is compared with run on."""
    import asyncio

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
    return requests.get(f"{base}/count", timeout=5).json()


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


def timed(fn, cpu):
    """Wall-clock seconds of fn(); its CPU seconds (this process only) go to `cpu`."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    cpu.append(time.process_time() - c)
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000,
                        help="pushes for the one-at-a-time loops (they are slow)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="each figure is the best of this many rounds")
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
    app = create_app({"SQLALCHEMY_DATABASE_URI": url,
                      "VAPID_PRIVATE_KEY_FILE": str(tmp / "vapid.pem"),
                      "PUSH_ALLOW_LOCAL_ENDPOINTS": True})
    create_key(app.config["VAPID_PRIVATE_KEY_FILE"])
    vapid = load_key(app.config["VAPID_PRIVATE_KEY_FILE"])
    subject = app.config["VAPID_SUBJECT"]
    n = args.subscriptions
    figures = {"plain": [], "session": [], "encrypt": [], "sender": [], "enqueue": []}
    cpu = {"plain": [], "session": [], "encrypt": [], "sender": []}
    made = {"alerts": []}
    sink, base = start_sink()
    try:
        print(f"fan-out benchmark: {n} subscriptions, {os.cpu_count()} cores, "
              f"{'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}, endpoint {base}, "
              f"best of {args.rounds} rounds")
        keys = receiver_keys(n)
        infos = [{"endpoint": f"{base}/push/{i}", "keys": {"p256dh": p, "auth": a}}
                 for i, (p, a) in enumerate(keys)]
        payload = json.dumps({"alert": str(uuid.uuid4()), "area": "bench",
                              "severity": "dangerous"}, separators=(",", ":"))
        sample = infos[:min(args.sample, n)]
        headers = {"Content-Type": "application/octet-stream", "Urgency": "high"}

        def plain_loop(session=None):
            # As the pywebpush README does it: sign, encrypt, POST, wait; then the next one.
            before = sink_count(base)
            for info in sample:
                webpush(info, payload, vapid_private_key=vapid, vapid_claims={"sub": subject},
                        ttl=86400, headers=headers, requests_session=session)
            assert sink_count(base) - before == len(sample), "the plain loop lost pushes"

        def encrypt_only():
            # The very call the sender makes to encrypt, on every subscription.
            data = payload.encode()
            for info in infos:
                WebPusher(info).encode(data, "aes128gcm")

        with app.app_context():
            upgrade(directory=str(ROOT / "server" / "migrations"))
            region = Region(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench")
            area = Area(slug=region.slug, name="Bench", region=region)
            member = Member(token_hash=hash_token(uuid.uuid4().hex))
            db.session.add_all([region, area, member])
            db.session.flush()
            made.update(region=region.id, area=area.id, member=member.id)
            rows = [{"id": uuid.uuid4(), "member_id": member.id, "endpoint": info["endpoint"],
                     "p256dh": info["keys"]["p256dh"], "auth": info["keys"]["auth"]}
                    for info in infos]
            db.session.execute(sa.insert(Subscription), rows)
            db.session.execute(sa.insert(subscription_area),
                               [{"subscription_id": r["id"], "area_id": area.id} for r in rows])
            db.session.commit()

            # Rounds interleave the three, so a busy moment on the machine hits them alike.
            for _ in range(args.rounds):
                figures["plain"].append(len(sample) / timed(plain_loop, cpu["plain"]))
                with requests.Session() as session:
                    figures["session"].append(
                        len(sample) / timed(lambda: plain_loop(session), cpu["session"]))
                figures["encrypt"].append(n / timed(encrypt_only, cpu["encrypt"]))

                alert = alerts.new_alert(title="Bench", summary="Bench", severity="dangerous",
                                         areas=[db.session.get(Area, made["area"])])
                db.session.commit()
                made["alerts"].append(alert.id)
                t = time.perf_counter()
                queued = alerts.publish(alert)
                db.session.commit()
                figures["enqueue"].append(time.perf_counter() - t)
                assert queued == n, queued
                before = sink_count(base)
                seconds = timed(lambda: Sender(app).run_once(), cpu["sender"])
                figures["sender"].append(n / seconds)
                counts = delivery_counts(alert.id)
                assert counts["sent"] == n, counts
                assert sink_count(base) - before == n, "the endpoint did not get every push"
                db.session.remove()
    finally:
        sink.terminate()
        sink.wait()
        if "region" in made:
            with app.app_context():
                # Leave a shared database as we found it.
                ids = made["alerts"]
                db.session.execute(sa.delete(Delivery).where(Delivery.alert_id.in_(ids)))
                db.session.execute(sa.delete(Alert).where(Alert.id.in_(ids)))
                for model, key in ((Member, "member"), (Area, "area"), (Region, "region")):
                    if key in made:
                        db.session.execute(sa.delete(model).where(model.id == made[key]))
                db.session.commit()

    plain, session, encrypt, sender = (max(figures[k]) for k in
                                       ("plain", "session", "encrypt", "sender"))
    every = {k: " ".join(f"{v:.0f}" for v in figures[k]) for k in figures}
    # CPU time per message in this process (the endpoint runs in its own): steadier than
    # rates when other work shares the machine.
    us = {k: min(cpu[k]) / (n if k in ("encrypt", "sender") else len(sample)) * 1e6
          for k in cpu}
    print(f"  enqueue, one INSERT ... SELECT      {min(figures['enqueue']) * 1000:6.0f} ms "
          f"for {n} deliveries")
    print(f"  (a) plain webpush() loop            {plain:6.0f} pushes/s      "
          f"{us['plain']:5.0f} us CPU each  (sample of {len(sample)}; rounds: {every['plain']})")
    print(f"      same, with a requests.Session   {session:6.0f} pushes/s      "
          f"{us['session']:5.0f} us CPU each  (rounds: {every['session']})")
    print(f"  (b) encryption only, one process    {encrypt:6.0f} messages/s    "
          f"{us['encrypt']:5.0f} us CPU each  (rounds: {every['encrypt']})")
    print(f"  (c) sender, 32 in flight            {sender:6.0f} deliveries/s  "
          f"{us['sender']:5.0f} us CPU each  ({n} each round; rounds: {every['sender']})")
    print(f"  sender / plain loop                 {sender / plain:6.1f} x   (target >= 5)")
    print(f"  sender / plain loop with Session    {sender / session:6.1f} x")
    print(f"  sender / encryption only            {sender / encrypt:6.2f}     (target >= 0.5; "
          f"by CPU time {us['encrypt'] / us['sender']:.2f})")

if __name__ == "__main__":
    main()
