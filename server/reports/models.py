import uuid
from datetime import datetime, timezone

from ..extensions import db

INCIDENT_TYPES = (
    "physical_assault", "sexual_assault", "rape", "robbery", "theft", "refused_to_pay",
    "condom_removal", "threats", "harassment_or_stalking", "drugging", "posing_as_police",
    "outing_or_blackmail", "other",
)
PARTS_OF_DAY = ("morning", "afternoon", "evening", "night")
POLICE_CONSENT = ("none", "offender_only", "with_contact")
CONTACT_METHODS = ("street", "online_ad", "phone", "venue", "app", "other")
# received -> in_review -> published | not_published
STATUSES = ("received", "in_review", "published", "not_published")


def utcnow():
    return datetime.now(timezone.utc)


class Report(db.Model):
    """A raw, private report. Its id is made on the device, so a resend is recognised."""
    __tablename__ = "report"
    id = db.Column(db.Uuid, primary_key=True, default=uuid.uuid4)
    # SHA-256 of the canonical submitted content: a resend with other content is a conflict.
    content_hash = db.Column(db.String(64), nullable=False)
    # SHA-256 of the reporter's receipt; the receipt itself is never stored.
    receipt_hash = db.Column(db.String(64), nullable=False, unique=True)
    status = db.Column(db.String(20), nullable=False, default="received", index=True)
    received_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    occurred_on = db.Column(db.Date, nullable=False)
    part_of_day = db.Column(db.String(16))
    area_id = db.Column(db.Integer, db.ForeignKey("area.id"), nullable=False, index=True)
    incident_types = db.Column(db.JSON, nullable=False)
    description = db.Column(db.Text, nullable=False)
    # The offender description as the reporter gave it (see reports.schemas.OffenderSchema).
    offender = db.Column(db.JSON, nullable=False, default=dict)

    consent_publish = db.Column(db.Boolean, nullable=False, default=True)
    consent_police = db.Column(db.String(20), nullable=False, default="none")
    support_requested = db.Column(db.Boolean, nullable=False, default=False)
    # Reporter contact details, encrypted at rest (Fernet); None when none were given.
    contact_encrypted = db.Column(db.LargeBinary)

    member_id = db.Column(db.Integer, db.ForeignKey("member.id", ondelete="SET NULL"), index=True)
    # Filed by an outreach worker on the reporter's behalf (drop-in mode).
    on_behalf = db.Column(db.Boolean, nullable=False, default=False)
    staff_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"))

    reject_reason = db.Column(db.Text)
    # Same incident as another report (linked by a moderator).
    linked_to_id = db.Column(db.Uuid, db.ForeignKey("report.id", ondelete="SET NULL"))

    area = db.relationship("Area")
