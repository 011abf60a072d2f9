"""The whole loop with real parts: a report synced from a phone's outbox, moderated and
published through the staff API, sent by the push sender to the real local push service
(web-push-testing), which receives exactly one encrypted message per subscription in the
alert's areas, and nothing for the others."""
import json
import time
import uuid
from datetime import date, timedelta

import pytest

from server.accounts import service as accounts
from server.alerts.models import Alert
from server.extensions import db
from server.push import embedded

from .conftest import publish_alert, run_sender, subscribe, worker

PASSWORD = "a long staff passphrase"


@pytest.fixture
def app_config(app_config):
    # The push fixtures' settings (a VAPID key file of this test's own), and quick
    # password hashing for the moderator's login.
    return {**app_config, "PASSWORD_HASH_FAST": True}


def a_report(area):
    return {
        "id": str(uuid.uuid4()),
        "occurred_on": (date.today() - timedelta(days=1)).isoformat(),
        "part_of_day": "night",
        "area": area,
        "incident_types": ["robbery", "posing_as_police"],
        "description": "Showed a badge, said he was police, took the money.",
        "offender": {"phones": ["07700 900123"], "vehicle": {"plate": "AB12 CDE"}},
        "consent": {"publish": True, "police": "none"},
    }


def test_report_to_push_message(app, client, areas, vapid_key, push_service):
    # A moderator logs in; a member device joins with an invite.
    accounts.create_staff("mod", PASSWORD, "moderator")
    login = client.post("/api/v1/staff/login", json={"username": "mod", "password": PASSWORD})
    csrf = {"X-CSRF-Token": login.get_json()["csrf_token"]}
    code = client.post("/api/v1/staff/invites", json={}, headers=csrf).get_json()["code"]
    device = app.test_client()
    member = device.post("/api/v1/members/redeem", json={"code": code}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {member}"}

    # Four devices subscribe at the push service, then with us, each for its areas.
    server_key = device.get("/api/v1/push/key").get_json()["public_key"]
    wanted = {"hackney": ["hackney"], "islington": ["islington", "westminster"],
              "camden": ["camden"], "westminster": ["westminster"]}
    devices = {}
    for name, slugs in wanted.items():
        subscription = push_service.subscribe(server_key)
        response = device.post("/api/v1/push/subscriptions", headers=bearer, json={
            "subscription": {"endpoint": subscription["endpoint"],
                             "keys": subscription["keys"]}, "areas": slugs})
        assert response.status_code == 201, response.get_json()
        devices[name] = subscription

    # A worker's phone syncs its outbox (no account, as most reporters).
    phone = app.test_client()
    report = a_report("hackney")
    synced = phone.post("/api/v1/sync", json={"reports": [report]})
    assert synced.get_json()["results"][0]["result"] == "created"
    receipt = synced.get_json()["results"][0]["receipt"]

    # Moderated and published through the staff API.
    queue = client.get("/api/v1/staff/reports?status=received").get_json()["reports"]
    assert [r["id"] for r in queue] == [report["id"]]
    assert client.get(f"/api/v1/staff/reports/{report['id']}").status_code == 200
    draft = client.post("/api/v1/staff/alerts", headers=csrf, json={
        "reports": [report["id"]], "title": "Fake police officer takes money",
        "summary": "Shows a badge, says he is police, takes the money back.",
        "severity": "dangerous", "incident_types": ["robbery", "posing_as_police"],
        "areas": ["hackney", "islington"],
        "identifiers": [{"kind": "phone", "value": "07700 900123", "display": "masked"},
                        {"kind": "plate", "value": "AB12 CDE", "display": "hidden"}]})
    assert draft.status_code == 201, draft.get_json()
    alert_id = draft.get_json()["id"]
    published = client.post(f"/api/v1/staff/alerts/{alert_id}/publish", headers=csrf)
    assert published.get_json()["deliveries"]["queued"] == 2
    status = phone.get(f"/api/v1/reports/{report['id']}/status", headers={"X-Receipt": receipt})
    assert status.get_json()["status"] == "published"

    # The sender sends what is due, once.
    totals = run_sender(app)
    assert totals["sent"] == 2 and totals["failed"] == 0

    # One message for each device in the alert's areas; it decrypts to the small payload.
    with app.app_context():
        number = db.session.get(Alert, uuid.UUID(alert_id)).number
    for name, area in (("hackney", "hackney"), ("islington", "islington")):
        messages = push_service.messages(devices[name])
        assert len(messages) == 1, name
        assert json.loads(messages[0]) == {"number": number, "alert": alert_id, "area": area,
                                           "severity": "dangerous"}
    for name in ("camden", "westminster"):
        assert push_service.messages(devices[name]) == [], name

    counts = client.get(f"/api/v1/staff/alerts/{alert_id}").get_json()["deliveries"]
    assert counts == {"queued": 0, "sent": 2, "gone": 0, "failed": 0}
    # Nothing is sent twice.
    assert run_sender(app)["sent"] == 0
    assert len(push_service.messages(devices["hackney"])) == 1

    # The device's feed has it; the tapped notification opens it.
    feed = device.get("/api/v1/alerts?area=hackney", headers=bearer).get_json()
    assert [a["id"] for a in feed["alerts"]] == [alert_id]
    opened = device.get(f"/api/v1/alerts/{alert_id}", headers=bearer)
    assert opened.status_code == 200
    # A masked number is shown in the national format of the deployment's region (GB).
    assert opened.get_json()["identifiers"] == [{"kind": "phone", "value": "077•• •••123"}]
    assert opened.get_json()["withheld_identifiers"] == 1
    # And a member checking the number before a meeting finds it.
    checked = device.post("/api/v1/checks", headers=bearer,
                          json={"kind": "phone", "value": "+44 7700 900123"}).get_json()
    assert [a["id"] for a in checked["alerts"]] == [alert_id]

    # Retracted: the device's next sync tells it to drop the alert.
    assert client.post(f"/api/v1/staff/alerts/{alert_id}/retract", headers=csrf).status_code == 200
    later = device.get(f"/api/v1/alerts?since={feed['now']}", headers=bearer).get_json()
    assert later["alerts"] == [] and later["retracted"] == [alert_id]
    assert device.get(f"/api/v1/alerts/{alert_id}", headers=bearer).status_code == 404


# --- The sender wakes when an alert is published --------------------------------------------
# The poll is set far beyond the wait: a message that arrives came by the wake-up (a NOTIFY
# on PostgreSQL, a datagram to the sender's socket on SQLite), never by the poll.

POLL = 120
WAIT = 45


def wait_for_messages(push_service, subscription, process):
    deadline = time.monotonic() + WAIT
    while not (messages := push_service.messages(subscription)):
        if process is not None and process.poll() is not None:
            pytest.fail("the worker exited: " + process.stdout.read().decode())
        assert time.monotonic() < deadline, "no push: the sender did not wake on publish"
        time.sleep(0.1)
    return [json.loads(m) for m in messages]


def first_then_second(member, public_key, push_service, start):
    """Start a sender; publish once, see it sent (the sender is idle after it, waiting
    POLL seconds), then publish again: the second message can only come from the wake-up."""
    first_device, second_device = (push_service.subscribe(public_key) for _ in range(2))
    subscribe(member, first_device, ["hackney"])
    subscribe(member, second_device, ["camden"])
    process = start()
    first, _ = publish_alert(["hackney"])
    assert wait_for_messages(push_service, first_device, process)[0]["alert"] == str(first.id)
    time.sleep(0.5)  # let it go back to sleep
    second, _ = publish_alert(["camden"])
    assert wait_for_messages(push_service, second_device, process) == [
        {"number": second.number, "alert": str(second.id), "area": "camden",
         "severity": "dangerous"}]


def test_worker_process_wakes_on_publish(app, areas, member, public_key, push_service):
    processes = []

    def start():
        processes.append(worker(app, PUSH_POLL_SECONDS=POLL))
        return processes[0]

    try:
        first_then_second(member, public_key, push_service, start)
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)


def test_sender_in_the_web_server_wakes_on_publish(app, areas, member, public_key,
                                                   push_service):
    app.config.update(PUSH_WORKER_IN_PROCESS=True, PUSH_POLL_SECONDS=POLL)
    try:
        first_then_second(member, public_key, push_service,
                          lambda: embedded.start_in_process(app) and None)
    finally:
        embedded.stop_in_process()
