from ..clock import utcnow
from ..extensions import db

DISPUTE_STATUSES = ("open", "upheld", "not_upheld")
# What an objector may name: identifiers that alerts show and checks match.
DISPUTE_KINDS = ("phone", "email", "handle", "plate")


class Dispute(db.Model):
    """An objection to an alert, by the person it may describe. No account and no
    address: the objector follows it with a receipt (only its hash is kept). Their
    statement and the way to reach them are encrypted at rest."""
    __tablename__ = "dispute"
    __table_args__ = (
        db.CheckConstraint("status IN ('open', 'upheld', 'not_upheld')", name="status"),
    )
    id = db.Column(db.Integer, primary_key=True)
    receipt_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    identifier_kind = db.Column(db.String(10), nullable=False)
    # Normalised (as checks match it), so staff see which alerts carry it.
    identifier_value = db.Column(db.String(320), nullable=False)
    statement_encrypted = db.Column(db.Text, nullable=False)
    contact_encrypted = db.Column(db.Text)
    status = db.Column(db.String(20), nullable=False, default="open", index=True)
    # The outcome's reason, written by staff for the objector to read.
    reason = db.Column(db.Text)
    decided_at = db.Column(db.DateTime(timezone=True))
    decided_by_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"))

    decided_by = db.relationship("Staff")
