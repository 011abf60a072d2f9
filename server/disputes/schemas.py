"""What an objector sends and sees, and what the staff Disputes queue gets."""
from marshmallow import RAISE, Schema, fields, validate

from ..accounts.schemas import UtcDateTime
from ..reports.schemas import _no_nul, _not_blank
from .models import DISPUTE_KINDS, DISPUTE_STATUSES


class Strict(Schema):
    class Meta:
        unknown = RAISE


def _text(max_length, **kwargs):
    return fields.String(validate=[validate.Length(1, max_length), _no_nul, _not_blank], **kwargs)


class DisputeSchema(Strict):
    identifier_kind = fields.String(required=True, validate=validate.OneOf(DISPUTE_KINDS))
    identifier = _text(254, required=True, metadata={
        "description": "The phone, email, online name or plate the objector says is theirs"})
    statement = _text(5000, required=True, metadata={
        "description": "Why they believe the alert is wrong about them"})
    contact = _text(254, allow_none=True, metadata={
        "description": "Optional: a way for the project to reach them (encrypted at rest)"})


class FiledSchema(Schema):
    id = fields.Integer()
    receipt = fields.String(metadata={
        "description": "Keep it: with the id it shows the outcome. Shown only once."})


class PublicDisputeSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": list(DISPUTE_STATUSES)})
    filed_at = UtcDateTime()
    decided_at = UtcDateTime(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "Why, once decided"})


class DisputeQuerySchema(Strict):
    status = fields.List(fields.String(validate=validate.OneOf(DISPUTE_STATUSES)))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class StaffDisputeSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": list(DISPUTE_STATUSES)})
    filed_at = UtcDateTime()
    identifier_kind = fields.String()
    identifier = fields.String(metadata={"description": "Normalised, as checks match it"})
    decided_at = UtcDateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    withdrawn = fields.Boolean(metadata={"description": "Withdrawn from checks"})


class DisputePageSchema(Schema):
    disputes = fields.List(fields.Nested(StaffDisputeSchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class CarryingAlertSchema(Schema):
    id = fields.UUID()
    title = fields.String()
    status = fields.String()


class DisputeDetailSchema(StaffDisputeSchema):
    statement = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    alerts = fields.List(fields.Nested(CarryingAlertSchema))


class DecisionSchema(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(("upheld", "not_upheld")))
    reason = _text(2000, required=True, metadata={
        "description": "Shown to the objector; never name a reporter or quote an alert"})
    retract = fields.Boolean(load_default=False, metadata={
        "description": "Upheld only: also retract the live alerts that carried it"})
