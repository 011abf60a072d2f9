"""Regions and areas: the places that reports name and alerts target."""
import csv
import io
import json
import re

from flask import has_request_context, request
from marshmallow import ValidationError

from ..errors import Invalid
from ..extensions import db
from .models import Area, Region
from .schemas import AreaSchema


class UnknownAreas(Invalid):
    """Slugs that name no area (422). `slugs`: the unknown ones, sorted."""
    code = "unknown_area"

    def __init__(self, slugs, field="areas"):
        self.slugs = sorted(set(slugs))
        message = f"Unknown area: {', '.join(self.slugs)}. Choose from GET /api/v1/areas."
        super().__init__({field: [message]}, message)


def slugify(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def list_areas():
    return (db.session.execute(
        db.select(Area).join(Region).order_by(Region.name, Area.name)).scalars().all())


def areas_by_name():
    """Every area, by name (the printable pages' filter forms and tables)."""
    return db.session.execute(db.select(Area).order_by(Area.name)).scalars().all()


def area_by_slug(slug):
    return db.session.execute(db.select(Area).filter_by(slug=slug)).scalar_one_or_none()


def area_id_by_slug(slug):
    """The id (int) of the area with this slug, or None. Remembered for the rest of the
    request: a sync of 100 reports names a handful of areas, and a report is validated
    and then stored, so without it one request asked the same question 200 times."""
    cache = None
    if has_request_context():
        cache = request.__dict__.setdefault("redflag_area_ids", {})
        if slug in cache:
            return cache[slug]
    area_id = db.session.execute(db.select(Area.id).filter_by(slug=slug)).scalar_one_or_none()
    if cache is not None:
        cache[slug] = area_id
    return area_id


def known_area_id(slug):
    """area_id_by_slug() for a slug that must name an area: UnknownAreas otherwise."""
    area_id = area_id_by_slug(slug)
    if area_id is None:
        raise UnknownAreas([slug], field="area")
    return area_id


def areas_by_slugs(slugs):
    """The areas these slugs name, in the order given, each once. The one answer to "is
    this a known area": raises UnknownAreas naming every slug that is not."""
    slugs = list(dict.fromkeys(slugs))
    found = {area.slug: area for area in db.session.execute(
        db.select(Area).where(Area.slug.in_(slugs))).scalars()}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise UnknownAreas(unknown)
    return [found[slug] for slug in slugs]


def known_areas(slugs):
    """Field validator (marshmallow): every slug names an area."""
    try:
        areas_by_slugs(slugs)
    except UnknownAreas as error:
        raise ValidationError(error.message) from None


def parse_areas(text, fmt):
    """Rows from a CSV (header: slug,name,region[,region_name,latitude,longitude]) or a
    JSON list of objects with the same keys. Raises ValidationError naming the row."""
    if fmt == "json":
        rows = json.loads(text)
        if not isinstance(rows, list):
            raise ValidationError("The JSON file must hold a list of areas.")
    else:
        rows = [
            {k: v for k, v in row.items() if v not in ("", None)}
            for row in csv.DictReader(io.StringIO(text))
        ]
    schema = AreaSchema()
    parsed = []
    for number, row in enumerate(rows, start=1):
        try:
            parsed.append(schema.load(row))
        except ValidationError as error:
            raise ValidationError({f"row {number}": error.messages}) from error
    return parsed


def import_areas(rows):
    """Create or update regions and areas by slug. Returns (created, updated)."""
    created = updated = 0
    regions = {r.slug: r for r in db.session.execute(db.select(Region)).scalars()}
    for row in rows:
        region_slug = slugify(row["region"])
        region = regions.get(region_slug)
        if region is None:
            region = Region(slug=region_slug, name=row.get("region_name") or row["region"])
            db.session.add(region)
            regions[region_slug] = region
        area = area_by_slug(row["slug"])
        if area is None:
            area = Area(slug=row["slug"])
            db.session.add(area)
            created += 1
        else:
            updated += 1
        area.name = row["name"]
        area.region = region
        area.latitude = row.get("latitude")
        area.longitude = row.get("longitude")
    db.session.commit()
    return created, updated
