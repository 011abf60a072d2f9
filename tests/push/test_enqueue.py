"""Publishing queues one delivery per matching subscription, in one statement."""
from sqlalchemy import event

from server.alerts import service as alerts
from server.areas.service import area_by_slug
from server.extensions import db
from server.push.models import Delivery
from server.push.service import delivery_counts, enqueue_deliveries

from .conftest import Device, make_member, subscribe


def test_one_delivery_per_matching_subscription_in_one_insert(app, areas, member):
    slugs = ["hackney", "camden", "islington"]
    for n in range(60):
        subscribe(member if n < 30 else make_member(f"m{n}"),
                  Device(f"https://push.example.net/{n}"), [slugs[n % 3]])
    both = subscribe(member, Device("https://push.example.net/both"), ["camden", "hackney"])
    revoked = make_member("revoked", revoked=True)
    subscribe(revoked, Device("https://push.example.net/revoked"), ["hackney"])
    alert = alerts.new_alert(title="t", summary="s", severity="risky",
                             areas=[area_by_slug("hackney"), area_by_slug("camden")])
    db.session.commit()

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        queued = enqueue_deliveries(alert)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    db.session.commit()

    # 20 in hackney, 20 in camden, one in both (once), none for the revoked member.
    assert queued == 41
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "SELECT" in inserts[0].upper()
    rows = db.session.query(Delivery).filter_by(alert_id=alert.id).all()
    assert len(rows) == 41 and len({r.subscription_id for r in rows}) == 41
    assert {(r.status, r.attempts) for r in rows} == {("queued", 0)}
    first = min(area_by_slug("hackney").id, area_by_slug("camden").id)
    assert next(r for r in rows if r.subscription_id == both.id).area_id == first
    # Publishing twice (a retry after an error, say) adds nothing.
    assert enqueue_deliveries(alert) == 0
    assert delivery_counts(alert.id) == {"queued": 41, "sent": 0, "gone": 0, "failed": 0}


def test_deliveries_are_in_the_publishing_transaction(app, areas, member):
    subscribe(member, Device("https://push.example.net/1"), ["hackney"])
    alert = alerts.new_alert(title="t", summary="s", severity="risky",
                             areas=[area_by_slug("hackney")])
    db.session.commit()
    assert alerts.publish(alert) == 1
    db.session.rollback()  # the publish failed later on: no alert, no deliveries
    assert db.session.query(Delivery).count() == 0
    assert delivery_counts(alert.id) == {"queued": 0, "sent": 0, "gone": 0, "failed": 0}
