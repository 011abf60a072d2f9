from flask_smorest import Blueprint

from . import service
from .schemas import AreaSchema

blp = Blueprint("areas", __name__, url_prefix="/api/v1/areas",
                description="Areas that reports name and alerts target")


@blp.route("")
@blp.response(200, AreaSchema(many=True))
def list_areas():
    """All areas, grouped by region."""
    return service.list_areas()
