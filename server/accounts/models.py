from ..clock import utcnow
from ..extensions import db

ROLES = ("outreach", "moderator", "admin")


class Staff(db.Model):
    __tablename__ = "staff"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(20), nullable=False)
    # The Base32 TOTP secret, encrypted (crypto.encrypt_text, as contact details are);
    # None until the staff member enrols a second factor.
    totp_secret = db.Column(db.String(255))
    # A secret offered by /staff/totp/setup (encrypted too), active only once a code from
    # it is confirmed.
    totp_pending_secret = db.Column(db.String(255))
    # The last TOTP time step accepted: a code seen over someone's shoulder cannot be replayed.
    totp_last_step = db.Column(db.BigInteger)
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)


class StaffSession(db.Model):
    """A server-side login session: revocable, with idle and absolute timeouts."""
    __tablename__ = "staff_session"
    id = db.Column(db.Integer, primary_key=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    csrf_token = db.Column(db.String(64), nullable=False)
    staff_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    revoked_at = db.Column(db.DateTime(timezone=True))
    staff = db.relationship("Staff")


class Invite(db.Model):
    """A single-use, expiring code that staff read out or show as a QR code."""
    __tablename__ = "invite"
    id = db.Column(db.Integer, primary_key=True)
    code_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime(timezone=True), nullable=False)
    used_at = db.Column(db.DateTime(timezone=True))
    note = db.Column(db.String(120))


class Member(db.Model):
    """A vetted device. Its bearer token is stored only as a hash."""
    __tablename__ = "member"
    id = db.Column(db.Integer, primary_key=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    invite_id = db.Column(db.Integer, db.ForeignKey("invite.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    revoked_at = db.Column(db.DateTime(timezone=True))
    note = db.Column(db.String(120))
    # When the device last used its token (to the day): retention revokes members not
    # seen for RETENTION_MEMBER_IDLE_DAYS. None: not since this was recorded.
    last_seen_at = db.Column(db.DateTime(timezone=True))
    # How many checks this device has made: staff can spot a scraper.
    check_count = db.Column(db.Integer, nullable=False, default=0, server_default="0")


class AuditEvent(db.Model):
    """Who did what to which record, when. Never report text."""
    __tablename__ = "audit_event"
    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    staff_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    action = db.Column(db.String(60), nullable=False)
    target_type = db.Column(db.String(40))
    target_id = db.Column(db.String(64))
    # Numbers only (e.g. a retention run's counts per kind); never text anyone typed.
    details = db.Column(db.JSON)
