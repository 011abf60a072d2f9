"""What staff send to moderate, and what they get back.

Input is validated here, at the edge: unknown fields, over-long text, unknown values and
malformed ids are 422s with field-level messages. Staff output may carry more than
members ever see (the stored identifiers, the reports an alert came from, counts);
members see alerts only through alerts.schemas.MemberAlertSchema.
"""
from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..alerts.models import IDENTIFIER_DISPLAYS, SEVERITIES
from ..alerts.schemas import AreaRefSchema
from ..areas.fields import area_slugs
from ..identifiers.normalise import KINDS, PHONE_PROBLEMS, default_region, read_phone
from ..reports.models import (
    INCIDENT_TYPES,
    PERPETRATOR_KINDS,
    POLICE_CONSENT,
    POLICE_HANDLING,
    STATUSES,
    TARGETED_BECAUSE,
)
from ..schemas import (
    Cursor,
    KeysetQuerySchema,
    PageQuerySchema,
    StrictSchema,
    UtcDateTime,
    text,
    unique,
)
from . import publishing

ALERT_STATUSES = ("draft", "published", "expired", "retracted")


def _text(max_length, **kwargs):
    return text(max_length, blank=False, **kwargs)


# --- Queries -----------------------------------------------------------------------------

def queue_cursor(**kwargs):
    """A position in the report queue: (received_at, id) of a page's last report."""
    return Cursor(UtcDateTime(), fields.UUID(), **kwargs)


class QueueQuerySchema(KeysetQuerySchema):
    after = queue_cursor(metadata={
        "description": "The `next` of the previous page: the older page after it"})
    before = queue_cursor(metadata={
        "description": "The `previous` of a page: the newer page before it"})
    area = area_slugs("Area slug; repeat for several", max_items=10_000)
    incident_type = fields.List(fields.String(validate=validate.OneOf(INCIDENT_TYPES)),
                                metadata={"description": "Repeat for several (any of them)"})
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)),
                         metadata={"description": "Repeat for several"})
    identifier_kind = fields.String(validate=validate.OneOf(KINDS), metadata={
        "description": "With `identifier`: search every report carrying it"})
    identifier = fields.String(validate=validate.Length(1, 254), metadata={
        "description": "A phone, email, handle, plate or name, written any way"})

    @validates_schema
    def _one_way(self, data, **kwargs):
        if "after" in data and "before" in data:
            raise ValidationError("Give after or before, not both.", "before")

    @validates_schema
    def _identifier_whole(self, data, **kwargs):
        if ("identifier" in data) != ("identifier_kind" in data):
            raise ValidationError("Give identifier and identifier_kind together.",
                                  "identifier")


class AlertQuerySchema(PageQuerySchema):
    status = fields.List(fields.String(validate=validate.OneOf(ALERT_STATUSES)),
                         metadata={"description": "Repeat for several"})


# --- Reports -----------------------------------------------------------------------------

class ConsentOutSchema(Schema):
    publish = fields.Boolean()
    police = fields.String(metadata={"enum": list(POLICE_CONSENT)})


class ReportSummarySchema(Schema):
    id = fields.UUID()
    status = fields.String(metadata={"enum": list(STATUSES)})
    received_at = UtcDateTime()
    occurred_on = fields.Date()
    part_of_day = fields.String(allow_none=True)
    area = fields.Nested(AreaRefSchema)
    incident_types = fields.List(fields.String())
    consent = fields.Nested(ConsentOutSchema)
    support_requested = fields.Boolean()
    perpetrator = fields.String(allow_none=True, metadata={"enum": list(PERPETRATOR_KINDS)})
    targeted_because = fields.List(fields.String(metadata={"enum": list(TARGETED_BECAUSE)}),
                                   metadata={"description": "Hate-crime perception; empty: not said"})
    police_handling = fields.String(allow_none=True, metadata={"enum": list(POLICE_HANDLING)})
    on_behalf = fields.Boolean()
    from_member = fields.Boolean(metadata={"description": "Sent with a member token"})
    linked_to = fields.UUID(allow_none=True, metadata={
        "description": "The first report of the same incident, if linked"})


class QueuePageSchema(Schema):
    reports = fields.List(fields.Nested(ReportSummarySchema))
    next = queue_cursor(allow_none=True, metadata={
        "description": "Pass as `after` (with the same filters) for the next, older page; "
                       "null on the last page"})
    previous = queue_cursor(allow_none=True, metadata={
        "description": "Pass as `before` (with the same filters) for the newer page; "
                       "null on the first page"})
    limit = fields.Integer()


class ContactOutSchema(Schema):
    name = fields.String()
    phone = fields.String()
    email = fields.String()
    note = fields.String()


class SupportOutSchema(Schema):
    requested = fields.Boolean()
    has_contact = fields.Boolean()
    contact = fields.Nested(ContactOutSchema, allow_none=True, metadata={
        "description": "Decrypted, for moderators and admins only (audited); else null"})


class ReportAlertSchema(Schema):
    id = fields.UUID()
    title = fields.String()
    status = fields.String(metadata={"enum": list(ALERT_STATUSES)})
    published_at = UtcDateTime(allow_none=True)


class ReportIdentifierSchema(Schema):
    kind = fields.String(metadata={"enum": list(KINDS)})
    value = fields.String(metadata={"description": "As the reporter wrote it"})
    masked = fields.String(metadata={"description": "Partly masked, as members would see it"})
    other_reports = fields.List(fields.UUID(), metadata={
        "description": "Other reports with the same normalised identifier, newest first"})


class UnreadableIdentifierSchema(Schema):
    kind = fields.String(metadata={"enum": ["phone"]})
    value = fields.String(metadata={"description": "As the reporter wrote it"})
    problem = fields.String(metadata={"enum": list(PHONE_PROBLEMS)})
    suggestion = fields.String(allow_none=True, metadata={
        "description": "The number it most likely means (E.164), for staff to judge; "
                       "never indexed"})


class ReportDetailSchema(ReportSummarySchema):
    updated_at = UtcDateTime()
    description = fields.String()
    offender = fields.Dict(metadata={"description": "As the reporter gave it"})
    support = fields.Nested(SupportOutSchema)
    filed_by = fields.String(allow_none=True)
    reject_reason = fields.String(allow_none=True, metadata={
        "description": "Staff only; never shown to the reporter or members"})
    linked_reports = fields.List(fields.Nested(ReportSummarySchema))
    alerts = fields.List(fields.Nested(ReportAlertSchema), metadata={
        "description": "Alerts made from this report"})
    identifiers = fields.List(fields.Nested(ReportIdentifierSchema), metadata={
        "description": "The offender's phones, emails, handles, names and plate (repeat "
                       "offenders: the other reports that share each)"})
    times_reported = fields.Integer(metadata={
        "description": "Reports (this one included) that carry any of these identifiers"})
    unreadable_identifiers = fields.List(fields.Nested(UnreadableIdentifierSchema), metadata={
        "description": "Phone numbers that could not be read as exactly one number: not "
                       "indexed, so they link to no other report until staff look"})


class RejectSchema(StrictSchema):
    reason = _text(1000, required=True, metadata={
        "description": "For staff only: never shown to the reporter or members"})


class LinkSchema(StrictSchema):
    to = fields.UUID(required=True, metadata={"description": "A report of the same incident"})


# --- Alerts ------------------------------------------------------------------------------

class IdentifierSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    value = _text(254, required=True)
    display = fields.String(required=True, validate=validate.OneOf(IDENTIFIER_DISPLAYS),
                            metadata={"description": "full: as written; masked: partly "
                                      "hidden; hidden: never shown to members"})

    @validates_schema
    def _one_phone_number(self, data, **kwargs):
        # An alert's phone is what members' checks match: it must be one number.
        if data.get("kind") == "phone" and data.get("value"):
            if read_phone(data["value"], default_region())[1] in ("several_numbers", "letters_in_number"):
                raise ValidationError("Write one phone number, in digits.", "value")


def _in_future(value):
    if value <= datetime.now(UTC):
        raise ValidationError("Must be in the future.")


class AlertDraftSchema(StrictSchema):
    """A new draft (POST); PATCH takes any of the same fields."""
    reports = fields.List(fields.UUID(), required=True,
                          validate=[validate.Length(1, 50), unique()],
                          metadata={"description": "The reports it is written from"})
    title = _text(120, required=True)
    summary = _text(2000, required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    incident_types = fields.List(
        fields.String(validate=validate.OneOf(INCIDENT_TYPES)), required=True,
        validate=[validate.Length(1, len(INCIDENT_TYPES)), unique()])
    areas = area_slugs("Area slugs it warns", min_items=1, extra=[unique()], required=True)
    identifiers = fields.List(fields.Nested(IdentifierSchema), validate=validate.Length(max=50))
    expires_at = UtcDateTime(allow_none=True, validate=_in_future, metadata={
        "description": "When it leaves the feed; null: never"})

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("Nothing to change.")


class AlertEditSchema(AlertDraftSchema):
    """PATCH: any of the draft's fields (each still whole: an identifier needs all three
    parts). Load it with edit_schema()."""


def edit_schema():
    # partial by top-level name only: a bare partial=True would reach into the nested
    # identifiers too and let one through without its display.
    return AlertEditSchema(partial=tuple(AlertDraftSchema._declared_fields))


class IdentifierOutSchema(Schema):
    kind = fields.String()
    value = fields.String()
    display = fields.String(metadata={"enum": list(IDENTIFIER_DISPLAYS)})
    shown_as = fields.String(allow_none=True, metadata={
        "description": "What members see (null: withheld)"})


class DeliveryCountsSchema(Schema):
    queued = fields.Integer()
    sent = fields.Integer()
    gone = fields.Integer()
    failed = fields.Integer()


class StaffAlertSchema(Schema):
    id = fields.UUID()
    status = fields.Function(lambda alert: publishing.alerts.status_of(alert),
                             metadata={"enum": list(ALERT_STATUSES)})
    title = fields.String()
    summary = fields.String()
    severity = fields.String()
    incident_types = fields.List(fields.String())
    areas = fields.List(fields.Nested(AreaRefSchema))
    identifiers = fields.Function(
        lambda alert: IdentifierOutSchema(many=True).dump(publishing.staff_identifiers(alert)),
        metadata={"type": "array", "items": {"type": "object"}})
    reports = fields.Function(lambda alert: [str(r.id) for r in alert.reports],
                              metadata={"type": "array", "items": {"type": "string"}})
    created_by = fields.Function(
        lambda alert: alert.created_by.username if alert.created_by else None)
    created_at = UtcDateTime()
    published_at = UtcDateTime(allow_none=True)
    retracted_at = UtcDateTime(allow_none=True)
    expires_at = UtcDateTime(allow_none=True)
    deliveries = fields.Function(lambda alert: publishing.alert_deliveries(alert), metadata={
        "type": "object", "description": "queued, sent, gone, failed"})


class AlertPageSchema(Schema):
    alerts = fields.List(fields.Nested(StaffAlertSchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
