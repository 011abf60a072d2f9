"""The paper bulletin (outreach and up): one printable A4 page of the live alerts."""
from flask import g
from flask_smorest import Blueprint

from ..accounts.auth import staff_required
from ..areas.service import areas_by_name, areas_by_slugs
from ..pages import PRINTABLE_PAGE, page_query, render_page
from . import service
from .schemas import BulletinQuerySchema

blp = Blueprint("bulletins", __name__,
                description="Paper bulletins of the live alerts (outreach session)")


@blp.route("/staff/print/bulletin")
@staff_required("outreach")
@blp.doc(**PRINTABLE_PAGE)
def bulletin_page():
    """The live alerts of the chosen areas (?area=slug, repeatable; none: all areas) on
    a printable page with a neutral heading, identifiers as members see them (audited:
    bulletin_printed)."""
    query, errors = page_query(BulletinQuerySchema())
    chosen = query.get("area") or []
    context = {"areas": areas_by_name(), "chosen": chosen, "errors": errors}
    if errors:
        return render_page("bulletin.html", status=422, items=None, chosen_names=[], **context)
    names = sorted(area.name for area in areas_by_slugs(chosen))
    items = service.print_bulletin(g.staff, chosen)
    return render_page("bulletin.html", items=items, chosen_names=names, **context)
