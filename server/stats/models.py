from ..extensions import db


class ReportTally(db.Model):
    """What is left of a raw report after its retention period: anonymous statistics
    only. One row per incident (a group of linked reports counts once), by month: no
    text, no identifiers, no day, nothing of the reporter."""
    __tablename__ = "report_tally"
    id = db.Column(db.Integer, primary_key=True)
    # The first day of the incident's month.
    month = db.Column(db.Date, nullable=False, index=True)
    area_id = db.Column(db.Integer, db.ForeignKey("area.id", ondelete="CASCADE"), nullable=False)
    incident_types = db.Column(db.JSON, nullable=False)
    perpetrator = db.Column(db.String(30))
    targeted_because = db.Column(db.JSON)
