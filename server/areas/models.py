from ..extensions import db


class Region(db.Model):
    __tablename__ = "region"
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(80), nullable=False, unique=True)
    name = db.Column(db.String(120), nullable=False)
    areas = db.relationship("Area", back_populates="region", order_by="Area.name")


class Area(db.Model):
    __tablename__ = "area"
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(80), nullable=False, unique=True)
    name = db.Column(db.String(120), nullable=False)
    region_id = db.Column(db.Integer, db.ForeignKey("region.id"), nullable=False, index=True)
    # Optional centroid, only so a device can suggest "areas near me" locally.
    latitude = db.Column(db.Float)
    longitude = db.Column(db.Float)
    region = db.relationship("Region", back_populates="areas")
