"""Alerts for members: the live feed, with incremental sync, and one alert by id."""
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..accounts.auth import member_required
from ..clock import utcnow
from ..errors import NotFound
from . import service
from .schemas import FeedQuerySchema, FeedSchema, MemberAlertSchema

blp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts",
                description="Alerts for members (Authorization: Bearer <member token>)")

def as_cursor(moment):
    # "Z", not "+00:00": a "+" pasted into a query string unencoded would read as a space.
    return moment.isoformat().replace("+00:00", "Z")


@blp.route("")
@member_required
@blp.arguments(FeedQuerySchema, location="query", unknown=RAISE)
@blp.response(200, FeedSchema)
@blp.alt_response(401, description="Not a member")
def feed(query):
    """Live alerts, newest first: published, not retracted, not expired.

    Without `since` the list is complete: a device keeps exactly these. With `since`
    (the `now` of the previous reply) it lists the alerts published since then (it may
    repeat a few from just before: store them by id) and the ids of alerts retracted
    since then, which the device must drop."""
    now = utcnow()
    alerts, retracted = service.feed(query.get("area") or (), query.get("since"), now)
    return {"alerts": alerts, "retracted": retracted, "now": as_cursor(now)}


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
