"""Police packs (moderator and up): a printable page and a CSV of the same rows.

Both are GET, behind the staff session; every pack produced is audited."""
from flask import g, url_for
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..accounts.auth import staff_required
from ..areas.service import areas_by_name
from ..cases import service as cases
from ..cases.schemas import CaseSummarySchema, PoliceRequestSchema
from ..clock import utcnow
from ..errors import NotFound
from ..pages import PRINTABLE_PAGE, csv_stream, page_query, render_page
from ..reports import service as reports
from . import service
from .schemas import HandlingOutSchema, HandlingSchema, PackQuerySchema

blp = Blueprint("police", __name__,
                description="Police packs: reports whose reporter agreed to police sharing, "
                            "with only what they agreed to (moderator session)")


def _filters(query):
    return {"date_from": query.get("date_from"), "date_to": query.get("date_to"),
            "area_slugs": query.get("area") or ()}


@blp.route("/api/v1/staff/police-pack.csv")
@staff_required("moderator")
@blp.arguments(PackQuerySchema, location="query", unknown=RAISE)
@blp.doc(responses={"200": {"description": "The pack as CSV (an attachment)",
                            "content": {"text/csv": {}}}})
def pack_csv(query):
    """The police pack as CSV, one row per report (audited: police_pack).

    Columns: those of `offender_only` (incident and offender), plus the reporter's
    contact columns when any report in the pack is `with_contact`; those columns stay
    empty on `offender_only` rows. Lists are joined with "; "."""
    header, rows = service.stream_pack(g.staff, **_filters(query))
    return csv_stream(header, rows, f"police-pack-{utcnow().date().isoformat()}.csv",
                      cells=_as_is)


def _as_is(cells):
    return cells


@blp.route("/staff/print/police-pack")
@staff_required("moderator")
@blp.doc(**PRINTABLE_PAGE)
def pack_page():
    """The police pack as a printable page (audited: police_pack). Query as for the CSV."""
    query, errors = page_query(PackQuerySchema())
    context = {"areas": areas_by_name(), "query": query, "errors": errors,
               "groups": {"offender": service.OFFENDER_FIELDS,
                          "contact": service.CONTACT_FIELDS},
               "given": lambda row, keys: any(row.get(key) for key in keys)}
    if errors:
        return render_page("police_pack.html", status=422, rows=None, **context)
    rows = service.produce_pack(g.staff, **_filters(query))
    csv_url = url_for("police.pack_csv", **{
        key: value for key, value in (("from", query.get("date_from")),
                                      ("to", query.get("date_to")),
                                      ("area", query.get("area"))) if value})
    return render_page("police_pack.html", rows=rows, csv_url=csv_url, **context)


@blp.route("/api/v1/staff/reports/<uuid:report_id>/police-handling", methods=["PUT"])
@staff_required("moderator")
@blp.arguments(HandlingSchema)
@blp.response(200, HandlingOutSchema)
@blp.alt_response(404, description="No such report")
def set_handling(data, report_id):
    """Choose the handling note this report carries in police packs (audited:
    police_handling_set)."""
    report = reports.get_report(report_id)
    service.set_handling(g.staff, report, data["handling"])
    return {"id": report.id, "police_handling": report.police_handling}


@blp.route("/api/v1/staff/police-requests", methods=["POST"])
@staff_required("moderator")
@blp.arguments(PoliceRequestSchema)
@blp.response(201, CaseSummarySchema)
@blp.alt_response(404, description="No shareable report has this reference")
def police_request(body):
    """The police asked about a report, quoting its pack reference: record it on the
    report's case and ask the reporter through it (audited: police_request)."""
    report = service.report_for_reference(body["reference"])
    if report is None:
        raise NotFound(code="reference_not_found")
    case = cases.record_police_request(g.staff, report, body["request"], body["message"])
    return cases.case_summary(case), 201
