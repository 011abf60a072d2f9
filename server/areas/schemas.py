from marshmallow import Schema, fields, validate

SLUG = validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="Use lower-case letters, digits and dashes.")


class AreaSchema(Schema):
    slug = fields.String(required=True, validate=[validate.Length(1, 80), SLUG])
    name = fields.String(required=True, validate=validate.Length(1, 120))
    region = fields.Method("region_slug", deserialize="load_region", required=True)
    region_name = fields.Method("get_region_name", deserialize="load_region_name")
    latitude = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(-180, 180))

    def region_slug(self, area):
        return area.region.slug

    def get_region_name(self, area):
        return area.region.name

    def load_region(self, value):
        return str(value)

    def load_region_name(self, value):
        return str(value)
