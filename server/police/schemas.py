from marshmallow import RAISE, Schema, fields, validate

from ..printing import DateRangeQuerySchema, area_list
from ..reports.models import POLICE_HANDLING


class PackQuerySchema(DateRangeQuerySchema):
    area = area_list("Only reports from this area (slug); repeat for several")


class HandlingSchema(Schema):
    class Meta:
        unknown = RAISE

    handling = fields.String(required=True, validate=validate.OneOf(POLICE_HANDLING), metadata={
        "description": "The handling note the police pack carries for this report"})


class HandlingOutSchema(Schema):
    id = fields.UUID()
    police_handling = fields.String(metadata={"enum": list(POLICE_HANDLING)})
