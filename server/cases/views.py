"""Cases API: the staff Support queue (outreach and up).

The reporter's side (their messages, with the receipt) is served by the reports package,
which checks receipts; a police request, which arrives with a pack reference, by the
police package."""
from flask import g
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..accounts.auth import staff_required
from . import service
from .schemas import (
    CaseChangeSchema,
    CaseDetailSchema,
    CasePageSchema,
    CaseQuerySchema,
    CaseSummarySchema,
    MessageSchema,
    NoteSchema,
)

blp = Blueprint("cases", __name__, url_prefix="/api/v1",
                description="Cases: the Support queue (staff session + X-CSRF-Token on changes)")

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
