"""Text members for staff (enrol, change, wipe, what an alert will text), and the
gateway's two callbacks: a text that came in, and a delivery report."""
from flask import current_app, g, request
from flask_smorest import Blueprint

from ..accounts.auth import staff_required
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from ..moderation.schemas import edit_schema
from ..security import same
from . import gateway as gateways
from . import service, texts
from .models import SmsMember
from .schemas import ChangeSchema, EnrolSchema, LanguageSchema, PreviewSchema, SmsMemberSchema

staff_blp = Blueprint("sms_staff", __name__, url_prefix="/api/v1/staff/sms",
                      description="Text members: enrolled by staff at a drop-in")
gateway_blp = Blueprint("sms_gateway", __name__, url_prefix="/api/v1/sms",
                        description="Called by the SMS gateway (?secret=SMS_GATEWAY_SECRET)")
blueprints = [staff_blp, gateway_blp]


def _sms_member(sms_member_id):
    found = db.session.get(SmsMember, sms_member_id)
    if found is None:
        raise NotFound(code="sms_member_not_found")
    return found


@staff_blp.route("/languages")
@staff_required
@staff_blp.response(200, LanguageSchema(many=True))
def languages():
    """The languages texts can be in."""
    return [{"code": code, "name": name} for code, name in texts.languages().items()]


@staff_blp.route("/members", methods=["POST"])
@staff_required
@staff_blp.arguments(EnrolSchema)
@staff_blp.response(201, SmsMemberSchema)
@staff_blp.alt_response(409, description="The number is already enrolled")
def enrol(body):
    """Enrol a person for alerts by text, with their consent."""
    return service.enrol(g.staff, body["phone"], body["areas"], body["language"],
                         body["style"], body.get("note"))


@staff_blp.route("/members")
@staff_required
@staff_blp.response(200, SmsMemberSchema(many=True))
def list_members():
    """Every text member, newest first (numbers partly masked)."""
    return service.list_members()


@staff_blp.route("/members/<int:sms_member_id>", methods=["PATCH"])
@staff_required
@staff_blp.arguments(ChangeSchema(partial=True))
@staff_blp.response(200, SmsMemberSchema)
def change(body, sms_member_id):
    """Change a text member's areas, language or style."""
    return service.change_member(g.staff, _sms_member(sms_member_id), body)


@staff_blp.route("/members/<int:sms_member_id>/wipe", methods=["POST"])
@staff_required
@staff_blp.response(200, SmsMemberSchema)
def wipe(sms_member_id):
    """Forget the number and areas and revoke the member; texts not yet sent stop."""
    return service.wipe_member(g.staff, _sms_member(sms_member_id))


@staff_blp.route("/preview", methods=["POST"])
@staff_required("moderator")
@staff_blp.arguments(edit_schema())
@staff_blp.response(200, PreviewSchema)
def preview(body):
    """What publishing an alert with this content would text: how many texts, how many
    SMS segments (the alert editor's fields, as for a draft; nothing is stored)."""
    return service.preview(body.get("title"), body.get("severity"),
                           body.get("incident_types"), body.get("areas") or (),
                           body.get("identifiers"))


# --- The gateway's callbacks --------------------------------------------------------------

def _gateway(name):
    """The configured gateway, if it is `name` and the request carries its secret."""
    config = current_app.config
    secret = config["SMS_GATEWAY_SECRET"]
    if name != config["SMS_GATEWAY"] or not secret:
        raise NotFound(code="sms_gateway_unknown")
    if not same(request.args.get("secret", "").encode(), secret.encode()):
        raise Forbidden(code="sms_gateway_secret_wrong")
    return gateways.GATEWAYS[name]


def _empty():
    # An empty 200: Kannel (max-messages = 0) sends nothing back itself; replies go
    # through the sender, durable like every other text.
    return current_app.response_class(b"", status=200, mimetype="text/plain")


@gateway_blp.route("/<name>/incoming", methods=["GET", "POST"])
@gateway_blp.alt_response(400, description="No sender or no text")
def incoming(name):
    """A text that came in (Kannel: sms-service post-url with send-sender = true)."""
    gateway = _gateway(name)
    try:
        sender, text = gateway.incoming(request)
    except gateways.BadCallback as error:
        raise DomainError(str(error), code="sms_callback_bad") from None
    service.receive(sender, text[:2000])
    return _empty()


@gateway_blp.route("/<name>/report", methods=["GET", "POST"])
@gateway_blp.alt_response(400, description="No reference or an unknown status")
def report(name):
    """A delivery report (Kannel: dlr-url, which the sender sets on each text)."""
    gateway = _gateway(name)
    try:
        ref, outcome = gateway.report(request)
    except gateways.BadCallback as error:
        raise DomainError(str(error), code="sms_callback_bad") from None
    service.record_report(ref, outcome)
    return _empty()
