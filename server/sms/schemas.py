# Field errors are codes (the staff screens word them: web/locales, error.<code>).
from marshmallow import Schema, ValidationError, fields, validate, validates

from ..alerts.schemas import AreaRefSchema
from ..areas.schemas import SLUG
from ..schemas import StrictSchema, UtcDateTime
from . import service, texts
from .models import STYLES


def _known_language(value):
    if value not in texts.languages():
        raise ValidationError("unknown_language")


AREAS = fields.List(fields.String(validate=[validate.Length(1, 80), SLUG]), required=True,
                    validate=validate.Length(1, 200))


class EnrolSchema(StrictSchema):
    phone = fields.String(required=True, validate=validate.Length(3, 40), metadata={
        "description": "As written (07700 900123, +44 7700 900123); stored encrypted"})
    areas = AREAS
    language = fields.String(required=True, validate=_known_language, metadata={
        "description": "Texts and commands in this language (GET .../sms/languages)"})
    style = fields.String(load_default="neutral", validate=validate.OneOf(STYLES), metadata={
        "description": "neutral: \"New safety message from <project>. Reply READ 12\"; "
                       "detailed: the warning itself"})
    consent = fields.Boolean(required=True, metadata={
        "description": "The person agreed to get texts: must be true"})
    note = fields.String(validate=validate.Length(max=120), allow_none=True, metadata={
        "description": "For staff only; never a name"})

    @validates("consent")
    def _consent(self, value, **kwargs):
        if value is not True:
            raise ValidationError("consent_required")


class ChangeSchema(StrictSchema):
    areas = AREAS
    language = fields.String(validate=_known_language)
    style = fields.String(validate=validate.OneOf(STYLES))


class SmsMemberSchema(Schema):
    id = fields.Integer()
    member_id = fields.Integer(metadata={
        "description": "Revoke with POST /api/v1/staff/members/<member_id>/revoke"})
    phone = fields.Function(service.masked_number, metadata={
        "description": "Partly masked; null once wiped"})
    areas = fields.List(fields.Nested(AreaRefSchema))
    language = fields.String()
    style = fields.String()
    note = fields.String(attribute="member.note")
    created_at = UtcDateTime()
    stopped_at = UtcDateTime(allow_none=True)
    revoked_at = UtcDateTime(attribute="member.revoked_at", allow_none=True)
    wiped_at = UtcDateTime(allow_none=True)


class LanguageSchema(Schema):
    code = fields.String()
    name = fields.String()


class TextPreviewSchema(Schema):
    language = fields.String()
    style = fields.String()
    texts = fields.Integer()
    encoding = fields.String(metadata={"enum": ["GSM-7", "UCS-2"]})
    segments = fields.Integer(metadata={"description": "SMS segments per text"})
    text = fields.String()


class PreviewSchema(StrictSchema):
    texts = fields.Integer(metadata={"description": "Texts publishing will send"})
    segments = fields.Integer(metadata={"description": "SMS segments in all"})
    by_text = fields.List(fields.Nested(TextPreviewSchema))
