"""The members' view of alerts.

MemberAlertSchema is the only shape in which an alert reaches a member. It is an
allow-list: a field not declared here is never sent, so nothing of the reports, the
reporters or the staff can leak into the feed by someone adding a column or a relation.
"""
import uuid
from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate, validates

from ..areas.fields import area_slugs
from ..clock import utc
from ..schemas import StrictSchema, UtcDateTime
from .service import member_identifiers

MEMBER_ALERT_KEYS = ("id", "number", "title", "summary", "severity", "incident_types", "areas",
                     "identifiers", "withheld_identifiers", "published_at", "expires_at")


class AreaRefSchema(Schema):
    slug = fields.String()
    name = fields.String()


class ShownIdentifierSchema(Schema):
    kind = fields.String(metadata={"enum": ["phone", "email", "handle", "plate", "name"]})
    value = fields.String(metadata={"description": "In full, or partly masked with •"})


class MemberAlertSchema(Schema):
    id = fields.UUID()
    number = fields.Integer(metadata={
        "description": "The alert's number in this deployment, given at publication: the "
                       "app knows alerts by it (GET /api/v1/alerts/{number})"})
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


MAX_FEED_PAGE = 500
# The compact feed's page when the app asks for none (views.compact_feed says it too).
COMPACT_PAGE = 250


def as_cursor(moment):
    # "Z", not "+00:00": a "+" pasted into a query string unencoded would read as a space.
    return moment.isoformat().replace("+00:00", "Z")


def page_cursor(key):
    """(published_at, id) -> the opaque `next` text."""
    published_at, alert_id = key
    return f"{as_cursor(utc(published_at))}_{alert_id}"


def read_cursor(text):
    """The `next` text -> (published_at, id); ValidationError when it is not one."""
    moment, _, alert_id = (text or "").partition("_")
    try:
        return (datetime.fromisoformat(moment.replace("Z", "+00:00")), uuid.UUID(alert_id))
    except ValueError as error:
        raise ValidationError("Not a page cursor: send the `next` of the previous reply.") \
            from error


class FeedQuerySchema(StrictSchema):
    area = area_slugs()
    since = UtcDateTime(metadata={
        "description": "The `now` of the previous reply: only alerts published since "
                       "then, and the ids retracted since then"})
    limit = fields.Integer(validate=validate.Range(1, MAX_FEED_PAGE), metadata={
        "description": "At most this many alerts; the reply's `next` asks for the rest. "
                       "Left out: every live alert at once"})
    before = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "The `next` of the previous page"})

    @validates("before")
    def _cursor(self, value, **kwargs):
        read_cursor(value)


class CompactQuerySchema(FeedQuerySchema):
    key = fields.String(load_default="id", validate=validate.OneOf(["id", "number"]), metadata={
        "description": "number: alerts known by number only (no `id` column; `retracted` "
                       "lists numbers), as the app does. id: also by id (the app before "
                       "alert numbers)"})


class FeedSchema(Schema):
    alerts = fields.List(fields.Nested(MemberAlertSchema), metadata={
        "description": "Live alerts, newest first"})
    retracted = fields.List(fields.UUID(), metadata={
        "description": "Alerts retracted since `since`: drop them from the device"})
    now = fields.String(metadata={
        "description": "Server time (UTC): send it as `since` next time (the `now` of "
                       "the first page, when paging)"})
    next = fields.String(allow_none=True, metadata={
        "description": "With `limit`: send it as `before` for the next page; null after "
                       "the last page"})


class Column(fields.List):
    """A list the service built JSON-ready (strings, numbers, lists of them): documented
    as a List of `inner`, sent as it is, not item by item (200 alerts x 11 columns)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class FeedCodesSchema(Schema):
    """Each code used on this page, once: the alerts' columns hold indexes into these."""
    severity = fields.List(fields.String(), metadata={
        "description": "dangerous | risky | nuisance"})
    incident_types = fields.List(fields.String(), metadata={
        "description": "Incident type codes (the app has their words)"})
    areas = fields.List(fields.String(), metadata={
        "description": "Area slugs (GET /api/v1/areas has their names)"})
    identifier_kinds = fields.List(fields.String(), metadata={
        "description": "phone | email | handle | plate | name"})


def _indexes(description):
    return Column(fields.List(fields.Integer()), metadata={"description": description})


class FeedColumnsSchema(Schema):
    """One list per field, one entry per alert, all in the same order (newest first)."""
    id = Column(fields.UUID(), metadata={"description": "Left out with key=number"})
    number = Column(fields.Integer(), metadata={
        "description": "The alert's number: the first as it is, each next one as the "
                       "number above it minus its own"})
    title = Column(fields.String())
    summary = Column(fields.String())
    severity = Column(fields.Integer(), metadata={"description": "Index into codes.severity"})
    incident_types = _indexes("Indexes into codes.incident_types")
    areas = _indexes("Indexes into codes.areas")
    identifier_kinds = _indexes("Per alert, the kind of each identifier shown: indexes into "
                                "codes.identifier_kinds")
    identifier_values = Column(fields.List(fields.String()), metadata={
        "description": "Per alert, each identifier shown, in full or partly masked with •, "
                       "in the order of identifier_kinds"})
    withheld_identifiers = Column(fields.Integer(), metadata={
        "description": "How many identifiers staff withheld"})
    published = Column(fields.Integer(), metadata={
        "description": "When published, in milliseconds: the first since 1970-01-01 UTC, "
                       "each next one as how long before the one above it"})
    expires = Column(fields.Integer(allow_none=True), metadata={
        "description": "When it expires, milliseconds since 1970-01-01 UTC, or null"})


class CompactFeedSchema(Schema):
    codes = fields.Nested(FeedCodesSchema)
    alerts = fields.Nested(FeedColumnsSchema, metadata={
        "description": "Live alerts, newest first, in columns"})
    retracted = Column(fields.Raw(), metadata={
        "description": "Alerts retracted since `since`, by id, or by number with "
                       "key=number: drop them from the device"})
    now = fields.String(metadata={
        "description": "Server time (UTC): send it as `since` next time (the `now` of "
                       "the first page, when paging)"})
    next = fields.String(allow_none=True, metadata={
        "description": "Send it as `before` for the next page; null after the last page"})
