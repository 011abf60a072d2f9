"""Disputes API: filing and following one (public, no account, rate-limited per address
in memory), and the staff Disputes queue (moderator session)."""
from flask import current_app, g, request
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..accounts.auth import staff_required
from ..errors import NotFound
from ..extensions import limiter
from . import service
from .schemas import (
    DecisionSchema,
    DisputeDetailSchema,
    DisputePageSchema,
    DisputeQuerySchema,
    DisputeSchema,
    FiledSchema,
    PublicDisputeSchema,
    StaffDisputeSchema,
)

blp = Blueprint("disputes", __name__, url_prefix="/api/v1",
                description="Disputes: an objection to an alert by the person it may describe")


@blp.route("/disputes", methods=["POST"])
@limiter.limit(lambda: current_app.config["DISPUTE_RATE_LIMIT"], scope="disputes",
               error_message="Too many disputes from this address. Try again later.")
@blp.arguments(DisputeSchema)
@blp.response(201, FiledSchema)
@blp.alt_response(429, description="Rate limit reached")
def file(body):
    """Object to an alert. The answer is the same whether or not an alert carries the
    identifier: it is not a way to check a number."""
    dispute, receipt = service.file_dispute(body["identifier_kind"], body["identifier"],
                                            body["statement"], body.get("contact"))
    return {"id": dispute.id, "receipt": receipt}, 201


@blp.route("/disputes/<int:dispute_id>", methods=["GET"])
@blp.doc(parameters=[{"in": "header", "name": "X-Receipt", "required": True,
                      "schema": {"type": "string"}}])
@blp.response(200, PublicDisputeSchema)
@blp.alt_response(404, description="Unknown id or wrong receipt (the same answer)")
def follow(dispute_id):
    """The outcome so far: open, upheld or not_upheld, with the reason once decided."""
    dispute = service.dispute_for_receipt(dispute_id, request.headers.get("X-Receipt", ""))
    if dispute is None:
        raise NotFound(code="dispute_not_found")
    return service.public_view(dispute)


@blp.route("/staff/disputes")
@staff_required("moderator")
@blp.arguments(DisputeQuerySchema, location="query", unknown=RAISE)
@blp.response(200, DisputePageSchema)
def queue(query):
    """The Disputes queue: open first, oldest first."""
    rows, total = service.dispute_queue(query.get("status") or (), query["limit"],
                                        query["offset"])
    return {"disputes": [service.summary(d) for d in rows], "total": total,
            "limit": query["limit"], "offset": query["offset"]}


@blp.route("/staff/disputes/<int:dispute_id>")
@staff_required("moderator")
@blp.response(200, DisputeDetailSchema)
def detail(dispute_id):
    """A dispute in full, with the alerts that carry the identifier (audited)."""
    return service.open_detail(g.staff, service.get_dispute(dispute_id))


@blp.route("/staff/disputes/<int:dispute_id>/decide", methods=["POST"])
@staff_required("moderator")
@blp.arguments(DecisionSchema)
@blp.response(200, StaffDisputeSchema)
@blp.alt_response(409, description="Already decided")
def decide(body, dispute_id):
    """Upheld (withdrawn from checks, taken out of its alerts; `retract` retracts them
    too) or not upheld, with a reason the objector reads (audited)."""
    dispute = service.decide(g.staff, service.get_dispute(dispute_id), body["outcome"],
                             body["reason"], body["retract"])
    return service.summary(dispute)
