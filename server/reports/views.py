"""Reports API: send one report, sync an outbox, look up a report's status."""
import functools

from flask import current_app, g, jsonify, request
from flask_smorest import Blueprint

from ..accounts.auth import current_staff, member_from_request
from ..cases import service as cases
from ..cases.schemas import ConversationSchema, ReplySchema
from ..errors import NotFound, Refused, Unauthorized
from ..extensions import limiter
from . import service
from .schemas import (
    MAX_BATCH,
    ReceiptSchema,
    StatusSchema,
    SyncRequestSchema,
    SyncResponseSchema,
)

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Reports and sync")
# Schema instances, not classes: given a class, webargs builds a new schema (with its
# nested ones) for every request, which cost more than loading a report with it.
REPORT_SCHEMA = service.REPORT_SCHEMA
SYNC_REQUEST_SCHEMA = SyncRequestSchema()

# Rate limits for anonymous senders, per client address, in memory only. Two counters,
# shared by /reports and /sync: requests, and reports (a sync of 40 counts 40), so that
# one sync of a full outbox is one request but not a way around the hourly cap.
# A drop-in shares one address: see ANON_REPORT_RATE_LIMIT / ANON_REPORT_COUNT_LIMIT.
def _sent_by_member():
    # A member is never rate-limited, and a bad or revoked token is not counted either:
    # reporter() refuses it with a 401, so it stores nothing and must not use up a drop-in's
    # allowance. Never raise here: Flask-Limiter takes anything raised in a limit check for
    # a storage failure and switches to another store, splitting the counts.
    try:
        return member_from_request() is not None
    except Unauthorized:
        return True


def _reports_in_request():
    try:
        body = request.get_json(silent=True)
    except Exception:  # too large: the view answers 413
        return 1
    if isinstance(body, dict) and isinstance(body.get("reports"), list):
        return max(1, min(len(body["reports"]), MAX_BATCH))
    return 1


RATE_MESSAGE = "Too many reports from this address. Wait a few minutes; nothing was lost."
anon_request_limit = limiter.shared_limit(
    lambda: current_app.config["ANON_REPORT_RATE_LIMIT"], scope="anon-report-requests",
    exempt_when=_sent_by_member, error_message=RATE_MESSAGE)
anon_report_limit = limiter.shared_limit(
    lambda: current_app.config["ANON_REPORT_COUNT_LIMIT"], scope="anon-report-count",
    exempt_when=_sent_by_member, error_message=RATE_MESSAGE, cost=_reports_in_request)


def reporter(view):
    """Who sends: a member (token) or nobody. Checked before the body is read, so a
    closed deployment answers 401 even to a malformed report."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.reporter = member_from_request()
        if g.reporter is None and not current_app.config["ANONYMOUS_REPORTS"]:
            raise Unauthorized(code="members_only_reports")
        return view(*args, **kwargs)
    return wrapper


@blp.route("/reports", methods=["POST"])
@anon_request_limit
@anon_report_limit
@reporter
@blp.arguments(REPORT_SCHEMA, description="One report (see the payload contract)")
@blp.response(201, ReceiptSchema, description="Stored for the first time")
@blp.alt_response(200, schema=ReceiptSchema, description="Already stored with this content")
@blp.alt_response(409, description="This id was already used for other content")
@blp.alt_response(413, description="Body over MAX_CONTENT_LENGTH")
@blp.alt_response(429, description="Anonymous rate limit reached")
def send_report(data):
    """Send one report.

    Sending the same report again is safe: it answers 200 with the same receipt."""
    outcome, report_id, receipt = service.submit_report(data, g.reporter, current_staff())
    if outcome == service.CONFLICT:
        raise Refused(code="report_conflict")
    body = {"id": report_id, "status": "received", "receipt": receipt}
    return body, 201 if outcome == service.CREATED else 200


@blp.route("/sync", methods=["POST"])
@anon_request_limit
@anon_report_limit
@reporter
@blp.arguments(SYNC_REQUEST_SCHEMA, description=f"1 to {MAX_BATCH} reports from the outbox")
@blp.response(200, SyncResponseSchema, description="One result per report, in order")
@blp.alt_response(413, description="Body over MAX_CONTENT_LENGTH")
@blp.alt_response(429, description="Anonymous rate limit reached")
def sync(envelope):
    """Send a device's outbox: each report is validated and stored on its own."""
    # The results are built as SyncResponseSchema says (its test checks them against it),
    # so they go out as they are: dumping 100 of them through the schema again cost more
    # than storing one report.
    return jsonify(results=service.sync_reports(envelope["reports"], g.reporter,
                                                current_staff()))


@blp.route("/reports/<report_id>/status", methods=["GET"])
@blp.doc(parameters=[{"in": "header", "name": "X-Receipt", "required": True,
                      "schema": {"type": "string"},
                      "description": "The receipt given when the report was sent"}])
@blp.response(200, StatusSchema)
@blp.alt_response(404, description="Unknown id or wrong receipt (the same answer)")
def report_status(report_id):
    """What became of a report: received, in_review, published or not_published."""
    status = service.report_status(report_id, request.headers.get("X-Receipt", ""))
    if status is None:
        raise NotFound(code="receipt_not_found")
    return status


# --- The conversation with the project, through the receipt (server/cases) -------------

RECEIPT_HEADER = [{"in": "header", "name": "X-Receipt", "required": True,
                   "schema": {"type": "string"},
                   "description": "The receipt given when the report was sent"}]

# Replies come from anyone holding a receipt: limited per address, in memory only.
reply_limit = limiter.shared_limit(
    lambda: current_app.config["REPLY_RATE_LIMIT"], scope="receipt-replies",
    error_message="Too many messages from this address. Wait a few minutes.")


def _reporters_report(report_id):
    report = service.report_for_receipt(report_id, request.headers.get("X-Receipt", ""))
    if report is None:
        raise NotFound(code="receipt_not_found")
    return report


@blp.route("/reports/<report_id>/messages", methods=["GET"])
@blp.doc(parameters=RECEIPT_HEADER)
@blp.response(200, ConversationSchema)
@blp.alt_response(404, description="Unknown id or wrong receipt (the same answer)")
def conversation(report_id):
    """The conversation with the project about this report (marks it read)."""
    return cases.reporter_messages(_reporters_report(report_id))


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
    cases.reporter_reply(report, body["body"])
    return cases.reporter_messages(report), 201
