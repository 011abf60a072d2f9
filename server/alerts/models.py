import uuid

from ..clock import utcnow
from ..extensions import db

SEVERITIES = ("dangerous", "risky", "nuisance")
# How an offender identifier is shown in the published alert (moderation chooses per item).
IDENTIFIER_DISPLAYS = ("full", "masked", "hidden")

alert_area = db.Table(
    "alert_area",
    db.Column("alert_id", db.Uuid, db.ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True),
    db.Column("area_id", db.Integer, db.ForeignKey("area.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)

alert_report = db.Table(
    "alert_report",
    db.Column("alert_id", db.Uuid, db.ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True),
    db.Column("report_id", db.Uuid, db.ForeignKey("report.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class Alert(db.Model):
    """A sanitised warning. Live (shown to members, pushed) once published, until it is
    retracted or expires."""
    __tablename__ = "alert"
    __table_args__ = (
        db.CheckConstraint("severity IN ('dangerous', 'risky', 'nuisance')", name="severity"),
    )
    id = db.Column(db.Uuid, primary_key=True, default=uuid.uuid4)
    title = db.Column(db.String(120), nullable=False)
    summary = db.Column(db.Text, nullable=False)
    severity = db.Column(db.String(20), nullable=False)
    incident_types = db.Column(db.JSON, nullable=False, default=list)
    # [{"kind": "phone", "value": "...", "display": "full" | "masked" | "hidden"}, ...]
    identifiers = db.Column(db.JSON, nullable=False, default=list)
    # What members see of them, worked out when they are set (service.members_view), so
    # the feed does not parse and mask every phone number on every request:
    # {"region": "GB", "shown": [[kind, value], ...], "withheld": n}. None: work it out.
    shown_identifiers = db.Column(db.JSON)
    created_by_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    published_at = db.Column(db.DateTime(timezone=True), index=True)
    # When what members see last changed (publication, an identifier taken out after a
    # dispute): a device's `since` sync gets every alert changed after its last sync.
    changed_at = db.Column(db.DateTime(timezone=True), index=True)
    # Indexed: every `since` sync asks which alerts were retracted after a moment.
    retracted_at = db.Column(db.DateTime(timezone=True), index=True)
    # Given at publication, one more than the highest so far (service.publish): the key the
    # app and texts ("READ 12") know an alert by. Members can count the alerts published
    # so far by it; they see every live one anyway.
    number = db.Column(db.Integer, index=True, unique=True)
    expires_at = db.Column(db.DateTime(timezone=True))

    created_by = db.relationship("Staff")
    areas = db.relationship("Area", secondary=alert_area, order_by="Area.slug")
    reports = db.relationship("Report", secondary=alert_report)
