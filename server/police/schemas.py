from ..printing import DateRangeQuerySchema, area_list


class PackQuerySchema(DateRangeQuerySchema):
    area = area_list("Only reports from this area (slug); repeat for several")
