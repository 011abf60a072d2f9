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


def _counts(date_from=None, date_to=None):
    """Exact counts: private to this module."""
    query = db.select(Report.occurred_on, Report.area_id, Report.incident_types,
                      Report.perpetrator, Report.targeted_because).where(
        Report.linked_to_id.is_(None))
    if date_from is not None:
        query = query.where(Report.occurred_on >= date_from)
    if date_to is not None:
        query = query.where(Report.occurred_on <= date_to)
    total, months, types, areas = 0, Counter(), Counter(), Counter()
    perpetrators, targeted, online_harm = Counter(), Counter(), 0
    first = last = None
    # A few small columns per report, counted here: the same code on SQLite and
    # PostgreSQL (incident types are a JSON list), and fast enough for 100,000 reports.
    # Reports past their retention period are counted from their anonymous tally (one row
    # per incident, by month; see server/retention).
    tallies = db.select(ReportTally.month, ReportTally.area_id, ReportTally.incident_types,
                        ReportTally.perpetrator, ReportTally.targeted_because)
    if date_from is not None:
        tallies = tallies.where(ReportTally.month >= date_from.replace(day=1))
    if date_to is not None:
        tallies = tallies.where(ReportTally.month <= date_to)
    for occurred_on, area_id, incident_types, perpetrator, because in (
            *db.session.execute(query), *db.session.execute(tallies)):
        total += 1
        months[_month(occurred_on)] += 1
        areas[area_id] += 1
        types.update(set(incident_types or []))
        online_harm += bool(set(incident_types or []) & set(ONLINE_HARM))
        perpetrators[perpetrator or NOT_SAID] += 1
        targeted.update(set(because or []) or {NOT_SAID})
        first = occurred_on if first is None or occurred_on < first else first
        last = occurred_on if last is None or occurred_on > last else last
    month_list = _months_between(first, last) if total else []
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
