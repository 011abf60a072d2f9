"""More than one machine, on this one: two gunicorn hosts (two workers each) and two
`flask push worker` senders on one PostgreSQL database, rate limits in the local Redis.

20 clients (each its own loopback address, as 20 phones) send 1,000 reports through both
hosts at random, resending on any error as the app's outbox does, while one host and one
sender are SIGKILLed and restarted. Then: every acknowledged report is stored exactly once;
the limits hold across both hosts; an alert published afterwards reaches each subscription of
the local push service (web-push-testing) exactly once, with both senders (one of them the
restarted one) claiming deliveries from the same table.

A sender killed while it has messages in flight may send those again after its lease: the
push sender is at-least-once by design (README, Web Push). So the alert is published after
the kills, not during one.
"""
import collections
import http.client
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.demo import DEMO_INVITE, DEMO_MODERATOR, DEMO_PASSWORD

from .cluster import Deployment, call
from pushservice import free_port, running_push_service  # tests/pushservice.py
from waiting import wait_until  # tests/waiting.py

pytestmark = pytest.mark.scale

CLIENTS = 20
REPORTS = 1000
SUBSCRIPTIONS = 12


def new_report(marker, n):
    return {"id": str(uuid.uuid4()), "occurred_on": "2026-11-20", "area": "hackney",
            "incident_types": ["robbery"], "description": f"{marker} report {n}.",
            "offender": {"phones": [f"07700 9{n % 100000:05d}"]}}


class Chaos:
    def __init__(self, deployment, ports):
        self.deployment = deployment
        self.ports = ports
        self.urls = [f"http://127.0.0.1:{port}" for port in ports]
        self.acked = {}           # report id -> status of the acknowledging answer
        self.sent = collections.Counter()
        self.errors = collections.Counter()
        self.lock = threading.Lock()

    def send(self, client, report):
        """Send until acknowledged (201 new, 200 already stored), to a random host each try."""
        source = f"127.0.10.{client + 1}"
        for _ in range(200):
            url = random.choice(self.urls)
            try:
                status, body, _ = call(url, "POST", "/api/v1/reports", report, source=source,
                                       timeout=15)
            except (OSError, http.client.HTTPException) as error:  # cut off: resend, as the outbox does
                with self.lock:
                    self.errors[type(error).__name__] += 1
                time.sleep(0.05)
                continue
            with self.lock:
                self.sent[status] += 1
            if status in (200, 201):
                with self.lock:
                    self.acked[report["id"]] = status
                return
            assert status >= 500 or status == 429, (status, body)
            time.sleep(0.1)
        raise AssertionError(f"report {report['id']} never acknowledged")


def test_two_hosts_two_senders_survive_kills(tmp_path):
    started = time.monotonic()
    marker = f"chaos-{uuid.uuid4().hex[:8]}"
    host_env = {"WEB_CONCURRENCY": "2", "PUSH_MAX_SUBSCRIPTIONS_PER_MEMBER": "100"}
    sender_env = {}  # production settings: woken by publishing
    with Deployment(tmp_path, "postgresql", redis=True) as deployment, \
            running_push_service(tmp_path) as push_service:
        deployment.setup()
        ports = [free_port(), free_port()]
        chaos = Chaos(deployment, ports)
        for n, port in enumerate(ports):
            deployment.start_host(f"host{n}", port=port, env=host_env)
        for n in range(2):
            deployment.start_sender(f"sender{n}", env=sender_env)
        a, b = chaos.urls

        # Subscriptions of a member, made through both hosts, at the local push service.
        status, body, _ = call(a, "POST", "/api/v1/members/redeem", {"code": DEMO_INVITE})
        assert status == 201
        member = {"Authorization": f"Bearer {body['token']}"}
        key = call(a, "GET", "/api/v1/push/key")[1]["public_key"]
        subscriptions = []
        for n in range(SUBSCRIPTIONS):
            subscription = push_service.subscribe(key)
            status, body, _ = call(chaos.urls[n % 2], "POST", "/api/v1/push/subscriptions", {
                "subscription": {"endpoint": subscription["endpoint"],
                                 "keys": subscription["keys"]}, "areas": ["hackney"]},
                headers=member)
            assert status == 201, body
            subscriptions.append(subscription)
        status, staff, headers = call(b, "POST", "/api/v1/staff/login",
                                      {"username": DEMO_MODERATOR, "password": DEMO_PASSWORD})
        assert status == 200
        staff_headers = {"Cookie": headers["Set-Cookie"].split(";")[0],
                         "X-CSRF-Token": staff["csrf_token"]}

        def publish(url, report_id, title):
            status, alert, _ = call(url, "POST", "/api/v1/staff/alerts", {
                "reports": [report_id], "title": title, "summary": "Took the money back.",
                "severity": "dangerous", "incident_types": ["robbery"], "areas": ["hackney"]},
                headers=staff_headers)
            assert status == 201, alert
            status, body, _ = call(url, "POST", f"/api/v1/staff/alerts/{alert['id']}/publish",
                                   headers=staff_headers)
            assert status == 200, body
            return alert["id"]

        def delivered(alert_id):
            """{subscription index: how many messages of this alert it got}"""
            got = {}
            for n, subscription in enumerate(subscriptions):
                messages = push_service.messages(subscription)
                got[n] = sum(1 for m in messages if alert_id in str(m))
            return got

        # 1,000 reports from 20 clients through both hosts; kill host 0 and sender 0 at 300
        # acknowledged, restart them; kill host 1 at 700 and restart it.
        reports = [new_report(marker, n) for n in range(REPORTS)]
        kills = []

        def saboteur():
            wait_until(lambda: len(chaos.acked) >= 300, 120, "300 acknowledged reports")
            deployment.kill("host0")
            deployment.kill("sender0")
            kills.append(("host0+sender0", len(chaos.acked)))
            time.sleep(0.5)
            deployment.start_host("host0", port=ports[0], env=host_env)
            deployment.start_sender("sender0", env=sender_env)
            wait_until(lambda: len(chaos.acked) >= 700, 120, "700 acknowledged reports")
            deployment.kill("host1")
            kills.append(("host1", len(chaos.acked)))
            time.sleep(0.5)
            deployment.start_host("host1", port=ports[1], env=host_env)

        sabotage = threading.Thread(target=saboteur)
        sabotage.start()
        load_started = time.monotonic()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            futures = [pool.submit(lambda c: [chaos.send(c, r) for r in reports[c::CLIENTS]], c)
                       for c in range(CLIENTS)]
            for future in futures:
                future.result(timeout=180)
        load_seconds = time.monotonic() - load_started
        sabotage.join(timeout=120)
        assert [name for name, _ in kills] == ["host0+sender0", "host1"]

        # Every acknowledged report stored exactly once, nothing else stored.
        assert len(chaos.acked) == REPORTS
        rows = deployment.query("SELECT id FROM report WHERE description LIKE :m",
                                m=f"{marker} %")
        stored = collections.Counter(str(uuid.UUID(str(row[0]))) for row in rows)
        assert set(stored) == set(chaos.acked)
        duplicates = sum(count - 1 for count in stored.values())
        assert duplicates == 0

        # An alert published through the restarted host, sent by both senders (one restarted):
        # each subscription gets it exactly once.
        alert_id = publish(a, next(iter(chaos.acked)), "Chaos alert")
        wait_until(lambda: all(delivered(alert_id).values()), 60, "every subscription's push")
        time.sleep(3)  # a second copy, if any sender were to send one, would arrive by now
        counts = delivered(alert_id)
        assert counts == {n: 1 for n in range(SUBSCRIPTIONS)}, counts
        senders_used = deployment.query(
            "SELECT count(*) FROM delivery WHERE alert_id = :a AND status = 'sent'",
            a=uuid.UUID(alert_id))[0][0]
        assert senders_used == SUBSCRIPTIONS

        # The limits hold across both hosts (counted in Redis): alternate hosts from one address.
        statuses = [call(chaos.urls[n % 2], "POST", "/api/v1/reports", {},
                         source="127.0.11.1")[0] for n in range(121)]
        assert statuses == [422] * 120 + [429], statuses[-3:]
        check = {"kind": "phone", "value": "07700 900123"}
        statuses = [call(chaos.urls[n % 2], "POST", "/api/v1/checks", check, headers=member)[0]
                    for n in range(31)]
        assert statuses == [200] * 30 + [429], statuses[-3:]
        elapsed = time.monotonic() - started
        print(f"\nchaos: {REPORTS} reports from {CLIENTS} clients in {load_seconds:.1f} s; "
              f"kills {kills}; answers {dict(chaos.sent)}, connection errors "
              f"{dict(chaos.errors)}; acknowledged {len(chaos.acked)} "
              f"({sum(1 for s in chaos.acked.values() if s == 200)} as resends), stored "
              f"{sum(stored.values())}, duplicates {duplicates}; pushes per subscription "
              f"{sorted(set(counts.values()))} over {SUBSCRIPTIONS} subscriptions; "
              f"limits across hosts: 120 requests then 429, 30 checks then 429; "
              f"total {elapsed:.0f} s")
