"""Statistics (moderator and up): JSON, CSV and a page with SVG bar charts, all from
stats.service.statistics(), so all three suppress small counts alike."""
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..accounts.auth import staff_required
from ..clock import utcnow
from ..pages import PRINTABLE_PAGE, csv_download, format_month, page_query, render_page, t
from . import service
from .schemas import StatsQuerySchema, StatsSchema

blp = Blueprint("stats", __name__,
                description='Report statistics; every count under 5 is "<5" (moderator session)')

# The bar charts, in SVG user units (the SVG scales to the page width).
CHART_WIDTH = 720
LABEL_WIDTH = 230
BAR_SPACE = 420
ROW_HEIGHT = 28
BAR_HEIGHT = 20


def _range(query):
    return query.get("date_from"), query.get("date_to")


@blp.route("/api/v1/staff/stats")
@staff_required("moderator")
@blp.arguments(StatsQuerySchema, location="query", unknown=RAISE)
@blp.response(200, StatsSchema)
def stats(query):
    """Reports by month, incident type and area (by incident date, ?from=&to= optional
    and inclusive). Every count under 5, zeros included, is the string "<5"."""
    return service.statistics(*_range(query))


def label(kind, key):
    if kind == "total":
        return t("stats.total_label")
    if kind == "month":
        return format_month(key)
    if kind == "online_harm":
        return t("stats.online_harm_label")
    if kind == "perpetrator":
        return t(f"perpetrator.{key}")
    if kind == "targeted_because":
        return t(f"targeted.{key}")
    return t(f"incident.{key}")


@blp.route("/api/v1/staff/stats.csv")
@staff_required("moderator")
@blp.arguments(StatsQuerySchema, location="query", unknown=RAISE)
@blp.doc(responses={"200": {"description": "The same figures as CSV (an attachment)",
                            "content": {"text/csv": {}}}})
def stats_csv(query):
    """The same figures and suppression as GET /api/v1/staff/stats, as CSV with the
    columns breakdown (total, month, incident_type, area, online_harm, perpetrator,
    targeted_because), key, label, count."""
    figures = service.statistics(*_range(query))
    return csv_download(("breakdown", "key", "label", "count"),
                        service.csv_rows(figures, label),
                        f"statistics-{utcnow().date().isoformat()}.csv")


def chart(key, title, items):
    """One horizontal bar chart: [(label, count)] -> the numbers the template draws.
    A "<5" gets no bar, so a suppressed count has no length to measure."""
    numbers = [count for _, count in items if isinstance(count, int)]
    longest = max(numbers, default=0)
    bars = []
    for index, (text, count) in enumerate(items):
        width = round(BAR_SPACE * count / longest, 1) if isinstance(count, int) and longest else 0
        y = index * ROW_HEIGHT
        bars.append({"label": text, "count": count, "width": width, "y": y,
                     "text_y": y + BAR_HEIGHT - 5})
    # Every cell "<5": no bar to draw, so the page says so in words instead of empty bars.
    return {"id": key, "title": title, "bars": bars, "all_suppressed": bool(items) and not numbers,
            "width": CHART_WIDTH,
            "height": max(len(items), 1) * ROW_HEIGHT, "label_width": LABEL_WIDTH,
            "bar_x": LABEL_WIDTH + 8, "bar_height": BAR_HEIGHT}


@blp.route("/staff/print/stats")
@staff_required("moderator")
@blp.doc(**PRINTABLE_PAGE)
def stats_page():
    """The statistics as a printable page: SVG bar charts and the same figures in tables."""
    query, errors = page_query(StatsQuerySchema())
    if errors:
        return render_page("stats.html", status=422, errors=errors, query={}, figures=None)
    figures = service.statistics(*_range(query))
    charts = [
        chart("by-month", t("stats.by_month"),
              [(format_month(i["month"]), i["count"]) for i in figures["by_month"]]),
        chart("by-type", t("stats.by_incident_type"),
              [(t(f"incident.{i['incident_type']}"), i["count"])
               for i in figures["by_incident_type"]]),
        chart("by-area", t("stats.by_area"),
              [(i["name"], i["count"]) for i in figures["by_area"]]),
        chart("by-perpetrator", t("stats.by_perpetrator"),
              [(label("perpetrator", i["perpetrator"]), i["count"])
               for i in figures["by_perpetrator"]]),
        chart("by-targeted", t("stats.by_targeted_because"),
              [(label("targeted_because", i["targeted_because"]), i["count"])
               for i in figures["by_targeted_because"]]),
    ]
    csv_query = {key: value for key, value in (("from", query.get("date_from")),
                                               ("to", query.get("date_to"))) if value}
    return render_page("stats.html", query=query, figures=figures, charts=charts,
                       csv_query=csv_query, errors={})
