"""Alerts for members: the live feed, with incremental sync, and one alert by id."""
import gzip

import brotli
from flask import request
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..accounts.auth import member_required
from ..clock import utcnow
from ..errors import NotFound
from . import service
from .schemas import (
    COMPACT_PAGE,
    CompactFeedSchema,
    CompactQuerySchema,
    FeedQuerySchema,
    FeedSchema,
    MemberAlertSchema,
    as_cursor,
    page_cursor,
    read_cursor,
)

blp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts",
                description="Alerts for members (Authorization: Bearer <member token>)")


COMPRESS_FROM_BYTES = 1024


@blp.after_request
def compressed(response):
    """The feed compressed for a client that accepts it: brotli when it may (about 10%
    smaller than gzip on alert text; browsers offer it over HTTPS), else gzip. A member
    pays for data by the megabyte. Only this blueprint: its replies carry no secret next
    to text an attacker chooses, so compression reveals nothing (BREACH)."""
    accepted = request.accept_encodings
    encoding = "br" if accepted["br"] else "gzip" if accepted["gzip"] else None
    if (encoding is None or response.status_code != 200 or response.direct_passthrough
            or response.mimetype != "application/json"):
        return response
    body = response.get_data()
    if len(body) < COMPRESS_FROM_BYTES:
        return response
    # Quality 5: most of brotli's gain at gzip's speed (11 takes ~50x longer).
    response.set_data(brotli.compress(body, quality=5) if encoding == "br"
                      else gzip.compress(body, 6))
    response.headers["Content-Encoding"] = encoding
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


@blp.route("/compact")
@member_required
@blp.arguments(CompactQuerySchema, location="query", unknown=RAISE)
@blp.response(200, CompactFeedSchema)
@blp.alt_response(401, description="Not a member")
def compact_feed(query):
    """The same live alerts as GET /api/v1/alerts, with the same `area`, `since`, `limit`
    and `before`, in a compact form the app syncs with: one list per field (no keys
    repeated per alert), each code once per page (`codes`), dates as numbers.
    Always paged: `limit` defaults to 250. With `since` it lists the alerts changed since
    then (published, or an identifier taken out; store them by number) and the alerts
    retracted since then, which the device must drop. `key=number` (the app): alerts
    known by number only."""
    now = utcnow()
    before = read_cursor(query["before"]) if "before" in query else None
    limit = query.get("limit", COMPACT_PAGE)
    page, following = service.compact_feed(
        query.get("area") or (), query.get("since"), now, limit, before,
        by_number=query["key"] == "number")
    return {**page, "now": as_cursor(now), "next": page_cursor(following) if following else None}


@blp.route("/<uuid:alert_id>")
@member_required
@blp.response(200, MemberAlertSchema)
@blp.alt_response(401, description="Not a member")
@blp.alt_response(404, description="Unknown, unpublished, retracted or expired")
def get_alert(alert_id):
    """One live alert by id (the app before alert numbers)."""
    return _found(service.live_alert(alert_id))


@blp.route("/<int:number>")
@member_required
@blp.response(200, MemberAlertSchema)
@blp.alt_response(401, description="Not a member")
@blp.alt_response(404, description="Unknown, unpublished, retracted or expired")
def get_numbered_alert(number):
    """One live alert by its number (a tapped notification, a check's answer)."""
    return _found(service.live_alert(number=number) if number < 2**31 else None)


def _found(alert):
    if alert is None:
        raise NotFound(code="live_alert_not_found")
    return alert
