"""Push API: the VAPID public key, and a member's device subscriptions."""
from flask import current_app
from flask_smorest import Blueprint

from ..accounts.auth import member_required, require_member
from ..errors import NotFound, Unavailable
from . import service
from .schemas import AreasSchema, PublicKeySchema, SubscribeSchema, SubscriptionSchema
from .vapid import NoKey, load_key, public_key

blp = Blueprint("push", __name__, url_prefix="/api/v1/push",
                description="Web Push: the server key and device subscriptions")

@blp.route("/key")
@blp.response(200, PublicKeySchema)
def key():
    """The VAPID public key (applicationServerKey)."""
    try:
        vapid = load_key(current_app.config["VAPID_PRIVATE_KEY_FILE"])
    except NoKey:
        raise Unavailable(code="push_not_set_up") from None
    return {"public_key": public_key(vapid)}


@blp.route("/subscriptions")
@member_required
@blp.response(200, SubscriptionSchema(many=True))
def list_subscriptions():
    """This member's device subscriptions."""
    return service.member_subscriptions(require_member())


@blp.route("/subscriptions", methods=["POST"])
@member_required
@blp.arguments(SubscribeSchema)
@blp.response(201, SubscriptionSchema)
@blp.alt_response(200, schema=SubscriptionSchema, description="Updated (same endpoint)")
def subscribe(body):
    """Subscribe this device, or update it (same endpoint): keys and areas."""
    member = require_member()
    sub = body["subscription"]
    subscription, created = service.save_subscription(
        member, sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"], body["areas"])
    return subscription, (201 if created else 200)


@blp.route("/subscriptions/<uuid:subscription_id>", methods=["PUT"])
@member_required
@blp.arguments(AreasSchema)
@blp.response(200, SubscriptionSchema)
def change_areas(body, subscription_id):
    """Change the areas a device subscription wants."""
    subscription = service.member_subscription(require_member(), subscription_id)
    if subscription is None:
        raise NotFound(code="subscription_not_found")
    return service.change_areas(subscription, body["areas"])


@blp.route("/subscriptions/<uuid:subscription_id>", methods=["DELETE"])
@member_required
@blp.response(204)
def unsubscribe(subscription_id):
    """Stop push to this device."""
    subscription = service.member_subscription(require_member(), subscription_id)
    if subscription is None:
        raise NotFound(code="subscription_not_found")
    service.unsubscribe(subscription)
