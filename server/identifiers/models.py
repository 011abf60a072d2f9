from ..extensions import db


class Identifier(db.Model):
    """One normalised offender identifier (phone, email, handle, plate, name), from a
    report or from a published alert. The (kind, value) index serves both the member's
    "check a number" and the automatic linking of reports about the same person."""
    __tablename__ = "identifier"
    __table_args__ = (
        db.Index("ix_identifier_kind_value", "kind", "value"),
        db.CheckConstraint("(report_id IS NULL) <> (alert_id IS NULL)", name="one_owner"),
    )
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(10), nullable=False)
    value = db.Column(db.String(320), nullable=False)
    report_id = db.Column(db.Uuid, db.ForeignKey("report.id", ondelete="CASCADE"), index=True)
    alert_id = db.Column(db.Uuid, db.ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    # For alert identifiers: how staff chose to show it (full / masked / hidden).
    display = db.Column(db.String(10))


class WithdrawnIdentifier(db.Model):
    """An identifier withdrawn from checks (an upheld dispute): "check a number" never
    matches it again, and alerts are not indexed under it."""
    __tablename__ = "withdrawn_identifier"
    __table_args__ = (db.UniqueConstraint("kind", "value", name="kind_value"),)
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(10), nullable=False)
    value = db.Column(db.String(320), nullable=False)
    withdrawn_at = db.Column(db.DateTime(timezone=True), nullable=False)
