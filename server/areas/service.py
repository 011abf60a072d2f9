"""Regions and areas: the places that reports name and alerts target."""
import csv
import io
import json
import re

from flask import has_request_context, request
from marshmallow import ValidationError

from ..extensions import db
from .models import Area, Region
from .schemas import AreaSchema


def slugify(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def list_areas():
    return (db.session.execute(
        db.select(Area).join(Region).order_by(Region.name, Area.name)).scalars().all())


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
