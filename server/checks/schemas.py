from marshmallow import Schema, fields, validate

from ..alerts.schemas import MemberAlertSchema
from ..schemas import StrictSchema

CHECKABLE = ("phone", "email", "handle", "plate")
# One identifier at a time: no wildcards, no lists, nothing a scraper could sweep with.
NO_WILDCARDS = validate.Regexp(r"^[^*%?\[\]]*$", error="Enter one exact value; wildcards are not allowed.")


class CheckSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(CHECKABLE))
    value = fields.String(required=True, validate=[validate.Length(3, 254), NO_WILDCARDS])


class CheckResultSchema(Schema):
    alerts = fields.List(fields.Nested(MemberAlertSchema))
    withheld = fields.Boolean(metadata={
        "description": "A warning exists that staff chose not to show: contact the project"})
    message = fields.String()
