"""Moderation, deciding on a report: review, reject, and grouping reports of the same
incident. Each action adds its audit row to the same transaction and commits once."""
from ..accounts.service import record
from ..errors import Invalid, Refused
from ..extensions import db
from ..reports import status
from ..reports.models import Report


def start_review(staff, report):
    """received -> in_review; a rejected report is reopened (in_review again)."""
    was = report.status
    status.move(report, "review")
    if was == "received":
        record(staff, "report_in_review", "report", report.id)
    elif was == "not_published":
        report.reject_reason = None
        record(staff, "report_reopened", "report", report.id)
    db.session.commit()
    return report


def reject(staff, report, reason):
    """Not published, with a reason for staff (never shown to the reporter or public)."""
    status.move(report, "reject")
    report.reject_reason = reason
    record(staff, "report_rejected", "report", report.id)
    db.session.commit()
    return report


def link(staff, report, other):
    """Mark `report` as the same incident as `other`: it joins other's group, and so do
    the reports that were linked to it."""
    if other.id == report.id:
        raise Invalid({"to": ["A report cannot be linked to itself."]})
    root_id = other.linked_to_id or other.id
    if root_id == (report.linked_to_id or report.id):
        return report  # already the same incident: nothing to do
    db.session.execute(
        db.update(Report).where(Report.linked_to_id == report.id)
        .values(linked_to_id=root_id).execution_options(synchronize_session="fetch"))
    report.linked_to_id = root_id
    record(staff, "report_linked", "report", report.id)
    db.session.commit()
    return report


def unlink(staff, report):
    """Take a report out of its incident group; the rest of the group stays linked."""
    followers = db.session.execute(
        db.select(Report).where(Report.linked_to_id == report.id)
        .order_by(Report.received_at, Report.id)).scalars().all()
    if report.linked_to_id is None and not followers:
        raise Refused("This report is not linked to any other.", code="report_not_linked")
    if followers:  # it was the root: the oldest of the others becomes the root
        new_root = followers[0]
        new_root.linked_to_id = None
        for follower in followers[1:]:
            follower.linked_to_id = new_root.id
    report.linked_to_id = None
    record(staff, "report_unlinked", "report", report.id)
    db.session.commit()
    return report
