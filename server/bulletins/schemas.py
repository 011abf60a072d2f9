from ..areas.fields import area_slugs
from ..schemas import StrictSchema


class BulletinQuerySchema(StrictSchema):
    area = area_slugs("Alerts for this area (slug); repeat for several; none: all areas")
