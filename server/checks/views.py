"""Check a number (or email, handle, plate) before a meeting: members only, rate-limited."""
from flask import current_app
from flask_smorest import Blueprint

from ..accounts.auth import member_required, require_member
from ..extensions import limiter
from . import service
from .schemas import CheckResultSchema, CheckSchema

blp = Blueprint("checks", __name__, url_prefix="/api/v1/checks",
                description="Check an identifier against published alerts (members)")


@blp.route("", methods=["POST"])
@member_required
@limiter.limit(lambda: current_app.config["CHECK_RATE_LIMIT"],
               key_func=lambda: f"member-{require_member().id}",
               error_message="Too many checks from this device. Try again later.")
@blp.arguments(CheckSchema)
@blp.response(200, CheckResultSchema)
def check(data):
    """Check one identifier (POST, so the number never sits in a URL or a log)."""
    return service.check_identifier(require_member(), data["kind"], data["value"])
