"""Subscriptions, deliveries and their counts: plain functions that views, the alerts
service and tests call."""
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..accounts.models import Member
from ..alerts.models import alert_area
from ..areas.service import areas_by_slugs
from ..clock import utcnow
from ..errors import Refused
from ..events import alert_published, alert_retracted
from ..extensions import db
from .models import DELIVERY_STATUSES, Delivery, Subscription, subscription_area
from .wake import announce


class TooManySubscriptions(Refused):
    """The member has PUSH_MAX_SUBSCRIPTIONS_PER_MEMBER devices already (409)."""
    code = "too_many_subscriptions"


def member_subscriptions(member):
    return db.session.execute(
        db.select(Subscription).filter_by(member_id=member.id).order_by(Subscription.created_at)
    ).scalars().all()


def member_subscription(member, subscription_id):
    """The member's own subscription, or None (someone else's is as good as missing)."""
    return db.session.execute(
        db.select(Subscription).filter_by(id=subscription_id, member_id=member.id)
    ).scalar_one_or_none()


def save_subscription(member, endpoint, p256dh, auth, area_slugs):
    """Create the subscription, or update the one with this endpoint (a device that
    subscribes again, perhaps after redeeming a new invite). Returns (subscription, created)."""
    areas = areas_by_slugs(area_slugs)
    for attempt in range(2):
        subscription = db.session.execute(
            db.select(Subscription).filter_by(endpoint=endpoint)).scalar_one_or_none()
        created = subscription is None
        if created or subscription.member_id != member.id:
            count = db.session.scalar(
                db.select(sa.func.count()).select_from(Subscription).filter_by(member_id=member.id))
            if count >= current_app.config["PUSH_MAX_SUBSCRIPTIONS_PER_MEMBER"]:
                raise TooManySubscriptions()
        if created:
            subscription = Subscription(endpoint=endpoint)
            db.session.add(subscription)
        subscription.member_id = member.id
        subscription.p256dh = p256dh
        subscription.auth = auth
        subscription.areas = areas
        subscription.updated_at = utcnow()
        try:
            db.session.commit()
            return subscription, created
        except IntegrityError:
            # The same device subscribed twice at once: the other request made the row.
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def change_areas(subscription, area_slugs):
    subscription.areas = areas_by_slugs(area_slugs)
    subscription.updated_at = utcnow()
    db.session.commit()
    return subscription


def delete_subscriptions(subscription_ids, reason):
    """Delete subscriptions; their queued deliveries become `gone` (the rows stay, so an
    alert's counts still add up). Does not commit."""
    if not subscription_ids:
        return
    d = Delivery.__table__
    db.session.execute(
        d.update().where(d.c.subscription_id.in_(subscription_ids), d.c.status == "queued")
        .values(status="gone", last_error=reason))
    db.session.execute(
        Subscription.__table__.delete().where(Subscription.__table__.c.id.in_(subscription_ids)))


def unsubscribe(subscription):
    db.session.expunge(subscription)
    delete_subscriptions([subscription.id], "unsubscribed")
    db.session.commit()


def enqueue_deliveries(alert, now=None):
    """Queue one delivery for every subscription whose areas meet the alert's areas.

    One INSERT ... SELECT in the caller's transaction (publishing calls it just before
    its commit, so an alert is never published without its deliveries). Subscriptions
    of revoked members get nothing. Calling it twice adds nothing. Returns the number
    of deliveries queued."""
    now = now or utcnow()
    db.session.flush()  # the alert and its areas must be visible to the SELECT
    sa_, aa, d = subscription_area, alert_area, Delivery.__table__
    already = sa.exists().where(d.c.alert_id == alert.id,
                                d.c.subscription_id == sa_.c.subscription_id)
    matching = (
        sa.select(
            sa.literal(alert.id, sa.Uuid()),
            sa_.c.subscription_id,
            # The payload names one area; when several match, the first by id.
            sa.func.min(sa_.c.area_id),
            sa.literal("queued", sa.String()),
            sa.literal(0, sa.Integer()),
            sa.literal(now, sa.DateTime(timezone=True)),
            sa.literal(now, sa.DateTime(timezone=True)),
        )
        .select_from(sa_)
        .join(aa, aa.c.area_id == sa_.c.area_id)
        .join(Subscription, Subscription.id == sa_.c.subscription_id)
        .join(Member, Member.id == Subscription.member_id)
        .where(aa.c.alert_id == alert.id, Member.revoked_at.is_(None), ~already)
        .group_by(sa_.c.subscription_id)
    )
    insert = d.insert().from_select(
        ["alert_id", "subscription_id", "area_id", "status", "attempts", "next_attempt_at",
         "created_at"], matching, include_defaults=False)
    # preserve_rowcount: some drivers (psycopg) forget an INSERT's rowcount otherwise.
    queued = db.session.execute(insert.execution_options(preserve_rowcount=True)).rowcount
    if queued:
        announce(db.session)  # the senders wake when this transaction commits
    return queued


@alert_published.connect
def _queue_on_publish(alert, now=None, **_):
    return enqueue_deliveries(alert, now)


@alert_retracted.connect
def _stop_on_retract(alert, reason="alert retracted", **_):
    return cancel_deliveries(alert, reason)


def cancel_deliveries(alert, reason="alert retracted"):
    """Stop the deliveries of an alert that have not gone out yet (on retraction).
    Does not commit. Returns how many were stopped."""
    d = Delivery.__table__
    return db.session.execute(
        d.update().where(d.c.alert_id == alert.id, d.c.status == "queued")
        .values(status="failed", last_error=reason)).rowcount


def delivery_counts(alert_id):
    """{"queued": n, "sent": n, "gone": n, "failed": n} for one alert."""
    rows = db.session.execute(
        db.select(Delivery.status, sa.func.count())
        .where(Delivery.alert_id == alert_id).group_by(Delivery.status))
    counts = dict.fromkeys(DELIVERY_STATUSES, 0)
    counts.update({status: n for status, n in rows})
    return counts

