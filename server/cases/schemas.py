"""What the Support queue and the reporter's receipt send and get back."""
from marshmallow import Schema, fields, validate

from ..schemas import PageQuerySchema, StrictSchema, UtcDateTime, text
from .models import CASE_STATUSES, SENDERS

MAX_MESSAGE = 2000
MAX_NOTE = 5000


def _text(max_length, **kwargs):
    return text(max_length, blank=False, required=True, **kwargs)


# --- The reporter, with the receipt -------------------------------------------------------

class ReplySchema(StrictSchema):
    body = _text(MAX_MESSAGE, metadata={"description": "The reporter's reply"})


class ReporterMessageSchema(Schema):
    id = fields.Integer()
    sender = fields.String(metadata={"enum": list(SENDERS)})
    at = UtcDateTime()
    body = fields.String(allow_none=True)


class ConversationSchema(Schema):
    case = fields.String(allow_none=True, metadata={
        "enum": list(CASE_STATUSES), "description": "null: this report has no case"})
    can_reply = fields.Boolean()
    messages = fields.List(fields.Nested(ReporterMessageSchema))


# --- Staff ---------------------------------------------------------------------------------

class CaseQuerySchema(PageQuerySchema):
    status = fields.List(fields.String(validate=validate.OneOf(CASE_STATUSES)),
                         metadata={"description": "Repeat for several"})
    mine = fields.Boolean(load_default=False, metadata={
        "description": "Only cases assigned to me"})


class CaseAreaSchema(Schema):
    slug = fields.String()
    name = fields.String()


class CaseSummarySchema(Schema):
    id = fields.Integer()
    report_id = fields.UUID()
    status = fields.String(metadata={"enum": list(CASE_STATUSES)})
    assigned_to = fields.String(allow_none=True)
    come_back = fields.Boolean(metadata={
        "description": "The person will come back to the drop-in (no contact details)"})
    has_contact = fields.Boolean()
    opened_at = UtcDateTime()
    updated_at = UtcDateTime()
    area = fields.Nested(CaseAreaSchema)
    occurred_on = fields.Date()
    incident_types = fields.List(fields.String())
    on_behalf = fields.Boolean()
    reporter_wrote = fields.Boolean(metadata={
        "description": "The reporter wrote since a caseworker last opened the case"})


class CasePageSchema(Schema):
    cases = fields.List(fields.Nested(CaseSummarySchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class CaseContactSchema(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class StaffTextSchema(Schema):
    id = fields.Integer()
    at = UtcDateTime()
    body = fields.String(allow_none=True, metadata={"description": "null: unreadable (key changed)"})
    staff = fields.String(allow_none=True)


class StaffMessageSchema(StaffTextSchema):
    sender = fields.String(metadata={"enum": list(SENDERS)})


class CaseDetailSchema(CaseSummarySchema):
    contact = fields.Nested(CaseContactSchema, allow_none=True, metadata={
        "description": "For the assigned caseworker and moderators only (audited)"})
    notes = fields.List(fields.Nested(StaffTextSchema))
    messages = fields.List(fields.Nested(StaffMessageSchema))
    police_requests = fields.List(fields.Nested(StaffTextSchema))


class CaseChangeSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(CASE_STATUSES))


class NoteSchema(StrictSchema):
    body = _text(MAX_NOTE)


class MessageSchema(StrictSchema):
    body = _text(MAX_MESSAGE, metadata={"description": "Shown to the reporter in My reports"})


class PoliceRequestSchema(StrictSchema):
    reference = fields.String(required=True, validate=validate.Length(1, 20), metadata={
        "description": "The pack reference the police quoted (e.g. ABCDE-FGHIJ)"})
    request = _text(MAX_NOTE, metadata={
        "description": "What the police asked, and who asked (their own reference)"})
    message = _text(MAX_MESSAGE, metadata={
        "description": "What the project asks the reporter, through their case"})
