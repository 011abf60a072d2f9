"""Backups that restore: `flask backup create` on a running instance under write load, then
`flask backup restore` into a fresh one, which serves every report acknowledged before the
backup began, the alert, the member, the subscription, the same VAPID key, and reporter
contact details that still decrypt. SQLite (online backup API) and PostgreSQL (pg_dump)."""
import base64
import secrets
import shutil
import threading
import time
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.demo import DEMO_INVITE, DEMO_MODERATOR, DEMO_PASSWORD

from .cluster import Deployment, call
from waiting import wait_until  # tests/waiting.py

pytestmark = pytest.mark.scale


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys():
    """The keys a browser's PushSubscription carries (a real P-256 point and 16 bytes)."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": b64(public), "auth": b64(secrets.token_bytes(16))}


def report(n, contact=False):
    body = {"id": str(uuid.uuid4()), "occurred_on": "2026-11-20", "area": "hackney",
            "incident_types": ["robbery"], "description": f"Backup test report {n}.",
            "offender": {"phones": ["07700 900123"]}}
    if contact:
        body["support"] = {"requested": True,
                           "contact": {"name": f"Reporter {n}", "phone": "07700 900456"}}
    return body


def login(url):
    status, body, headers = call(url, "POST", "/api/v1/staff/login",
                                 {"username": DEMO_MODERATOR, "password": DEMO_PASSWORD})
    assert status == 200, body
    cookie = headers["Set-Cookie"].split(";")[0]
    return {"Cookie": cookie, "X-CSRF-Token": body["csrf_token"]}


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_backup_of_a_running_instance_restores_everything(tmp_path, engine):
    if engine == "postgresql" and shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is not installed (Debian: postgresql-client)")
    with Deployment(tmp_path / "live", engine) as live, \
            Deployment(tmp_path / "restored", engine) as restored:
        live.setup()
        url = live.start_host("host")
        status, body, _ = call(url, "POST", "/api/v1/members/redeem", {"code": DEMO_INVITE})
        assert status == 201
        member = {"Authorization": f"Bearer {body['token']}"}
        subscription = {"endpoint": f"http://127.0.0.1:9/push/{uuid.uuid4().hex}",
                        "keys": browser_keys()}
        status, body, _ = call(url, "POST", "/api/v1/push/subscriptions",
                               {"subscription": subscription, "areas": ["hackney"]}, headers=member)
        assert status == 201, body
        subscription_id = body["id"]
        # A published alert, made by a moderator from a report with contact details.
        first = report(0, contact=True)
        status, receipt, _ = call(url, "POST", "/api/v1/reports", first, headers=member)
        assert status == 201
        staff = login(url)
        status, alert, _ = call(url, "POST", "/api/v1/staff/alerts", {
            "reports": [first["id"]], "title": "Backup test alert", "summary": "Took the money.",
            "severity": "dangerous", "incident_types": ["robbery"], "areas": ["hackney"]},
            headers=staff)
        assert status == 201, alert
        status, body, _ = call(url, "POST", f"/api/v1/staff/alerts/{alert['id']}/publish",
                               headers=staff)
        assert status == 200, body
        key = call(url, "GET", "/api/v1/push/key")[1]

        # Write load: 4 senders, each acknowledged report noted with the time of its answer.
        acked, stop = [], threading.Event()

        def sender(k):
            n = 0
            while not stop.is_set():
                n += 1
                body = report(f"{k}-{n}", contact=n % 5 == 0)
                status = call(url, "POST", "/api/v1/reports", body, headers=member)[0]
                if status == 201:
                    acked.append((time.monotonic(), body["id"], "support" in body))
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        try:
            wait_until(lambda: len(acked) >= 50, 60, "50 acknowledged reports")
            began = time.monotonic()
            made = live.flask("backup", "create", str(tmp_path / "backup.tar"))
            after = len(acked)
            wait_until(lambda: len(acked) >= after + 20, 60, "writes after the backup")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        before = {rid for at, rid, _ in acked if at < began} | {first["id"]}
        during = {rid for at, rid, _ in acked if at >= began}
        assert len(before) > 50 and during, (len(before), len(during))
        assert oct((tmp_path / "backup.tar").stat().st_mode & 0o777) == "0o600"

        # A fresh instance: an empty database and instance folder, then restore.
        restore = restored.flask("backup", "restore", str(tmp_path / "backup.tar"),
                                 "--secrets", str(restored.base / "secrets.env"))
        for line in (restored.base / "secrets.env").read_text().splitlines():
            name, _, value = line.partition("=")
            restored.env[name] = value
        url2 = restored.start_host("host")

        ids = {str(uuid.UUID(str(row[0]))) for row in restored.query("SELECT id FROM report")}
        missing = before - ids
        assert not missing, f"{len(missing)} acknowledged reports missing"
        assert ids <= before | during  # nothing that was never sent
        assert call(url2, "GET", "/api/v1/members/me", headers=member)[0] == 200
        status, alerts, _ = call(url2, "GET", "/api/v1/alerts", headers=member)
        assert status == 200 and [a["id"] for a in alerts["alerts"]] == [alert["id"]]
        status, subs, _ = call(url2, "GET", "/api/v1/push/subscriptions", headers=member)
        assert status == 200 and [s["id"] for s in subs] == [subscription_id]
        assert call(url2, "GET", "/api/v1/push/key")[1] == key
        # Receipts (signed with SECRET_KEY) still work, and contact details decrypt.
        status, _, _ = call(url2, "GET", f"/api/v1/reports/{first['id']}/status",
                            headers={"X-Receipt": receipt["receipt"]})
        assert status == 200
        staff2 = login(url2)
        with_contact = [rid for at, rid, contact in acked if at < began and contact][:5]
        assert with_contact
        for rid in with_contact + [first["id"]]:
            status, detail, _ = call(url2, "GET", f"/api/v1/staff/reports/{rid}", headers=staff2)
            assert status == 200, detail
            assert detail["support"]["contact"]["name"].startswith("Reporter "), detail["support"]
        print(f"\n{engine}: {made.stdout.strip()}; acknowledged before the backup "
              f"{len(before)}, during {len(during)}; restored {len(ids)} reports, all "
              f"acknowledged-before present; {restore.stdout.splitlines()[0]}")
