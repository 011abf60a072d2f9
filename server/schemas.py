"""The schema kit: the pieces every package's schemas share.

StrictSchema (unknown fields are errors), UtcDateTime, StrictBoolean, the text rules
(no NUL, not blank, length), unique lists, and the paging and date-range query schemas.
Nothing here knows a domain: lookups (is this a known area?) come from the domain's
service (server.areas.service.known_areas).
"""
from datetime import UTC

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

MAX_PAGE = 200


class StrictSchema(Schema):
    """Unknown fields are errors (422), never silently dropped."""
    class Meta:
        unknown = RAISE


class UtcDateTime(fields.DateTime):
    """Every stored time is UTC; SQLite returns them without an offset, so add it back."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false only: "yes", 1 or "0" are errors, not guesses."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def no_nul(value):
    # PostgreSQL cannot store NUL in text: refuse it here, not with a 500 later.
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


def not_blank(value):
    if not value.strip():
        raise ValidationError("Must not be blank.")


def text(max_length, *, blank=True, **kwargs):
    """A string of 1..max_length characters without NUL, kept exactly as given; with
    blank=False it must hold more than white space."""
    rules = [validate.Length(1, max_length), no_nul]
    if not blank:
        rules.append(not_blank)
    return fields.String(validate=rules, **kwargs)


def unique(message="Name each one only once."):
    """A list validator: no item twice."""
    def check(values):
        if len(set(values)) != len(values):
            raise ValidationError(message)
    return check


class PageQuerySchema(StrictSchema):
    """?limit=&offset=: a page of a long list."""
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class DateRangeQuerySchema(StrictSchema):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, both optional and inclusive: the incident date."""
    date_from = fields.Date(data_key="from", metadata={
        "description": "Incidents on or after this date (YYYY-MM-DD)"})
    date_to = fields.Date(data_key="to", metadata={
        "description": "Incidents on or before this date (YYYY-MM-DD)"})

    @validates_schema
    def _in_order(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("Must not be before `from`.", "to")
