"""Staff moderation API: the report queue, decisions on reports, and alerts.

Outreach workers (and up) may read the queue, the reports (without the reporter's
contact details) and the alerts; every decision needs a moderator (or admin).
"""
from flask import g
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..accounts.auth import staff_required
from ..errors import Invalid, NotFound
from ..reports import service as reports
from . import decisions, publishing, reading
from .schemas import (
    AlertDraftSchema,
    AlertPageSchema,
    AlertQuerySchema,
    LinkSchema,
    QueuePageSchema,
    QueueQuerySchema,
    RejectSchema,
    ReportDetailSchema,
    ReportSummarySchema,
    StaffAlertSchema,
    edit_schema,
)

blp = Blueprint("moderation", __name__, url_prefix="/api/v1/staff",
                description="Moderation: the report queue and alerts (staff session + "
                            "X-CSRF-Token on POST/PATCH/DELETE)")


# --- Reports -----------------------------------------------------------------------------

@blp.route("/reports")
@staff_required("outreach")
@blp.arguments(QueueQuerySchema, location="query", unknown=RAISE)
@blp.response(200, QueuePageSchema)
def queue(query):
    """The report queue, newest first; filter by area, incident type, status, or search
    every report by one identifier (identifier_kind + identifier). Paged by key: a page's
    `next` is the `after` of the older page, its `previous` the `before` of the newer
    one, so a page costs the same however deep, and reports arriving meanwhile neither
    shift nor repeat rows."""
    identifier = ((query["identifier_kind"], query["identifier"])
                  if "identifier" in query else None)
    reports, older, newer = reading.report_queue(
        query.get("area") or (), query.get("incident_type") or (), query.get("status") or (),
        query["limit"], query.get("after"), query.get("before"), identifier)
    return {"reports": [reading.report_summary(r) for r in reports], "next": older,
            "previous": newer, "limit": query["limit"]}


@blp.route("/reports/<uuid:report_id>")
@staff_required("outreach")
@blp.response(200, ReportDetailSchema)
@blp.alt_response(404, description="No such report")
def report_detail(report_id):
    """A report in full, its linked reports and the alerts made from it (audited:
    report_viewed). Moderators also get the decrypted contact details (audited:
    report_contact_viewed), and opening a `received` report puts it `in_review`."""
    return reading.open_report(g.staff, reports.get_report(report_id))


@blp.route("/reports/<uuid:report_id>/review", methods=["POST"])
@staff_required("moderator")
@blp.response(200, ReportSummarySchema)
@blp.alt_response(409, description="Already in a published alert")
def review(report_id):
    """Mark a report in review (received -> in_review), or reopen a rejected one."""
    report = decisions.start_review(g.staff, reports.get_report(report_id))
    return reading.report_summary(report)


@blp.route("/reports/<uuid:report_id>/reject", methods=["POST"])
@staff_required("moderator")
@blp.arguments(RejectSchema)
@blp.response(200, ReportSummarySchema)
@blp.alt_response(409, description="In a published alert, or already rejected")
def reject(body, report_id):
    """Do not publish: the reporter's receipt shows "not published". The reason is for
    staff only."""
    report = decisions.reject(g.staff, reports.get_report(report_id), body["reason"])
    return reading.report_summary(report)


@blp.route("/reports/<uuid:report_id>/link", methods=["POST"])
@staff_required("moderator")
@blp.arguments(LinkSchema)
@blp.response(200, ReportSummarySchema)
def link(body, report_id):
    """Mark as the same incident as another report."""
    report = reports.get_report(report_id)
    try:
        other = reports.get_report(body["to"])
    except NotFound:
        raise Invalid({"to": ["No report with this id."]}) from None
    report = decisions.link(g.staff, report, other)
    return reading.report_summary(report)


@blp.route("/reports/<uuid:report_id>/unlink", methods=["POST"])
@staff_required("moderator")
@blp.response(200, ReportSummarySchema)
@blp.alt_response(409, description="Not linked")
def unlink(report_id):
    """Take a report out of its incident group."""
    report = decisions.unlink(g.staff, reports.get_report(report_id))
    return reading.report_summary(report)


# --- Alerts ------------------------------------------------------------------------------

@blp.route("/alerts")
@staff_required("outreach")
@blp.arguments(AlertQuerySchema, location="query", unknown=RAISE)
@blp.response(200, AlertPageSchema)
def list_alerts(query):
    """Alerts, newest first, with their delivery counts; filter by status."""
    alerts, total = publishing.list_alerts(query.get("status") or (), query["limit"],
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
    return publishing.create_alert(g.staff, body)


@blp.route("/alerts/<uuid:alert_id>")
@staff_required("outreach")
@blp.response(200, StaffAlertSchema)
@blp.alt_response(404, description="No such alert")
def get_alert(alert_id):
    """One alert as staff see it: stored identifiers, what members see, its reports,
    delivery counts."""
    return publishing.get_alert(alert_id)


@blp.route("/alerts/<uuid:alert_id>", methods=["PATCH"])
@staff_required("moderator")
@blp.arguments(edit_schema())
@blp.response(200, StaffAlertSchema)
@blp.alt_response(409, description="Not a draft, or a report may not be published")
def edit_alert(body, alert_id):
    """Change a draft: only the fields sent change."""
    return publishing.edit_alert(g.staff, publishing.get_alert(alert_id), body)


@blp.route("/alerts/<uuid:alert_id>", methods=["DELETE"])
@staff_required("moderator")
@blp.response(204)
@blp.alt_response(409, description="Not a draft")
def delete_alert(alert_id):
    """Throw a draft away."""
    publishing.delete_draft(g.staff, publishing.get_alert(alert_id))


@blp.route("/alerts/<uuid:alert_id>/publish", methods=["POST"])
@staff_required("moderator")
@blp.response(200, StaffAlertSchema)
@blp.alt_response(409, description="Not a draft, expired, or a report may not be published")
def publish(alert_id):
    """Publish a draft: members see it, and every device subscribed to one of its areas
    is sent a push (deliveries queued in the same transaction)."""
    alert = publishing.get_alert(alert_id)
    publishing.publish_alert(g.staff, alert)
    return alert


@blp.route("/alerts/<uuid:alert_id>/retract", methods=["POST"])
@staff_required("moderator")
@blp.response(200, StaffAlertSchema)
@blp.alt_response(409, description="A draft, or already retracted")
def retract(alert_id):
    """Take a published alert back: it leaves the feed and devices drop it."""
    alert = publishing.get_alert(alert_id)
    publishing.retract_alert(g.staff, alert)
    return alert
