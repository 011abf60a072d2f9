"""The report payload, as the phone app sends it (docs/contract: POST /reports, /sync).

Validation only: what passes is stored as the reporter gave it (no trimming, no case
changes), so a resend hashes the same. Unknown fields are errors at every level.
Optional fields may be left out or sent as null.
"""
from datetime import UTC, date, datetime, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from ..areas.service import UnknownAreas, known_area_id
from ..schemas import StrictBoolean, StrictSchema, no_nul, not_blank, text, unique
from .models import (
    CONTACT_METHODS,
    INCIDENT_TYPES,
    LEGACY_POLICE_CONSENT,
    PARTS_OF_DAY,
    PERPETRATOR_KINDS,
    POLICE_CONSENT,
    STATUSES,
    TARGETED_BECAUSE,
)

EARLIEST_DATE = date(2000, 1, 1)
MAX_BATCH = 100


def optional_text(max_length):
    return text(max_length, allow_none=True)


def text_list(max_length, item=None):
    item = item or text(max_length)
    return fields.List(item, validate=validate.Length(max=10), allow_none=True)


class PayloadSchema(StrictSchema):
    @post_load
    def _null_is_absent(self, data, **kwargs):
        # An optional field sent as null says nothing: drop it, so that a resend that
        # leaves the field out instead is the same content, not a conflict.
        return {key: value for key, value in data.items() if value is not None}


class VehicleSchema(PayloadSchema):
    make = optional_text(40)
    model = optional_text(40)
    colour = optional_text(40)
    plate = optional_text(40)


class OffenderSchema(PayloadSchema):
    """The offender description; every part optional."""
    gender = optional_text(80)
    age_range = optional_text(80)
    height = optional_text(80)
    build = optional_text(80)
    skin = optional_text(80)
    hair = optional_text(80)
    accent = optional_text(80)
    marks = optional_text(500)
    names = text_list(80)
    phones = text_list(40)
    emails = text_list(254, item=fields.Email(validate=[validate.Length(1, 254), no_nul]))
    handles = text_list(80)
    vehicle = fields.Nested(VehicleSchema, allow_none=True)
    contact_method = fields.String(validate=validate.OneOf(CONTACT_METHODS), allow_none=True)


class ConsentSchema(PayloadSchema):
    publish = StrictBoolean(load_default=True)
    police = fields.String(
        validate=validate.OneOf(POLICE_CONSENT + tuple(LEGACY_POLICE_CONSENT)),
        load_default="none", metadata={"description": (
            "none | anonymous_intelligence | contact_via_project | full_report. "
            "The earlier offender_only and with_contact are still accepted and stored as "
            "anonymous_intelligence and full_report.")})


class ContactSchema(PayloadSchema):
    """How support staff may reach the reporter. Encrypted at rest."""
    name = optional_text(80)
    phone = optional_text(40)
    email = fields.Email(validate=[validate.Length(1, 254), no_nul], allow_none=True)
    note = optional_text(500)


class SupportSchema(PayloadSchema):
    requested = StrictBoolean(load_default=False)
    contact = fields.Nested(ContactSchema, allow_none=True)
    come_back = StrictBoolean(allow_none=True, metadata={
        "description": "Drop-in mode: the person will come back to the drop-in for follow-up "
                       "(instead of giving contact details). Opens a case like `requested`."})

    @post_load
    def _false_is_absent(self, data, **kwargs):
        # Added later: left out and false mean the same and must hash the same.
        if data.get("come_back") is False:
            del data["come_back"]
        return data


def _not_future(value):
    # Allow a day ahead: the reporter's calendar may be ahead of the server's (time zones).
    if value > datetime.now(UTC).date() + timedelta(days=1):
        raise ValidationError("Must not be in the future.")
    if value < EARLIEST_DATE:
        raise ValidationError("Must not be before 2000.")


class ReportSchema(PayloadSchema):
    """One report. `id` is a UUID made on the device, so a resend is recognised."""
    id = fields.UUID(required=True)
    occurred_on = fields.Date(required=True, validate=_not_future)
    part_of_day = fields.String(validate=validate.OneOf(PARTS_OF_DAY), allow_none=True)
    area = fields.String(required=True, validate=validate.Length(1, 80),
                         metadata={"description": "An area slug from GET /api/v1/areas"})
    incident_types = fields.List(
        fields.String(validate=validate.OneOf(INCIDENT_TYPES)), required=True,
        validate=[validate.Length(1, len(INCIDENT_TYPES)),
                  unique("Name each incident type only once.")])
    description = fields.String(required=True,
                                validate=[validate.Length(1, 5000), no_nul, not_blank])
    offender = fields.Nested(OffenderSchema, allow_none=True)
    consent = fields.Nested(ConsentSchema, allow_none=True)
    support = fields.Nested(SupportSchema, allow_none=True)
    perpetrator = fields.String(validate=validate.OneOf(PERPETRATOR_KINDS), allow_none=True,
                                metadata={"description": "Who did it, if the reporter says"})
    targeted_because = fields.List(
        fields.String(validate=validate.OneOf(TARGETED_BECAUSE)), allow_none=True,
        validate=[validate.Length(max=len(TARGETED_BECAUSE)), unique()],
        metadata={"description": "Hate crime, on the reporter's perception: what they feel "
                                 "they were targeted for. Empty or left out: not said."})
    on_behalf = StrictBoolean(load_default=False,
                              metadata={"description": "Filed by an outreach worker for someone"})

    @post_load
    def _same_meaning_same_content(self, data, **kwargs):
        # Leaving out a part and sending it empty or with its defaults mean the same, so
        # they hash the same: a resend in another shape is a duplicate, not a conflict.
        data = {key: value for key, value in data.items() if value is not None}
        # Fields added later are never given defaults here: a report queued before they
        # existed must hash the same when it is sent again.
        if data.get("targeted_because") == []:
            del data["targeted_because"]
        data.setdefault("offender", {})
        data.setdefault("consent", {"publish": True, "police": "none"})
        data.setdefault("support", {"requested": False})
        return data

    @validates("area")
    def _area_exists(self, value, **kwargs):
        try:
            known_area_id(value)
        except UnknownAreas as error:
            raise ValidationError(error.message) from None


class ReceiptSchema(Schema):
    id = fields.UUID(required=True)
    status = fields.String(required=True, metadata={"enum": ["received"]})
    receipt = fields.String(required=True, metadata={
        "description": "Keep it: with the id it shows what became of the report."})


class StatusSchema(Schema):
    id = fields.UUID(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    has_case = fields.Boolean(metadata={
        "description": "The project follows this report up: GET .../messages has a conversation"})
    new_messages = fields.Integer(metadata={
        "description": "Messages from the project not read yet (GET .../messages reads them)"})


class SyncRequestSchema(PayloadSchema):
    # Items are Raw here and validated one by one in the service, so that one bad item
    # gets its own "invalid" result instead of sinking the whole batch.
    TEXT_CHECKED_ELSEWHERE = ("reports",)
    reports = fields.List(
        fields.Raw(metadata={"allOf": [{"$ref": "#/components/schemas/Report"}]}),
        required=True, validate=validate.Length(1, MAX_BATCH))


class SyncResultSchema(Schema):
    id = fields.String(allow_none=True, metadata={
        "description": "The id as sent (null when the item had none)"})
    result = fields.String(required=True, metadata={
        "enum": ["created", "duplicate", "invalid", "conflict", "error"]})
    errors = fields.Dict(metadata={"description": "Field-level errors, as for POST /reports"})
    retryable = fields.Boolean(required=True, metadata={
        "description": "True only when sending the same item again later may succeed"})
    receipt = fields.String(metadata={"description": "For created and duplicate"})


class SyncResponseSchema(Schema):
    results = fields.List(fields.Nested(SyncResultSchema), required=True)
