from marshmallow import Schema, fields

from ..schemas import DateRangeQuerySchema

COUNT = {"oneOf": [{"type": "integer", "minimum": 5}, {"type": "string", "enum": ["<5"]}],
         "description": 'A count; every count under 5 is the string "<5"'}


class StatsQuerySchema(DateRangeQuerySchema):
    pass


class Count(fields.Raw):
    """An int of 5 or more, or the string "<5"."""


class MonthCountSchema(Schema):
    month = fields.String(metadata={"description": "YYYY-MM"})
    count = Count(metadata=COUNT)


class TypeCountSchema(Schema):
    incident_type = fields.String()
    count = Count(metadata=COUNT)


class AreaCountSchema(Schema):
    area = fields.String(metadata={"description": "The area's slug"})
    name = fields.String()
    count = Count(metadata=COUNT)


class PerpetratorCountSchema(Schema):
    perpetrator = fields.String(metadata={"description": "A perpetrator kind, or not_said"})
    count = Count(metadata=COUNT)


class TargetedCountSchema(Schema):
    targeted_because = fields.String(metadata={"description": "A reason, or not_said"})
    count = Count(metadata=COUNT)


class StatsSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(allow_none=True)
    suppressed_below = fields.Integer()
    total = Count(metadata=COUNT)
    by_month = fields.List(fields.Nested(MonthCountSchema), metadata={
        "description": "Every month from the first to the last incident in the range"})
    by_incident_type = fields.List(fields.Nested(TypeCountSchema), metadata={
        "description": "Every incident type; a report naming several counts under each"})
    by_area = fields.List(fields.Nested(AreaCountSchema), metadata={
        "description": "Every area, by name"})
    online_harm = Count(metadata={**COUNT, "description": "Reports naming any online-harm type"})
    by_perpetrator = fields.List(fields.Nested(PerpetratorCountSchema), metadata={
        "description": "Every perpetrator kind, and not_said"})
    by_targeted_because = fields.List(fields.Nested(TargetedCountSchema), metadata={
        "description": "Hate crime on the reporter's perception: every reason, and not_said; "
                       "a report naming several counts under each"})
