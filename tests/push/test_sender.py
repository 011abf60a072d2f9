"""The sender against the real local push service and a scriptable local endpoint:
what it sends, to whom, once; and what it does with 410, 429, errors and timeouts."""
import asyncio
import base64
import json
from datetime import timedelta

from py_vapid import Vapid

from server.alerts import service as alerts
from server.areas.service import area_by_slug
from server.extensions import db
from server.push.models import Delivery, Subscription
from server.push.service import delivery_counts
from server.push.vapid import load_key
from server.push.vapid import public_key as public_key_of

from .conftest import Clock, Device, publish_alert, run_sender, subscribe
from pushservice import refusing_port


def jwt_claims(authorization):
    token = authorization.split("t=", 1)[1].split(",", 1)[0]
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_one_message_per_subscription_in_the_alerts_areas(app, areas, member, public_key,
                                                          push_service):
    devices = {}
    for name, wanted in {"hackney": ["hackney"], "camden": ["camden"],
                         "both": ["camden", "hackney"], "islington": ["islington"]}.items():
        devices[name] = push_service.subscribe(public_key)
        subscribe(member, devices[name], wanted)
    alert, queued = publish_alert(["hackney", "camden"], severity="risky")
    assert queued == 3

    assert run_sender(app)["sent"] == 3
    first_area = min(("hackney", "camden"), key=lambda slug: area_by_slug(slug).id)
    for name, area in (("hackney", "hackney"), ("camden", "camden"), ("both", first_area)):
        messages = push_service.messages(devices[name])
        assert [json.loads(m) for m in messages] == [
            {"number": alert.number, "alert": str(alert.id), "area": area, "severity": "risky"}], name
    assert push_service.messages(devices["islington"]) == []
    assert delivery_counts(alert.id) == {"queued": 0, "sent": 3, "gone": 0, "failed": 0}

    # Run again: nothing is due, nothing is sent twice.
    assert run_sender(app)["sent"] == 0
    assert len(push_service.messages(devices["hackney"])) == 1


def test_410_deletes_the_subscription(app, areas, member, public_key, push_service):
    kept, expired = push_service.subscribe(public_key), push_service.subscribe(public_key)
    subscribe(member, kept, ["hackney"])
    gone_id = subscribe(member, expired, ["hackney"]).id
    push_service.expire(expired)
    first, _ = publish_alert(["hackney"])

    totals = run_sender(app)
    assert (totals["sent"], totals["gone"]) == (1, 1)
    assert db.session.get(Subscription, gone_id) is None
    assert delivery_counts(first.id) == {"queued": 0, "sent": 1, "gone": 1, "failed": 0}
    gone = db.session.query(Delivery).filter_by(status="gone").one()
    assert (gone.subscription_id, gone.last_error, gone.attempts) == (None, "HTTP 410", 1)
    # Later alerts do not even queue for it.
    second, queued = publish_alert(["hackney"])
    assert queued == 1


def test_headers_encryption_and_vapid(app, areas, member, vapid_key, endpoint):
    clock = Clock()
    hackney, camden = Device(endpoint.url("hackney")), Device(endpoint.url("camden"))
    subscribe(member, hackney, ["hackney"])
    subscribe(member, camden, ["camden"])
    dangerous, _ = publish_alert(["hackney"], severity="dangerous", now=clock.now)
    soon = clock.now + timedelta(hours=1)
    nuisance, _ = publish_alert(["camden"], severity="nuisance", expires_at=soon, now=clock.now)

    assert run_sender(app, clock=clock)["sent"] == 2
    sent = {path.rsplit("/", 1)[1]: (headers, body) for path, headers, body in endpoint.requests}
    for name, device, alert, urgency, ttl in (
            ("hackney", hackney, dangerous, "high", "86400"),
            ("camden", camden, nuisance, "normal", "3600")):
        headers, body = sent[name]
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["Content-Encoding"] == "aes128gcm"
        assert headers["Urgency"] == urgency
        assert headers["TTL"] == ttl
        assert headers["Topic"] == alert.id.hex and len(headers["Topic"]) <= 32
        assert device.decrypt(body) == {"number": alert.number, "alert": str(alert.id), "area": name,
                                        "severity": alert.severity}
        # VAPID (RFC 8292): signed by our key, for this push service, for under 24 hours.
        authorization = headers["Authorization"]
        assert Vapid.verify(authorization)
        assert authorization.endswith("k=" + public_key_of(load_key(vapid_key)))
        claims = jwt_claims(authorization)
        assert claims["aud"] == endpoint.base
        assert claims["sub"] == app.config["VAPID_SUBJECT"]
        assert 0 < claims["exp"] - clock.now.timestamp() < 24 * 3600
    # Signed once for this push service, then reused.
    assert sent["hackney"][0]["Authorization"] == sent["camden"][0]["Authorization"]


def test_429_waits_for_retry_after(app, areas, member, vapid_key, endpoint):
    clock = Clock()
    for n in range(3):
        subscribe(member, Device(endpoint.url(n)), ["hackney"])
        endpoint.script[f"/push/{n}"] = [(429, {"Retry-After": "120"})]
    alert, _ = publish_alert(["hackney"], now=clock.now)

    # One request at a time: the first 429 holds back the rest for that push service.
    totals = run_sender(app, clock=clock, push_concurrency=1)
    assert totals["sent"] == 0 and len(endpoint.requests) == 1
    rows = db.session.query(Delivery).all()
    assert {(d.status, d.last_error) for d in rows} == {("queued", "HTTP 429")}
    assert sorted(d.attempts for d in rows) == [0, 0, 1]
    later = clock.now + timedelta(seconds=120)
    assert {d.next_attempt_at.replace(tzinfo=None) for d in rows} == {later.replace(tzinfo=None)}

    clock.advance(119)
    assert run_sender(app, clock=clock)["sent"] == 0 and len(endpoint.requests) == 1
    clock.advance(2)
    endpoint.script.clear()
    assert run_sender(app, clock=clock)["sent"] == 3
    assert sorted(endpoint.accepted) == ["/push/0", "/push/1", "/push/2"]
    assert delivery_counts(alert.id)["sent"] == 3


def test_errors_back_off_then_stop_with_the_reason(app, areas, member, vapid_key, endpoint):
    clock = Clock()
    subscribe(member, Device(endpoint.url("broken")), ["hackney"])
    endpoint.script["/push/broken"] = [(500, {})] * 3
    alert, _ = publish_alert(["hackney"], now=clock.now)
    limits = {"push_max_attempts": 3, "push_retry_base_seconds": 30}

    run_sender(app, clock=clock, **limits)
    delivery = db.session.query(Delivery).one()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("queued", 1, "HTTP 500")
    for attempt, wait in ((2, 30), (3, 60)):  # exponential backoff: 30 s, then 60 s
        clock.advance(wait - 1)
        run_sender(app, clock=clock, **limits)
        assert len(endpoint.requests) == attempt - 1  # not yet
        clock.advance(1)
        run_sender(app, clock=clock, **limits)
        assert len(endpoint.requests) == attempt
    delivery = db.session.query(Delivery).one()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 3, "HTTP 500")
    assert delivery_counts(alert.id) == {"queued": 0, "sent": 0, "gone": 0, "failed": 1}
    assert endpoint.accepted == []


def test_network_errors_and_timeouts_are_retried(app, areas, member, vapid_key, endpoint):
    clock = Clock()
    endpoint.hold_after(0)
    with refusing_port() as port:
        subscribe(member, Device(f"http://127.0.0.1:{port}/nobody-listens"), ["hackney"])
        subscribe(member, Device(endpoint.url("slow")), ["camden"])
        # Each in a run of its own: under the suite's load a refusal sent with a timeout of
        # 0.5 s can be reported as that timeout (the sender's thread not run in time).
        publish_alert(["hackney"], now=clock.now)
        assert run_sender(app, clock=clock, push_timeout_seconds=30)["retry"] == 1
        publish_alert(["camden"], now=clock.now)
        assert run_sender(app, clock=clock, push_timeout_seconds=0.5)["retry"] == 1
    errors = {d.last_error for d in db.session.query(Delivery)}
    assert errors == {"network: ConnectionRefusedError", "timeout"}
    assert {d.status for d in db.session.query(Delivery)} == {"queued"}


def test_retracted_or_expired_alerts_are_not_sent(app, areas, member, vapid_key, endpoint):
    clock = Clock()
    subscribe(member, Device(endpoint.url("a")), ["hackney"])
    retracted, _ = publish_alert(["hackney"], now=clock.now)
    expiring, _ = publish_alert(["hackney"], expires_at=clock.now + timedelta(minutes=5),
                                now=clock.now)
    assert alerts.retract(retracted) == 1
    db.session.commit()
    clock.advance(600)

    totals = run_sender(app, clock=clock)
    assert totals["sent"] == 0 and endpoint.requests == []
    assert db.session.query(Delivery).filter_by(alert_id=retracted.id).one().last_error == (
        "alert retracted")
    stopped = db.session.query(Delivery).filter_by(alert_id=expiring.id).one()
    assert (stopped.status, stopped.last_error, stopped.attempts) == (
        "failed", "alert expired", 0)


def test_sender_works_when_called_inside_a_running_event_loop(app, areas, member, vapid_key,
                                                              endpoint):
    # As from a test driving a browser: Playwright keeps a loop running in the main thread.
    subscribe(member, Device(endpoint.url("a")), ["hackney"])
    publish_alert(["hackney"])

    async def inside_a_loop():
        return run_sender(app)

    assert asyncio.run(inside_a_loop())["sent"] == 1
    assert endpoint.accepted == ["/push/a"]
