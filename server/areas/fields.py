"""The area fields other packages' schemas use: slugs that must name known areas."""
from marshmallow import fields, validate

from .schemas import SLUG
from .service import known_areas


def area_slug():
    """One area slug, shape only (the list or the service checks it is known)."""
    return fields.String(validate=[validate.Length(1, 80), SLUG])


def area_slugs(description="An area slug; repeat for several", *, max_items=200, min_items=0,
               extra=(), **kwargs):
    """A list of area slugs; every one must name an area (else a 422 on the field)."""
    return fields.List(area_slug(),
                       validate=[validate.Length(min_items, max_items), *extra, known_areas],
                       metadata={"description": description}, **kwargs)
