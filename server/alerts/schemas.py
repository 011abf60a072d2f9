"""The members' view of alerts.

MemberAlertSchema is the only shape in which an alert reaches a member. It is an
allow-list: a field not declared here is never sent, so nothing of the reports, the
reporters or the staff can leak into the feed by someone adding a column or a relation.
"""
from marshmallow import Schema, fields

from ..areas.fields import area_slugs
from ..schemas import StrictSchema, UtcDateTime
from .service import member_identifiers

MEMBER_ALERT_KEYS = ("id", "title", "summary", "severity", "incident_types", "areas",
                     "identifiers", "withheld_identifiers", "published_at", "expires_at")


class AreaRefSchema(Schema):
    slug = fields.String()
    name = fields.String()


class ShownIdentifierSchema(Schema):
    kind = fields.String(metadata={"enum": ["phone", "email", "handle", "plate", "name"]})
    value = fields.String(metadata={"description": "In full, or partly masked with •"})


class MemberAlertSchema(Schema):
    id = fields.UUID()
    title = fields.String()
    summary = fields.String()
    severity = fields.String(metadata={"enum": ["dangerous", "risky", "nuisance"]})
    incident_types = fields.List(fields.String())
    areas = fields.List(fields.Nested(AreaRefSchema))
    identifiers = fields.Method("get_identifiers", metadata={
        "type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string"}, "value": {"type": "string"}}},
        "description": "Identifiers staff chose to show, in full or partly masked"})
    withheld_identifiers = fields.Method("get_withheld", metadata={
        "type": "integer", "description": "How many identifiers staff withheld"})
    published_at = UtcDateTime()
    expires_at = UtcDateTime(allow_none=True)

    def get_identifiers(self, alert):
        return ShownIdentifierSchema(many=True).dump(member_identifiers(alert)[0])

    def get_withheld(self, alert):
        return member_identifiers(alert)[1]


class FeedQuerySchema(StrictSchema):
    area = area_slugs()
    since = UtcDateTime(metadata={
        "description": "The `now` of the previous reply: only alerts published since "
                       "then, and the ids retracted since then"})


class FeedSchema(Schema):
    alerts = fields.List(fields.Nested(MemberAlertSchema), metadata={
        "description": "Live alerts, newest first"})
    retracted = fields.List(fields.UUID(), metadata={
        "description": "Alerts retracted since `since`: drop them from the device"})
    now = fields.String(metadata={
        "description": "Server time (UTC): send it as `since` next time"})
