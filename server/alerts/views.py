"""Alerts for members: the live feed, with incremental sync, and one alert by id."""
import gzip

from flask import request
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..accounts.auth import member_required
from ..clock import utcnow
from ..errors import NotFound
from . import service
from .schemas import FeedQuerySchema, FeedSchema, MemberAlertSchema, as_cursor, page_cursor, read_cursor

blp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts",
                description="Alerts for members (Authorization: Bearer <member token>)")


GZIP_FROM_BYTES = 1024


@blp.after_request
def compressed(response):
    """The feed gzipped for a client that accepts it: a member pays for data by the
    megabyte, and alert JSON repeats its keys, areas and types (about 8x smaller). Only
    this blueprint: its replies carry no secret next to text an attacker chooses, so
    compression reveals nothing (BREACH)."""
    if (response.status_code != 200 or response.direct_passthrough
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or response.mimetype != "application/json"):
        return response
    body = response.get_data()
    if len(body) < GZIP_FROM_BYTES:
        return response
    response.set_data(gzip.compress(body, 6))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


@blp.route("")
@member_required
@blp.arguments(FeedQuerySchema, location="query", unknown=RAISE)
@blp.response(200, FeedSchema)
@blp.alt_response(401, description="Not a member")
def feed(query):
    """Live alerts, newest first: published, not retracted, not expired.

    Without `since` the list is complete: a device keeps exactly these. With `limit` it
    comes in pages, newest first: pass each reply's `next` as `before` until it is null. With `since`
    (the `now` of the previous reply) it lists the alerts published since then (it may
    repeat a few from just before: store them by id) and the ids of alerts retracted
    since then, which the device must drop."""
    now = utcnow()
    before = read_cursor(query["before"]) if "before" in query else None
    alerts, retracted, following = service.feed(
        query.get("area") or (), query.get("since"), now, query.get("limit"), before)
    return {"alerts": alerts, "retracted": retracted, "now": as_cursor(now),
            "next": page_cursor(following) if following else None}


@blp.route("/<uuid:alert_id>")
@member_required
@blp.response(200, MemberAlertSchema)
@blp.alt_response(401, description="Not a member")
@blp.alt_response(404, description="Unknown, unpublished, retracted or expired")
def get_alert(alert_id):
    """One live alert (a tapped notification opens it)."""
    alert = service.live_alert(alert_id)
    if alert is None:
        raise NotFound(code="live_alert_not_found")
    return alert
