import uuid

from ..clock import utcnow
from ..extensions import db

DELIVERY_STATUSES = ("queued", "sent", "gone", "failed")

subscription_area = db.Table(
    "subscription_area",
    db.Column("subscription_id", db.Uuid, db.ForeignKey("subscription.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("area_id", db.Integer, db.ForeignKey("area.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class Subscription(db.Model):
    """One device's Web Push subscription and the areas it wants. Never a location."""
    __tablename__ = "subscription"
    id = db.Column(db.Uuid, primary_key=True, default=uuid.uuid4)
    member_id = db.Column(db.Integer, db.ForeignKey("member.id", ondelete="CASCADE"), nullable=False,
                          index=True)
    endpoint = db.Column(db.String(1024), nullable=False, unique=True)
    p256dh = db.Column(db.String(100), nullable=False)
    auth = db.Column(db.String(50), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    areas = db.relationship("Area", secondary=subscription_area, order_by="Area.slug")


class Delivery(db.Model):
    """One alert to one subscription: a durable row, so a crash loses no warning.

    A queued row is due when next_attempt_at has passed. A sender claims a row by moving
    next_attempt_at to the end of its lease: if the sender dies, the row is due again
    once the lease runs out, and another sender (or the restarted one) picks it up."""
    __tablename__ = "delivery"
    __table_args__ = (
        db.UniqueConstraint("alert_id", "subscription_id"),
        db.Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        db.CheckConstraint("status IN ('queued', 'sent', 'gone', 'failed')", name="status"),
    )
    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    alert_id = db.Column(db.Uuid, db.ForeignKey("alert.id", ondelete="CASCADE"), nullable=False)
    # SET NULL, not CASCADE: when a subscription goes, its rows stay (marked gone) so the
    # per-alert counts that moderators see still add up.
    subscription_id = db.Column(db.Uuid, db.ForeignKey("subscription.id", ondelete="SET NULL"),
                                index=True)
    # The area of the alert that matched the subscription: it goes in the payload.
    area_id = db.Column(db.Integer, db.ForeignKey("area.id", ondelete="SET NULL"))
    status = db.Column(db.String(10), nullable=False, default="queued")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    last_error = db.Column(db.String(200))
    sent_at = db.Column(db.DateTime(timezone=True))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
