"""Cases API: the staff Support queue, and the reporter's conversation through the receipt.

Staff (outreach and up) work the queue; recording a police request needs a moderator.
The reporter needs no account: the report id and its receipt (X-Receipt) are the key,
and a wrong receipt answers exactly like an unknown report (404)."""
from flask import current_app, g, request
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..accounts.auth import staff_required
from ..errors import NotFound
from ..extensions import limiter
from ..police.service import report_for_reference
from ..reports.service import report_for_receipt
from . import service
from .schemas import (CaseChangeSchema, CaseDetailSchema, CasePageSchema, CaseQuerySchema,
                      CaseSummarySchema, ConversationSchema, MessageSchema, NoteSchema,
                      PoliceRequestSchema, ReplySchema)

blp = Blueprint("cases", __name__, url_prefix="/api/v1",
                description="Cases: the Support queue (staff session + X-CSRF-Token on "
                            "changes) and the reporter's messages (report id + X-Receipt)")

RECEIPT_HEADER = [{"in": "header", "name": "X-Receipt", "required": True,
                   "schema": {"type": "string"},
                   "description": "The receipt given when the report was sent"}]

# Replies come from anyone holding a receipt: limited per address, in memory only.
reply_limit = limiter.shared_limit(
    lambda: current_app.config["REPLY_RATE_LIMIT"], scope="receipt-replies",
    error_message="Too many messages from this address. Wait a few minutes.")


def _reporters_report(report_id):
    report = report_for_receipt(report_id, request.headers.get("X-Receipt", ""))
    if report is None:
        raise NotFound(code="receipt_not_found")
    return report


@blp.route("/reports/<report_id>/messages", methods=["GET"])
@blp.doc(parameters=RECEIPT_HEADER)
@blp.response(200, ConversationSchema)
@blp.alt_response(404, description="Unknown id or wrong receipt (the same answer)")
def conversation(report_id):
    """The conversation with the project about this report (marks it read)."""
    return service.reporter_messages(_reporters_report(report_id))


@blp.route("/reports/<report_id>/messages", methods=["POST"])
@reply_limit
@blp.doc(parameters=RECEIPT_HEADER)
@blp.arguments(ReplySchema)
@blp.response(201, ConversationSchema)
@blp.alt_response(404, description="Unknown id or wrong receipt (the same answer)")
@blp.alt_response(409, description="This report has no open case (case_not_open, case_closed)")
def reply(body, report_id):
    """Reply to the project. Answers the conversation as it now stands."""
    report = _reporters_report(report_id)
    service.reporter_reply(report, body["body"])
    return service.reporter_messages(report), 201


# --- Staff ---------------------------------------------------------------------------------

@blp.route("/staff/cases")
@staff_required("outreach")
@blp.arguments(CaseQuerySchema, location="query", unknown=RAISE)
@blp.response(200, CasePageSchema)
def queue(query):
    """The Support queue: new cases first, then contacted, then closed; oldest first."""
    cases, total = service.support_queue(query.get("status") or (),
                                         g.staff if query["mine"] else None,
                                         query["limit"], query["offset"])
    return {"cases": [service.case_summary(c) for c in cases], "total": total,
            "limit": query["limit"], "offset": query["offset"]}


@blp.route("/staff/cases/<int:case_id>")
@staff_required("outreach")
@blp.response(200, CaseDetailSchema)
@blp.alt_response(404, description="No such case")
def detail(case_id):
    """A case in full: notes, messages and police requests (audited: case_viewed); the
    contact details for the assigned caseworker and moderators (case_contact_viewed)."""
    return service.open_case_detail(g.staff, service.get_case(case_id))


@blp.route("/staff/cases/<int:case_id>", methods=["PATCH"])
@staff_required("outreach")
@blp.arguments(CaseChangeSchema)
@blp.response(200, CaseSummarySchema)
def change(body, case_id):
    """Set the status: new, contacted or closed (audited)."""
    case = service.set_status(g.staff, service.get_case(case_id), body["status"])
    return service.case_summary(case)


@blp.route("/staff/cases/<int:case_id>/assign", methods=["POST"])
@staff_required("outreach")
@blp.response(200, CaseSummarySchema)
def assign(case_id):
    """Assign the case to me (audited)."""
    return service.case_summary(service.assign(g.staff, service.get_case(case_id)))


@blp.route("/staff/cases/<int:case_id>/notes", methods=["POST"])
@staff_required("outreach")
@blp.arguments(NoteSchema)
@blp.response(201, CaseSummarySchema)
def add_note(body, case_id):
    """A staff-only note, encrypted at rest (audited without its text)."""
    case = service.get_case(case_id)
    service.add_note(g.staff, case, body["body"])
    return service.case_summary(case), 201


@blp.route("/staff/cases/<int:case_id>/messages", methods=["POST"])
@staff_required("outreach")
@blp.arguments(MessageSchema)
@blp.response(201, CaseSummarySchema)
@blp.alt_response(409, description="The case is closed")
def send_message(body, case_id):
    """Write to the reporter: they read it in My reports with their receipt."""
    case = service.send_message(g.staff, service.get_case(case_id), body["body"])
    return service.case_summary(case), 201


@blp.route("/staff/police-requests", methods=["POST"])
@staff_required("moderator")
@blp.arguments(PoliceRequestSchema)
@blp.response(201, CaseSummarySchema)
@blp.alt_response(404, description="No shareable report has this reference")
def police_request(body):
    """The police asked about a report, quoting its pack reference: record it on the
    report's case and ask the reporter through it (audited: police_request)."""
    report = report_for_reference(body["reference"])
    if report is None:
        raise NotFound(code="reference_not_found")
    case = service.record_police_request(g.staff, report, body["request"], body["message"])
    return service.case_summary(case), 201
