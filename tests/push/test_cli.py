"""`flask push keys`, `flask push worker --once`, and the sender inside the web server."""
import os
import stat
import time

from server.extensions import db
from server.push import embedded as push_sender
from server.push.models import Delivery, Subscription

from .conftest import Device, publish_alert, subscribe


def test_keys_made_once_private_and_replaced_only_with_force(app, runner, client, areas, member):
    path = app.config["VAPID_PRIVATE_KEY_FILE"]
    made = runner.invoke(args=["push", "keys"])
    assert made.exit_code == 0 and "written" in made.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = client.get("/api/v1/push/key").get_json()["public_key"]
    assert f"public key: {key}" in made.output

    again = runner.invoke(args=["push", "keys"])
    assert again.exit_code == 0 and "exists" in again.output
    assert client.get("/api/v1/push/key").get_json()["public_key"] == key

    # Replacing the key orphans every subscription (they were made for the old key).
    subscribe(member, Device("https://push.example.net/1"), ["hackney"])
    publish_alert(["hackney"])
    replaced = runner.invoke(args=["push", "keys", "--force"])
    assert replaced.exit_code == 0 and "1 subscriptions removed" in replaced.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert client.get("/api/v1/push/key").get_json()["public_key"] != key
    db.session.expire_all()
    assert db.session.query(Subscription).count() == 0
    assert db.session.query(Delivery).one().status == "gone"


def test_worker_once_sends_what_is_due(app, runner, areas, member, vapid_key, endpoint):
    subscribe(member, Device(endpoint.url("a")), ["hackney"])
    publish_alert(["hackney"])
    result = runner.invoke(args=["push", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output and endpoint.accepted == ["/push/a"]


def test_sender_in_the_web_server_process(app, areas, member, vapid_key, endpoint):
    """What `make run` does (gunicorn's post_worker_init calls start_in_process)."""
    subscribe(member, Device(endpoint.url("a")), ["hackney"])
    publish_alert(["hackney"])
    assert push_sender.start_in_process(app) is None  # off unless PUSH_WORKER_IN_PROCESS
    app.config["PUSH_WORKER_IN_PROCESS"] = True
    thread = push_sender.start_in_process(app)
    try:
        assert push_sender.start_in_process(app) is None  # one sender per process
        deadline = time.monotonic() + 30
        while not endpoint.accepted and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        push_sender.stop_in_process()
    assert not thread.is_alive()
    assert endpoint.accepted == ["/push/a"]
    db.session.commit()
    assert db.session.query(Delivery).one().status == "sent"
