"""The schema kit: the pieces every package's schemas share.

StrictSchema (unknown fields are errors; text no database can store is refused in every
field), UtcDateTime (an instant both engines hold, as UTC), StrictBoolean, the text rules
(storable, not blank, length), unique lists, and the paging and date-range query schemas.
Nothing here knows a domain: lookups (is this a known area?) come from the domain's
service (server.areas.service.known_areas).
"""
from collections.abc import Mapping
from datetime import UTC, datetime

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

MAX_PAGE = 200
# The instants both engines store and Python reads back: PostgreSQL would take year
# 10000 (9999-12-31T23:59:59-14:00 in UTC) and then every read of it fails.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9000, 1, 1, tzinfo=UTC)


# --- Text every engine stores ----------------------------------------------------------
# PostgreSQL refuses NUL in text; no engine can encode an unpaired surrogate (not a
# character, but JSON's "\ud800" escape makes one). Both are refused at the edge with a
# field message, in every string a schema is given: fields, list items, dict keys and
# values, however deeply nested.

def unstorable(value):
    """Why no database can store this text (a message), or None."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must not contain unpaired surrogates (they are not characters)."
    return None


def text_errors(value):
    """Field messages for every string no database can store inside a JSON value,
    shaped as marshmallow shapes errors ({field: [message]}, list items by index), or
    None when there is none."""
    if isinstance(value, str):
        problem = unstorable(value)
        return [problem] if problem else None
    if isinstance(value, Mapping):  # a dict, or webargs' view of a query string
        errors = {}
        for key, item in value.items():
            problem = unstorable(key) if isinstance(key, str) else None
            found = [problem] if problem else text_errors(item)
            if found:
                errors[key.encode("utf-8", "replace").decode() if problem else key] = found
        return errors or None
    if isinstance(value, list | tuple):
        errors = {i: found for i, item in enumerate(value) if (found := text_errors(item))}
        return errors or None
    return None


class StrictSchema(Schema):
    """Unknown fields are errors (422), never silently dropped; so is text no database
    can store, in any field (TEXT_CHECKED_ELSEWHERE names fields whose items are checked
    one by one later, as the sync's reports are, so one bad item sinks only itself)."""
    TEXT_CHECKED_ELSEWHERE = ()

    class Meta:
        unknown = RAISE

    @pre_load(pass_collection=True)
    def _storable_text(self, data, **kwargs):
        if isinstance(data, Mapping) and self.TEXT_CHECKED_ELSEWHERE:
            data_to_check = {k: v for k, v in data.items() if k not in self.TEXT_CHECKED_ELSEWHERE}
        else:
            data_to_check = data
        errors = text_errors(data_to_check)
        if errors:
            raise ValidationError(errors)
        return data


def storable(value):
    """Field validator: text a database can store (no NUL, no unpaired surrogate)."""
    problem = unstorable(value)
    if problem:
        raise ValidationError(problem)


class UtcDateTime(fields.AwareDateTime):
    """An instant. In: ISO 8601 with an offset (none means UTC), between 1970 and 9000,
    handed on as UTC, so both engines store the same instant (SQLite keeps no offset:
    +05:00 stored as given came back five hours late). Out: UTC with its offset (SQLite
    returns stored times without one)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(UTC)
        except (OverflowError, ValueError):
            moment = None
        if moment is None or not EARLIEST_INSTANT <= moment < LATEST_INSTANT:
            raise ValidationError("Must be between 1970 and 9000 (UTC).")
        return moment

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


no_nul = storable  # the older name: NUL was the first such text found


def not_blank(value):
    if not value.strip():
        raise ValidationError("Must not be blank.")


def text(max_length, *, blank=True, **kwargs):
    """A string of 1..max_length characters a database can store, kept exactly as given;
    with blank=False it must hold more than white space."""
    rules = [validate.Length(1, max_length), storable]
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
