from ..clock import utcnow
from ..extensions import db

# new -> contacted -> closed (staff may set any of them; closing starts the retention clock).
CASE_STATUSES = ("new", "contacted", "closed")
# Who wrote a message: the project (a caseworker) or the reporter (through their receipt).
SENDERS = ("project", "reporter")


class Case(db.Model):
    """One report's follow-up. Made when a report asks for support (or an outreach worker
    notes the person will come back to the drop-in); deleted with its report, and its
    notes and messages with it."""
    # "case" is an SQL keyword.
    __tablename__ = "support_case"
    __table_args__ = (
        db.CheckConstraint("status IN ('new', 'contacted', 'closed')", name="status"),
    )
    id = db.Column(db.Integer, primary_key=True)
    report_id = db.Column(db.Uuid, db.ForeignKey("report.id", ondelete="CASCADE"),
                          nullable=False, unique=True)
    status = db.Column(db.String(20), nullable=False, default="new", index=True)
    assigned_to_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"),
                               index=True)
    # Drop-in mode: no contact details; the person will come back to the drop-in.
    come_back = db.Column(db.Boolean, nullable=False, default=False)
    opened_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow,
                           onupdate=utcnow)
    closed_at = db.Column(db.DateTime(timezone=True))
    # For "new message" flags on either side; times only, never content.
    reporter_wrote_at = db.Column(db.DateTime(timezone=True))
    staff_read_at = db.Column(db.DateTime(timezone=True))
    project_wrote_at = db.Column(db.DateTime(timezone=True))
    reporter_read_at = db.Column(db.DateTime(timezone=True))

    report = db.relationship("Report")
    assigned_to = db.relationship("Staff")


class CaseNote(db.Model):
    """A staff-only note on a case; the text is encrypted at rest, never logged or exported."""
    __tablename__ = "case_note"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("support_case.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    staff_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    body_encrypted = db.Column(db.Text, nullable=False)

    staff = db.relationship("Staff")


class CaseMessage(db.Model):
    """One message between the project and the reporter; encrypted at rest."""
    __tablename__ = "case_message"
    __table_args__ = (
        db.CheckConstraint("sender IN ('project', 'reporter')", name="sender"),
    )
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("support_case.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    sender = db.Column(db.String(10), nullable=False)
    # The caseworker who wrote it (project messages); never shown to the reporter.
    staff_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    body_encrypted = db.Column(db.Text, nullable=False)

    staff = db.relationship("Staff")


class PoliceRequest(db.Model):
    """The police asked about a report (quoting its pack reference). Recorded on the
    report's case; the reporter is asked through the case, never contacted by police."""
    __tablename__ = "police_request"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("support_case.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    staff_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"))
    received_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    # What the police asked, and who (their own reference), as staff wrote it down.
    body_encrypted = db.Column(db.Text, nullable=False)

    staff = db.relationship("Staff")
