from marshmallow import Schema, fields, validate

from ..areas.fields import area_slugs
from ..reports.models import POLICE_HANDLING
from ..schemas import DateRangeQuerySchema, StrictSchema


class PackQuerySchema(DateRangeQuerySchema):
    area = area_slugs("Only reports from this area (slug); repeat for several")


class HandlingSchema(StrictSchema):
    handling = fields.String(required=True, validate=validate.OneOf(POLICE_HANDLING), metadata={
        "description": "The handling note the police pack carries for this report"})


class HandlingOutSchema(Schema):
    id = fields.UUID()
    police_handling = fields.String(metadata={"enum": list(POLICE_HANDLING)})
