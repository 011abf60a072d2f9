"""Regions and areas: the places that reports name and alerts target."""
import csv
import io
import json
import re

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
