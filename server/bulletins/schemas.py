from marshmallow import RAISE, Schema

from ..printing import area_list


class BulletinQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    area = area_list("Alerts for this area (slug); repeat for several; none: all areas")
