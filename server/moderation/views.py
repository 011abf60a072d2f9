"""Staff moderation API: the report queue, decisions on reports, and alerts.

Outreach workers (and up) may read the queue, the reports (without the reporter's
contact details) and the alerts; every decision needs a moderator (or admin).
"""
from flask import g
from flask_smorest import Blueprint, abort
from marshmallow import RAISE

from ..accounts.auth import staff_required
from . import service
from .schemas import (AlertDraftSchema, AlertPageSchema, AlertQuerySchema, LinkSchema,
                      QueuePageSchema, QueueQuerySchema, RejectSchema, ReportDetailSchema,
                      ReportSummarySchema, StaffAlertSchema, edit_schema)

blp = Blueprint("moderation", __name__, url_prefix="/api/v1/staff",
                description="Moderation: the report queue and alerts (staff session + "
                            "X-CSRF-Token on POST/PATCH/DELETE)")


# The service says no in two ways; every view answers them alike.
@blp.errorhandler(service.Refused)
def refused(error):
    return {"code": 409, "status": "Conflict", "message": str(error)}, 409


@blp.errorhandler(service.Invalid)
def invalid(error):
    return {"code": 422, "status": "Unprocessable Entity", "message": "Some fields are not valid.",
            "errors": {"json": error.errors}}, 422


def _report(report_id):
    report = service.get_report(report_id)
    if report is None:
        abort(404, message="No report with this id.")
    return report


def _alert(alert_id):
    alert = service.get_alert(alert_id)
    if alert is None:
        abort(404, message="No alert with this id.")
    return alert


# --- Reports -----------------------------------------------------------------------------

@blp.route("/reports")
@staff_required("outreach")
@blp.arguments(QueueQuerySchema, location="query", unknown=RAISE)
@blp.response(200, QueuePageSchema)
def queue(query):
    """The report queue, newest first; filter by area, incident type, status, or search
    every report by one identifier (identifier_kind + identifier)."""
    identifier = ((query["identifier_kind"], query["identifier"])
                  if "identifier" in query else None)
    reports, total = service.report_queue(
        query.get("area") or (), query.get("incident_type") or (), query.get("status") or (),
        query["limit"], query["offset"], identifier)
    return {"reports": [service.report_summary(r) for r in reports], "total": total,
            "limit": query["limit"], "offset": query["offset"]}


@blp.route("/reports/<uuid:report_id>")
@staff_required("outreach")
@blp.response(200, ReportDetailSchema)
@blp.alt_response(404, description="No such report")
def report_detail(report_id):
    """A report in full, its linked reports and the alerts made from it (audited:
    report_viewed). Moderators also get the decrypted contact details (audited:
    report_contact_viewed), and opening a `received` report puts it `in_review`."""
    return service.open_report(g.staff, _report(report_id))


@blp.route("/reports/<uuid:report_id>/review", methods=["POST"])
@staff_required("moderator")
@blp.response(200, ReportSummarySchema)
@blp.alt_response(409, description="Already in a published alert")
def review(report_id):
    """Mark a report in review (received -> in_review), or reopen a rejected one."""
    report = service.start_review(g.staff, _report(report_id))
    return service.report_summary(report)


@blp.route("/reports/<uuid:report_id>/reject", methods=["POST"])
@staff_required("moderator")
@blp.arguments(RejectSchema)
@blp.response(200, ReportSummarySchema)
@blp.alt_response(409, description="In a published alert, or already rejected")
def reject(body, report_id):
    """Do not publish: the reporter's receipt shows "not published". The reason is for
    staff only."""
    report = service.reject(g.staff, _report(report_id), body["reason"])
    return service.report_summary(report)


@blp.route("/reports/<uuid:report_id>/link", methods=["POST"])
@staff_required("moderator")
@blp.arguments(LinkSchema)
@blp.response(200, ReportSummarySchema)
def link(body, report_id):
    """Mark as the same incident as another report."""
    report = _report(report_id)
    other = service.get_report(body["to"])
    if other is None:
        raise service.Invalid({"to": ["No report with this id."]})
    report = service.link(g.staff, report, other)
    return service.report_summary(report)


@blp.route("/reports/<uuid:report_id>/unlink", methods=["POST"])
@staff_required("moderator")
@blp.response(200, ReportSummarySchema)
@blp.alt_response(409, description="Not linked")
def unlink(report_id):
    """Take a report out of its incident group."""
    report = service.unlink(g.staff, _report(report_id))
    return service.report_summary(report)


# --- Alerts ------------------------------------------------------------------------------

@blp.route("/alerts")
@staff_required("outreach")
@blp.arguments(AlertQuerySchema, location="query", unknown=RAISE)
@blp.response(200, AlertPageSchema)
def list_alerts(query):
    """Alerts, newest first, with their delivery counts; filter by status."""
    alerts, total = service.list_alerts(query.get("status") or (), query["limit"],
                                        query["offset"])
    return {"alerts": alerts, "total": total, "limit": query["limit"],
            "offset": query["offset"]}


@blp.route("/alerts", methods=["POST"])
@staff_required("moderator")
@blp.arguments(AlertDraftSchema)
@blp.response(201, StaffAlertSchema)
@blp.alt_response(409, description="A report may not be published (consent, rejected)")
def create_alert(body):
    """Write a draft alert from one or more reports."""
    return service.create_alert(g.staff, body)


@blp.route("/alerts/<uuid:alert_id>")
@staff_required("outreach")
@blp.response(200, StaffAlertSchema)
@blp.alt_response(404, description="No such alert")
def get_alert(alert_id):
    """One alert as staff see it: stored identifiers, what members see, its reports,
    delivery counts."""
    return _alert(alert_id)


@blp.route("/alerts/<uuid:alert_id>", methods=["PATCH"])
@staff_required("moderator")
@blp.arguments(edit_schema())
@blp.response(200, StaffAlertSchema)
@blp.alt_response(409, description="Not a draft, or a report may not be published")
def edit_alert(body, alert_id):
    """Change a draft: only the fields sent change."""
    return service.edit_alert(g.staff, _alert(alert_id), body)


@blp.route("/alerts/<uuid:alert_id>", methods=["DELETE"])
@staff_required("moderator")
@blp.response(204)
@blp.alt_response(409, description="Not a draft")
def delete_alert(alert_id):
    """Throw a draft away."""
    service.delete_draft(g.staff, _alert(alert_id))


@blp.route("/alerts/<uuid:alert_id>/publish", methods=["POST"])
@staff_required("moderator")
@blp.response(200, StaffAlertSchema)
@blp.alt_response(409, description="Not a draft, expired, or a report may not be published")
def publish(alert_id):
    """Publish a draft: members see it, and every device subscribed to one of its areas
    is sent a push (deliveries queued in the same transaction)."""
    alert = _alert(alert_id)
    service.publish_alert(g.staff, alert)
    return alert


@blp.route("/alerts/<uuid:alert_id>/retract", methods=["POST"])
@staff_required("moderator")
@blp.response(200, StaffAlertSchema)
@blp.alt_response(409, description="A draft, or already retracted")
def retract(alert_id):
    """Take a published alert back: it leaves the feed and devices drop it."""
    alert = _alert(alert_id)
    service.retract_alert(g.staff, alert)
    return alert
