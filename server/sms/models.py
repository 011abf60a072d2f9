"""Text members, their alert texts and replies (durable rows, like push deliveries)."""
from ..clock import utcnow
from ..extensions import db

STYLES = ("neutral", "detailed")
SMS_STATUSES = ("queued", "sent", "gone", "failed")
KINDS = ("alert", "reply")

sms_member_area = db.Table(
    "sms_member_area",
    db.Column("sms_member_id", db.Integer, db.ForeignKey("sms_member.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("area_id", db.Integer, db.ForeignKey("area.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class SmsMember(db.Model):
    """A member who gets alerts by text: a phone number (encrypted; found by a keyed hash),
    the areas, language and style they chose. Revoking its Member revokes it; a wipe
    erases the number and the areas, and keeps an empty row so counts add up."""
    __tablename__ = "sms_member"
    __table_args__ = (
        db.CheckConstraint("style IN ('neutral', 'detailed')", name="style"),
    )
    id = db.Column(db.Integer, primary_key=True)
    member_id = db.Column(db.Integer, db.ForeignKey("member.id", ondelete="CASCADE"),
                          nullable=False, unique=True)
    # HMAC-SHA256 (hex) of the number in E.164 under SECRET_KEY; None once wiped.
    number_hash = db.Column(db.String(64), unique=True)
    # Fernet token of {"phone": "+44..."} (server/crypto.py); None once wiped.
    number_encrypted = db.Column(db.LargeBinary)
    language = db.Column(db.String(10), nullable=False)
    style = db.Column(db.String(10), nullable=False, default="neutral")
    consent_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    stopped_at = db.Column(db.DateTime(timezone=True))
    wiped_at = db.Column(db.DateTime(timezone=True))
    enrolled_by_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    member = db.relationship("Member")
    areas = db.relationship("Area", secondary=sms_member_area, order_by="Area.slug")


class SmsDelivery(db.Model):
    """One text to send: an alert to a text member, or a reply to a text that came in.

    Durable and leased like push deliveries (server/push/models.py): a queued row is due
    when next_attempt_at has passed; a sender claims it by moving next_attempt_at to the
    end of its lease. Its id is the reference the gateway's delivery reports carry.
    Reply texts, and the numbers of non-members, are kept encrypted only until the text
    is handed over, then erased."""
    __tablename__ = "sms_delivery"
    __table_args__ = (
        # Replies have no alert (NULL is distinct): one alert text per member at most.
        db.UniqueConstraint("alert_id", "sms_member_id"),
        db.Index("ix_sms_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        db.CheckConstraint("status IN ('queued', 'sent', 'gone', 'failed')", name="status"),
        db.CheckConstraint("kind IN ('alert', 'reply')", name="kind"),
    )
    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    kind = db.Column(db.String(10), nullable=False, default="alert")
    alert_id = db.Column(db.Uuid, db.ForeignKey("alert.id", ondelete="CASCADE"))
    sms_member_id = db.Column(db.Integer, db.ForeignKey("sms_member.id", ondelete="SET NULL"),
                              index=True)
    # Replies only: the text, and the number when the sender is not a member (Fernet).
    text_encrypted = db.Column(db.LargeBinary)
    to_encrypted = db.Column(db.LargeBinary)
    status = db.Column(db.String(10), nullable=False, default="queued")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    last_error = db.Column(db.String(200))
    segments = db.Column(db.Integer)
    sent_at = db.Column(db.DateTime(timezone=True))
    # What the gateway's delivery report said last: delivered | undelivered | accepted | rejected.
    report = db.Column(db.String(20))
    report_at = db.Column(db.DateTime(timezone=True))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
