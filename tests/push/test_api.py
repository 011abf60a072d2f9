"""The push API: the server key, and members' device subscriptions."""
import base64
import os
import stat
import uuid

import pytest

from server.extensions import db
from server.push.models import Delivery, Subscription

from .conftest import Device, make_member, publish_alert, subscribe

SUBS = "/api/v1/push/subscriptions"


def body(device, areas=("hackney",)):
    return {"subscription": device.subscription, "areas": list(areas)}


def test_key_is_the_public_point_of_the_key_file(client, vapid_key, runner):
    reply = client.get("/api/v1/push/key")
    assert reply.status_code == 200
    key = reply.get_json()["public_key"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4 and "=" not in key
    assert stat.S_IMODE(os.stat(vapid_key).st_mode) == 0o600
    assert f"public key: {key}" in runner.invoke(args=["push", "keys"]).output


def test_key_before_setup_is_503_not_500(client):
    reply = client.get("/api/v1/push/key")
    assert reply.status_code == 503
    assert "flask push keys" in reply.get_json()["message"]


def test_subscribe_change_list_delete(client, areas, member, auth):
    device = Device("https://push.example.net/send/abc")
    reply = client.post(SUBS, json=body(device, ["hackney", "camden"]), headers=auth)
    assert reply.status_code == 201
    created = reply.get_json()
    assert created["areas"] == ["camden", "hackney"]
    assert set(created) == {"id", "endpoint", "areas", "created_at", "updated_at"}
    assert created["created_at"].endswith("+00:00")

    # The same device again (same endpoint): an update, not a second subscription.
    again = client.post(SUBS, json=body(device, ["islington"]), headers=auth)
    assert again.status_code == 200 and again.get_json()["id"] == created["id"]
    assert again.get_json()["areas"] == ["islington"]

    changed = client.put(f"{SUBS}/{created['id']}", json={"areas": ["camden"]}, headers=auth)
    assert changed.status_code == 200 and changed.get_json()["areas"] == ["camden"]

    listed = client.get(SUBS, headers=auth).get_json()
    assert [s["id"] for s in listed] == [created["id"]]
    assert listed[0]["areas"] == ["camden"]

    assert client.delete(f"{SUBS}/{created['id']}", headers=auth).status_code == 204
    assert client.get(SUBS, headers=auth).get_json() == []
    assert db.session.query(Subscription).count() == 0


def test_browser_tojson_with_expiration_time_is_accepted(client, areas, member, auth):
    device = Device("https://push.example.net/send/abc")
    sub = dict(device.subscription, expirationTime=None)
    reply = client.post(SUBS, json={"subscription": sub, "areas": ["hackney"]}, headers=auth)
    assert reply.status_code == 201


# Fixed ids (no subscription has them): test ids must be the same on every xdist worker.
@pytest.mark.parametrize("method,path", [
    ("get", SUBS), ("post", SUBS), ("put", f"{SUBS}/5b0e4f1c-2d6a-4c3e-8f7b-9a1d2e3f4a5b"),
    ("delete", f"{SUBS}/0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f")])
def test_members_only(client, areas, method, path):
    make_member("revoked-token", revoked=True)
    json = body(Device("https://push.example.net/x")) if method in ("post", "put") else None
    assert getattr(client, method)(path, json=json).status_code == 401
    assert getattr(client, method)(path, json=json, headers={
        "Authorization": "Bearer revoked-token"}).status_code == 401


def test_another_members_subscription_is_not_found(client, areas, member, auth):
    other = make_member("other-token")
    theirs = subscribe(other, Device("https://push.example.net/theirs"), ["hackney"])
    path = f"{SUBS}/{theirs.id}"
    assert client.put(path, json={"areas": ["camden"]}, headers=auth).status_code == 404
    assert client.delete(path, headers=auth).status_code == 404
    assert client.get(SUBS, headers=auth).get_json() == []
    assert client.delete(f"{SUBS}/not-a-uuid", headers=auth).status_code == 404


def _errors(reply):
    assert reply.status_code == 422, reply.get_json()
    return reply.get_json()["errors"]["json"]


def test_validation(client, areas, member, auth):
    device = Device("https://push.example.net/send/abc")
    good = body(device)

    def post(change):
        data = {"subscription": dict(good["subscription"], keys=dict(device.subscription["keys"])),
                "areas": good["areas"]}
        change(data)
        return client.post(SUBS, json=data, headers=auth)

    errors = _errors(post(lambda d: d.update(areas=["hackney", "atlantis"])))
    assert "Unknown area: atlantis" in errors["areas"][0]
    assert "areas" in _errors(post(lambda d: d.update(areas=[])))
    assert "areas" in _errors(post(lambda d: d.update(areas=["Not A Slug"])))
    assert "where" in _errors(post(lambda d: d.update(where={"lat": 51.5, "lon": -0.1})))
    errors = _errors(post(lambda d: d["subscription"]["keys"].update(p256dh="AAAA" * 22)))
    assert "p256dh" in errors["subscription"]["keys"]
    errors = _errors(post(lambda d: d["subscription"]["keys"].update(auth="short")))
    assert "auth" in errors["subscription"]["keys"]
    errors = _errors(post(lambda d: d["subscription"]["keys"].update(extra="x")))
    assert "extra" in errors["subscription"]["keys"]
    for url in ("http://push.example.net/x", "ftp://push.example.net/x", "https://10.0.0.5/x",
                "https://169.254.169.254/latest", "https://user:pw@push.example.net/x",
                "https://" + "a" * 1100 + ".net/x", "not a url", "https://push.example.net/a b",
                "https://push.example.net:99999/x", "https://[fd00::1]/x"):
        errors = _errors(post(lambda d, url=url: d["subscription"].update(endpoint=url)))
        assert "endpoint" in errors["subscription"], url
    assert "subscription" in _errors(post(lambda d: d.pop("subscription")))
    reply = client.put(f"{SUBS}/{uuid.uuid4()}", json={"areas": ["atlantis"]}, headers=auth)
    assert reply.status_code == 422
    assert db.session.query(Subscription).count() == 0


@pytest.fixture
def no_local_endpoints(app):
    app.testing = False
    yield
    app.testing = True


def test_local_endpoints_only_when_allowed(client, areas, member, auth, no_local_endpoints):
    local = body(Device("http://127.0.0.1:8090/notify/x"))
    assert "endpoint" in _errors(client.post(SUBS, json=local, headers=auth))["subscription"]
    client.application.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = True
    assert client.post(SUBS, json=local, headers=auth).status_code == 201


def test_devices_per_member_are_limited(client, app, areas, member, auth):
    app.config["PUSH_MAX_SUBSCRIPTIONS_PER_MEMBER"] = 2
    for n in range(2):
        device = Device(f"https://push.example.net/{n}")
        assert client.post(SUBS, json=body(device), headers=auth).status_code == 201
    reply = client.post(SUBS, json=body(Device("https://push.example.net/3")), headers=auth)
    assert reply.status_code == 409


def test_unsubscribing_stops_queued_deliveries_but_keeps_the_counts(client, areas, member, auth):
    sub = subscribe(member, Device("https://push.example.net/x"), ["hackney"])
    alert, queued = publish_alert(["hackney"])
    assert queued == 1
    assert client.delete(f"{SUBS}/{sub.id}", headers=auth).status_code == 204
    delivery = db.session.query(Delivery).one()
    assert (delivery.status, delivery.subscription_id, delivery.last_error) == (
        "gone", None, "unsubscribed")
