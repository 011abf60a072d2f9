"""What a device sends to subscribe (PushSubscription.toJSON() plus its areas), and what
it gets back. Validated here, so the sender never meets a key it cannot use."""
import base64
import binascii

from cryptography.hazmat.primitives.asymmetric import ec
from marshmallow import Schema, ValidationError, fields, validate, validates

from ..areas.fields import area_slugs
from ..schemas import StrictSchema, UtcDateTime
from . import endpoints


def _b64url(value):
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError("Must be URL-safe base64.") from None


def check_endpoint(value):
    """An https URL of a push service whose addresses are public (push/endpoints.py),
    on the PUSH_SERVICE_HOSTS allow-list when there is one."""
    try:
        endpoints.check(value, endpoints.allow_local_endpoints(), endpoints.allowed_push_hosts())
    except endpoints.EndpointRefused as refused:
        raise ValidationError(str(refused)) from None


class KeysSchema(StrictSchema):
    p256dh = fields.String(required=True, validate=validate.Length(86, 88))
    auth = fields.String(required=True, validate=validate.Length(22, 24))

    @validates("p256dh")
    def _p256dh(self, value, **kwargs):
        raw = _b64url(value)
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise ValidationError("Must be an uncompressed P-256 public key.") from None
        if len(raw) != 65:
            raise ValidationError("Must be an uncompressed P-256 public key.")

    @validates("auth")
    def _auth(self, value, **kwargs):
        if len(_b64url(value)) != 16:
            raise ValidationError("Must be 16 bytes, URL-safe base64.")


class PushSubscriptionSchema(StrictSchema):
    """The browser's PushSubscription.toJSON()."""
    endpoint = fields.String(required=True, validate=[validate.Length(1, 1024), check_endpoint])
    # Sent by browsers (usually null); not used.
    expirationTime = fields.Float(allow_none=True, load_default=None)
    keys = fields.Nested(KeysSchema, required=True)


class AreasSchema(StrictSchema):
    areas = area_slugs("Area slugs (GET /api/v1/areas) this device wants warnings for.",
                       min_items=1, required=True)


class SubscribeSchema(AreasSchema):
    subscription = fields.Nested(PushSubscriptionSchema, required=True)


class SubscriptionSchema(Schema):
    id = fields.UUID(dump_only=True)
    endpoint = fields.String(dump_only=True)
    areas = fields.Method("area_slugs", dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)

    def area_slugs(self, subscription):
        return [area.slug for area in subscription.areas]


class PublicKeySchema(Schema):
    public_key = fields.String(metadata={
        "description": "The VAPID public key: pass it to pushManager.subscribe() as "
                       "applicationServerKey."})
