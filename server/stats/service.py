"""Statistics: counts of reports by month, incident type and area, with small counts
suppressed.

Also by perpetrator kind and by hate-crime perception (each with "not_said"), and how many
reports name any online-harm type.

statistics() is the only way figures leave this module, and every count in it under
SUPPRESS_BELOW is already the string "<5": the JSON, the CSV and the page all show its
output, so none of them can show an exact small count.

What is counted: reports by the date of the incident (occurred_on), within an optional
inclusive date range. A report a moderator linked to another as the same incident
counts once (only the first of the group, which links to nothing). A report naming
several incident types counts once under each.

Known limit, kept simple on purpose: the total is shown (unless it is itself under 5),
so where a breakdown suppresses exactly one cell, the total minus the other cells gives
that cell away. Months, areas and incident types are listed in full, zeros included
(shown as "<5" too), so the list itself does not tell an empty cell from a small one.
"""
from collections import Counter
from datetime import date

from ..areas.service import areas_by_name
from ..extensions import db
from ..reports.models import INCIDENT_TYPES, ONLINE_HARM, PERPETRATOR_KINDS, TARGETED_BECAUSE, Report
from .models import ReportTally

NOT_SAID = "not_said"

SUPPRESS_BELOW = 5
SUPPRESSED = "<5"


def shown(count):
    return SUPPRESSED if count < SUPPRESS_BELOW else count


def _month(day):
    return f"{day.year:04d}-{day.month:02d}"


def _months_between(first, last):
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _names(column, value):
    """1 when the JSON list in column names value, else 0. A JSON list of names from a
    fixed vocabulary, matched as its quoted text: one pass over the column, the same SQL
    on SQLite and PostgreSQL, where unpacking the list (json_each,
    json_array_elements_text) would cost a row per element."""
    text = db.cast(column, db.Text)
    return db.case((text.like(f'%"{value}"%'), 1), else_=0)


def _month_of(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return db.func.to_char(column, "YYYY-MM")
    return db.func.strftime("%Y-%m", column)


def _grouped(model, day, conditions):
    """One grouped pass over model (Report, or ReportTally for purged reports): rows of
    (month, area_id, perpetrator, count, not said why, online harm, a count per incident
    type, a count per reason)."""
    month = _month_of(day).label("month")
    type_sums = [db.func.sum(_names(model.incident_types, kind)) for kind in INCIDENT_TYPES]
    reason_sums = [db.func.sum(_names(model.targeted_because, kind))
                   for kind in TARGETED_BECAUSE]
    any_reason = sum((_names(model.targeted_because, kind) for kind in TARGETED_BECAUSE),
                     db.literal(0))
    any_online = sum((_names(model.incident_types, kind) for kind in ONLINE_HARM),
                     db.literal(0))
    return db.session.execute(
        db.select(month, model.area_id, model.perpetrator, db.func.count(),
                  db.func.sum(db.case((any_reason == 0, 1), else_=0)),
                  db.func.sum(db.case((any_online > 0, 1), else_=0)),
                  *type_sums, *reason_sums)
        .where(*conditions)
        .group_by(month, model.area_id, model.perpetrator)).all()


def _counts(date_from=None, date_to=None):
    """Exact counts: private to this module. Counted by the database in one grouped pass
    (by month, area and perpetrator, with a sum per incident type and per reason), so
    only a few hundred group rows come back whatever the number of reports. Reports past
    their retention period are counted from their anonymous tally (one row per incident,
    by month; see server/retention), grouped the same way."""
    reports = [Report.linked_to_id.is_(None)]
    tallies = []
    if date_from is not None:
        reports.append(Report.occurred_on >= date_from)
        tallies.append(ReportTally.month >= date_from.replace(day=1))
    if date_to is not None:
        reports.append(Report.occurred_on <= date_to)
        tallies.append(ReportTally.month <= date_to)
    total, months, types, areas = 0, Counter(), Counter(), Counter()
    perpetrators, targeted, online_harm = Counter(), Counter(), 0
    width = len(INCIDENT_TYPES)
    for row in (*_grouped(Report, Report.occurred_on, reports),
                *_grouped(ReportTally, ReportTally.month, tallies)):
        month_key, area_id, perpetrator, count, reason_not_said, online = row[:6]
        total += count
        months[month_key] += count
        areas[area_id] += count
        perpetrators[perpetrator or NOT_SAID] += count
        targeted[NOT_SAID] += reason_not_said or 0
        online_harm += online or 0
        types.update(dict(zip(INCIDENT_TYPES, (n or 0 for n in row[6:6 + width]), strict=True)))
        targeted.update(dict(zip(TARGETED_BECAUSE, (n or 0 for n in row[6 + width:]),
                                 strict=True)))
    if total:
        first, last = min(months), max(months)
        month_list = _months_between(date(int(first[:4]), int(first[5:]), 1),
                                     date(int(last[:4]), int(last[5:]), 1))
    else:
        month_list = []
    return {"total": total, "months": [(m, months[m]) for m in month_list], "types": types,
            "areas": areas, "perpetrators": perpetrators, "targeted": targeted,
            "online_harm": online_harm}


def statistics(date_from=None, date_to=None):
    """The figures for the JSON, the CSV and the page: every count under 5 is "<5"."""
    counts = _counts(date_from, date_to)
    total, months, types, areas = (counts[k] for k in ("total", "months", "types", "areas"))
    all_areas = areas_by_name()
    return {
        "from": date_from.isoformat() if isinstance(date_from, date) else None,
        "to": date_to.isoformat() if isinstance(date_to, date) else None,
        "suppressed_below": SUPPRESS_BELOW,
        "total": shown(total),
        "by_month": [{"month": month, "count": shown(count)} for month, count in months],
        "by_incident_type": [{"incident_type": kind, "count": shown(types[kind])}
                             for kind in INCIDENT_TYPES],
        "by_area": [{"area": area.slug, "name": area.name, "count": shown(areas[area.id])}
                    for area in all_areas],
        # Reports naming any online-harm type (outing, blackmail, image-based abuse, doxxing).
        "online_harm": shown(counts["online_harm"]),
        "by_perpetrator": [{"perpetrator": kind, "count": shown(counts["perpetrators"][kind])}
                           for kind in PERPETRATOR_KINDS + (NOT_SAID,)],
        # Hate crime on the reporter's perception: a report naming several reasons counts
        # under each.
        "by_targeted_because": [{"targeted_because": kind,
                                 "count": shown(counts["targeted"][kind])}
                                for kind in TARGETED_BECAUSE + (NOT_SAID,)],
    }


def csv_rows(figures, label):
    """(breakdown, key, label, count) rows of statistics(); label(kind, key) -> text."""
    rows = [("total", "", label("total", ""), figures["total"])]
    rows += [("month", item["month"], label("month", item["month"]), item["count"])
             for item in figures["by_month"]]
    rows += [("incident_type", item["incident_type"],
              label("incident_type", item["incident_type"]), item["count"])
             for item in figures["by_incident_type"]]
    rows += [("area", item["area"], item["name"], item["count"]) for item in figures["by_area"]]
    rows += [("online_harm", "", label("online_harm", ""), figures["online_harm"])]
    rows += [("perpetrator", item["perpetrator"], label("perpetrator", item["perpetrator"]),
              item["count"]) for item in figures["by_perpetrator"]]
    rows += [("targeted_because", item["targeted_because"],
              label("targeted_because", item["targeted_because"]), item["count"])
             for item in figures["by_targeted_because"]]
    return rows
