"""The delivery queue in the database: claim due rows for a lease, load what sending
them needs, record what happened. Short transactions, each committed.

Claims are leases. Claiming a delivery moves its next_attempt_at to the end of the lease
(PUSH_LEASE_SECONDS) in one committed UPDATE; on PostgreSQL the rows are picked with
FOR UPDATE SKIP LOCKED, and on SQLite the one statement holds the database's write lock,
so senders running at once never claim the same row. A sender that dies loses its claims
when the lease runs out; they are then sent again.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..alerts.models import Alert
from ..areas.models import Area
from ..clock import utc
from .models import Delivery, Subscription
from .service import delete_subscriptions

DELIVERY = Delivery.__table__


@dataclass
class AlertInfo:
    id: object
    severity: str
    published_at: datetime
    retracted_at: datetime
    expires_at: datetime
    number: int = None


@dataclass
class Job:
    """What one claimed delivery needs to be sent."""
    delivery_id: int
    attempts: int
    subscription_id: object
    endpoint: str
    p256dh: str
    auth: str
    alert: AlertInfo
    area: str


@dataclass
class Outcome:
    delivery_id: int
    status: str                   # queued (retry, or released unsent) | sent | gone | failed
    next_attempt_at: datetime = None
    error: str = None
    attempted: bool = True        # a request went out (counts as an attempt)
    subscription_id: object = None
    sent_at: datetime = None


def claim_statement(dialect, now, limit, lease_seconds, table=DELIVERY):
    """UPDATE ... RETURNING id that claims up to `limit` due deliveries for a lease.
    `table`: any queue with id, status and next_attempt_at (the SMS sender's too)."""
    d = table
    due = (sa.select(d.c.id)
           .where(d.c.status == "queued", d.c.next_attempt_at <= now)
           .order_by(d.c.next_attempt_at, d.c.id)
           .limit(limit))
    if dialect == "postgresql":
        # Rows another sender is claiming right now are skipped, not waited for.
        due = due.with_for_update(skip_locked=True)
    # On SQLite the one UPDATE statement is atomic: a writer holds the database lock.
    return (d.update().where(d.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + timedelta(seconds=lease_seconds))
            .returning(d.c.id))


def claim_due(session, now, limit, lease_seconds, table=DELIVERY, commit=True):
    """Claim up to `limit` due rows of `table` for `lease_seconds`; returns their ids.
    commit=False leaves the transaction open (claim_jobs loads the rows in it)."""
    d = table
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # A read first: an idle sender looking for work takes no write lock. It ends
        # before the write: SQLite cannot turn a read snapshot that another sender has
        # written past into a write (it fails at once instead of waiting for the lock).
        due = sa.select(d.c.id).where(d.c.status == "queued",
                                      d.c.next_attempt_at <= now).limit(1)
        found = session.execute(due).first() is not None
        session.rollback()
        if not found:
            return []
    # On PostgreSQL an UPDATE that matches nothing locks nothing: no read first.
    claim = claim_statement(dialect, now, limit, lease_seconds, table)
    ids = list(session.execute(claim).scalars())
    if commit:
        session.commit()
    return ids


def claim_jobs(session, now, limit, lease_seconds):
    """Claim up to `limit` due deliveries for `lease_seconds` and load what sending them
    needs, in one committed transaction; returns their Jobs in id order (maybe []). A
    wake-up on PostgreSQL costs three round trips (claim, load, commit) this way."""
    ids = claim_due(session, now, limit, lease_seconds, commit=False)
    jobs = load_jobs(session, ids) if ids else []
    session.commit()
    return jobs


def next_due(session):
    """When the soonest queued delivery falls due (a retry, a lease running out), or None."""
    d = DELIVERY
    moment = session.execute(sa.select(sa.func.min(d.c.next_attempt_at))
                             .where(d.c.status == "queued")).scalar()
    session.rollback()
    return utc(moment)


def load_jobs(session, ids):
    """The Jobs of these claimed deliveries, in id order, in one query. Does not commit."""
    d = DELIVERY
    rows = session.execute(
        sa.select(d.c.id, d.c.attempts, d.c.subscription_id, Subscription.endpoint,
                  Subscription.p256dh, Subscription.auth, Alert.id, Alert.severity,
                  Alert.published_at, Alert.retracted_at, Alert.expires_at, Area.slug,
                  Alert.number)
        .select_from(d)
        .join(Alert, Alert.id == d.c.alert_id)
        .outerjoin(Subscription, Subscription.id == d.c.subscription_id)
        .outerjoin(Area, Area.id == d.c.area_id)
        .where(d.c.id.in_(ids))
        .order_by(d.c.id))
    alerts = {}  # one AlertInfo per alert (a batch is usually one alert)
    jobs = []
    for row in rows:
        alert = alerts.get(row[6]) or alerts.setdefault(row[6], AlertInfo(*row[6:11], row[12]))
        jobs.append(Job(*row[:6], alert, row[11] or ""))
    return jobs


def record(session, outcomes):
    """Write a group of Outcomes in one transaction."""
    if not outcomes:
        return
    d = DELIVERY
    sent = [o for o in outcomes if o.status == "sent"]
    others = [o for o in outcomes if o.status != "sent"]
    if sent:
        # The common case in one statement; sent_at is the group's last (they are at most
        # one flush interval apart).
        session.execute(
            d.update().where(d.c.id.in_([o.delivery_id for o in sent]))
            .values(status="sent", sent_at=max(o.sent_at for o in sent), last_error=None,
                    attempts=d.c.attempts + 1))
    if others:
        update = (d.update().where(d.c.id == sa.bindparam("b_id"))
                  .values(status=sa.bindparam("b_status"),
                          next_attempt_at=sa.bindparam("b_next"),
                          last_error=sa.bindparam("b_error"),
                          attempts=d.c.attempts + sa.bindparam("b_inc", type_=sa.Integer)))
        session.execute(update, [
            {"b_id": o.delivery_id, "b_status": o.status, "b_next": o.next_attempt_at,
             "b_error": o.error, "b_inc": 1 if o.attempted else 0}
            for o in others])
    # 404 / 410: the push service says the subscription is gone for good.
    gone = sorted({o.subscription_id for o in outcomes
                   if o.status == "gone" and o.subscription_id is not None}, key=str)
    delete_subscriptions(gone, "subscription gone")
    session.commit()
