"""What an objector sends and sees, and what the staff Disputes queue gets."""
from marshmallow import Schema, fields, validate

from ..schemas import PageQuerySchema, StrictSchema, UtcDateTime, text
from .models import DISPUTE_KINDS, DISPUTE_STATUSES


def _text(max_length, **kwargs):
    return text(max_length, blank=False, **kwargs)


class DisputeSchema(StrictSchema):
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


class DisputeQuerySchema(PageQuerySchema):
    status = fields.List(fields.String(validate=validate.OneOf(DISPUTE_STATUSES)))


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


class DecisionSchema(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(("upheld", "not_upheld")))
    reason = _text(2000, required=True, metadata={
        "description": "Shown to the objector; never name a reporter or quote an alert"})
    retract = fields.Boolean(load_default=False, metadata={
        "description": "Upheld only: also retract the live alerts that carried it"})
