"""The schema kit: the pieces every package's schemas share.

StrictSchema (unknown fields are errors; text no database can store is refused in every
field), UtcDateTime (an instant both engines hold, as UTC), StrictBoolean, the text rules
(storable, not blank, length), unique lists, the paging query schemas (by offset, or by
key with an opaque Cursor) and the date-range query schema.
Nothing here knows a domain: lookups (is this a known area?) come from the domain's
service (server.areas.service.known_areas).
"""
import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime

from marshmallow import RAISE, Schema, ValidationError, fields, missing, pre_load, validate, validates_schema

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


class Cursor(fields.String):
    """An opaque position in a list paged by key: the sort key of the last row of a page,
    handed out as that page's `next` and taken back as `?after=`.

    Out: a tuple of values, one per part field (e.g. (UtcDateTime(), fields.UUID())),
    as URL-safe base64 of a JSON list of the parts' serialised forms. In: that text,
    back to the tuple, each part read (and checked) by its own field. Anything else
    (not base64, not JSON, the wrong number or type of parts, over MAX_LENGTH) is one
    field message asking to start from the first page: never a 500."""
    MAX_LENGTH = 200
    INVALID = "Not a position in this list: start again from the first page."

    def __init__(self, *parts, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault(
            "description", "Opaque: the `next` of the previous page, as given")
        super().__init__(**kwargs)
        self.parts = parts

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        items = [part._serialize(item, None, None) for part, item in
                 zip(self.parts, value, strict=True)]
        text = json.dumps(items, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(text).rstrip(b"=").decode("ascii")

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if len(text) > self.MAX_LENGTH:
                raise ValueError
            raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_",
                                   validate=True)
            items = json.loads(raw)
            if (not isinstance(items, list) or len(items) != len(self.parts)
                    or text_errors(items)):
                raise ValueError
            return tuple(part.deserialize(item) for part, item in
                         zip(self.parts, items, strict=True))
        except (ValueError, binascii.Error, ValidationError, RecursionError):
            raise ValidationError(self.INVALID) from None

    def encode(self, key):
        """The cursor text for a sort key (a tuple of the parts' values)."""
        return self._serialize(key, None, None)


class KeysetQuerySchema(StrictSchema):
    """?limit=&after=: a page of a long list paged by key. Subclasses set `after` to a
    Cursor of their list's sort key; the first page has none."""
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE))


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


# --- One item's load, without marshmallow's machinery ---------------------------------
# A sync batch loads up to 100 reports, and marshmallow spends most of an item's time in
# its own bookkeeping (error stores, closures per field, a validator chain built per
# call, every nested level walking its text again). quick_loader() walks the same fields
# with the same field objects, validators and hooks, but assumes the input is valid: at
# the first doubt it gives up, and the item is loaded by marshmallow itself, so every
# error (and every unusual input) gets exactly marshmallow's answer.

class _GiveUp(Exception):
    """Input the quick path does not vouch for: marshmallow loads it instead."""


_KNOWN_PRE_LOAD = {"_storable_text"}  # StrictSchema's: done on each string as it is read
_SKIP = object()  # a missing optional field without a default: nothing to store


def _checked_text(value):
    """The StrictSchema text rule, on one raw value: give up on anything it would refuse
    (and on containers, which only text_errors walks)."""
    if isinstance(value, str):
        if "\x00" in value or (not value.isascii() and unstorable(value)):
            raise _GiveUp
    elif isinstance(value, dict | list | tuple) and text_errors(value):
        raise _GiveUp


def _field_step(field):
    """field.deserialize() for a plain field or a List of plain fields, without the
    validator chain and closures marshmallow makes on each call. Returns load(value)."""
    if field.pre_load or field.post_load:
        raise _GiveUp
    required, allow_none, default = field.required, field.allow_none, field.load_default
    validators = tuple(field.validators)
    if isinstance(field, fields.List):
        if isinstance(field.inner, fields.Nested | fields.List):
            raise _GiveUp
        inner = _field_step(field.inner)

        def deserialize(value):
            if type(value) is not list:
                raise _GiveUp
            return [inner(item) for item in value]
    elif isinstance(field, fields.Nested):
        nested = _plan(field.schema)
        if field.many or field.schema.many or field.unknown not in (None, RAISE) or nested is None:
            raise _GiveUp

        def deserialize(value):
            return nested(value)
    elif isinstance(field, fields.Dict | fields.Raw | fields.Tuple | fields.Method
                    | fields.Function | fields.Pluck):
        raise _GiveUp
    else:
        plain = field._deserialize

        def deserialize(value):
            _checked_text(value)
            return plain(value, None, None)

    def load(value):
        if value is missing:
            if required:
                raise _GiveUp
            return default() if callable(default) else default
        if value is None:
            if allow_none:
                return None
            raise _GiveUp
        value = deserialize(value)
        for validator in validators:
            validator(value)  # a ValidationError: marshmallow answers
        return value
    load.skip_when_missing = not required and default is missing
    return load


def _plan(schema):
    """A function loading one valid item (a dict) as schema.load() would; raises _GiveUp
    when the schema uses something this walk does not do itself."""
    hooks = schema._hooks
    if not isinstance(schema, StrictSchema) or schema.TEXT_CHECKED_ELSEWHERE \
            or schema.many or schema.partial or schema.unknown != RAISE:
        raise _GiveUp
    if any(name not in _KNOWN_PRE_LOAD for name, _many, _kw in hooks["pre_load"]):
        raise _GiveUp
    if hooks["validates_schema"] or any(
            many or kw.get("pass_original") for _name, many, kw in hooks["post_load"]):
        raise _GiveUp
    steps = []
    for attr, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else attr
        if field.attribute not in (None, attr):
            raise _GiveUp
        step = _field_step(field)
        steps.append((attr, key, step, step.skip_when_missing))
    known = frozenset(key for _attr, key, _step, _skip in steps)
    checks = []
    for name, _many, kw in hooks["validates"]:
        for field_name in kw["field_names"]:
            field = schema.fields[field_name]
            checks.append((field.attribute or field_name,
                           field.data_key if field.data_key is not None else field_name,
                           getattr(schema, name)))
    post_load = [getattr(schema, name) for name, _many, _kw in hooks["post_load"]]

    def load(data):
        if type(data) is not dict or not known.issuperset(data):
            raise _GiveUp  # not an object, or unknown fields: marshmallow's error
        result = {}
        for attr, key, step, skip_when_missing in steps:
            value = data.get(key, missing)
            if value is missing and skip_when_missing:
                continue
            value = step(value)
            if value is not missing:
                result[attr] = value
        for attr, key, check in checks:
            if attr in result and check(result[attr], data_key=key) is missing:
                del result[attr]
        for hook in post_load:
            result = hook(result, many=False, partial=None, unknown=RAISE)
        return result
    return load


def quick_loader(schema):
    """schema.load for one item, several times faster on valid input, the same answer
    on any input: the same dict for what marshmallow accepts, and marshmallow's own
    ValidationError (or other exception) for what it refuses, because anything the quick
    walk doubts is handed to schema.load. For a StrictSchema of fields the walk knows
    (plain fields, Lists of them, Nested StrictSchemas; @validates and post_load hooks);
    for any other schema it is schema.load itself (see `.quick`)."""
    try:
        plan = _plan(schema)
    except _GiveUp:
        return schema.load

    def load(data):
        try:
            return plan(data)
        except Exception:  # _GiveUp, ValidationError, anything else: marshmallow decides
            return schema.load(data)
    load.quick = True
    return load
