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
from datetime import date, timedelta

from ..areas.service import areas_by_name
from ..extensions import db
from ..reports.models import INCIDENT_TYPES, ONLINE_HARM, PERPETRATOR_KINDS, TARGETED_BECAUSE, Report
from .models import ReportTally, count_columns, report_count, report_count_change

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


def recount(date_from=None, date_to=None):
    """_counts() counted afresh from every report and tally, in one grouped pass over
    each (by month, area and perpetrator, with a sum per incident type and per reason):
    what the maintained summary must always equal (the tests compare them), and what it
    was built from (migration 0011)."""
    reports = [Report.linked_to_id.is_(None)]
    tallies = []
    if date_from is not None:
        reports.append(Report.occurred_on >= date_from)
        tallies.append(ReportTally.month >= date_from.replace(day=1))
    if date_to is not None:
        reports.append(Report.occurred_on <= date_to)
        tallies.append(ReportTally.month <= date_to)
    return _add_up((*_grouped(Report, Report.occurred_on, reports),
                    *_grouped(ReportTally, ReportTally.month, tallies)))


def _add_up(rows, areas=None, perpetrators=None):
    """Rows of (month "YYYY-MM", area_id, perpetrator, count, not said why, online harm,
    a count per incident type, a count per reason) -> the exact counts; the columns are
    summed whole, not cell by cell. areas, perpetrators: [(key, count)] when given apart
    (the rows' own are then None)."""
    rows = [row for row in rows if row[3]]  # a summary row whose reports have all gone: none
    months = Counter()
    for month_key, _area_id, _perpetrator, count, *_ in rows:
        months[month_key] += count
    if areas is None:
        areas = [(row[1], row[3]) for row in rows]
        perpetrators = [(row[2], row[3]) for row in rows]
    area_counts, perpetrator_counts = Counter(), Counter()
    for area_id, count in areas:
        if count:
            area_counts[area_id] += count
    for perpetrator, count in perpetrators:
        if count:
            perpetrator_counts[perpetrator or NOT_SAID] += count
    areas, perpetrators = area_counts, perpetrator_counts
    width = 3 + len(INCIDENT_TYPES) + len(TARGETED_BECAUSE)
    sums = ([sum(column) for column in zip(*(row[3:] for row in rows), strict=True)]
            or [0] * width)
    total, reason_not_said, online_harm = sums[:3]
    types = Counter(dict(zip(INCIDENT_TYPES, sums[3:3 + len(INCIDENT_TYPES)], strict=True)))
    targeted = Counter(dict(zip(TARGETED_BECAUSE, sums[3 + len(INCIDENT_TYPES):], strict=True)))
    targeted[NOT_SAID] += reason_not_said
    if total:
        first, last = min(months), max(months)
        month_list = _months_between(date(int(first[:4]), int(first[5:]), 1),
                                     date(int(last[:4]), int(last[5:]), 1))
    else:
        month_list = []
    return {"total": total, "months": [(m, months[m]) for m in month_list], "types": types,
            "areas": areas, "perpetrators": perpetrators, "targeted": targeted,
            "online_harm": online_harm}


def _counts(date_from=None, date_to=None):
    """Exact counts: private to this module. Read from the maintained summary
    (report_count, see stats.models) after folding in the changes since the last read:
    a few thousand rows whatever the number of reports. Whole months of the range come
    from its month rows, the days of a month the range covers only in part from its day
    rows; reports past their retention period from their tally's month rows (a tally
    counts when its month meets the range, as recount() does)."""
    compact()
    summary = report_count.c
    # Whole months: the first day of the first, and the day after the last (None: no
    # bound; December 9999 has no month after it).
    whole_from = date_from if date_from is None or date_from.day == 1 else _next_month(date_from)
    whole_to = None
    if date_to is not None:
        last_day = date_to == date.max or (date_to + timedelta(days=1)).day == 1
        whole_to = _next_month(date_to) if last_day else date_to.replace(day=1)
    no_whole_month = (date_from is not None and whole_from is None) or (
        whole_from is not None and whole_to is not None and whole_from >= whole_to)

    def days(first, last=None, before=None):
        conditions = [summary.grain == "d", summary.period >= first]
        if last is not None:
            conditions.append(summary.period <= last)
        if before is not None:
            conditions.append(summary.period < before)
        return db.and_(*conditions)
    if no_whole_month:
        reports = [days(date_from or date.min, date_to)]
    else:
        months = [summary.grain == "m"]
        if whole_from is not None:
            months.append(summary.period >= whole_from)
        if whole_to is not None:
            months.append(summary.period < whole_to)
        reports = [db.and_(*months)]
        if date_from is not None and whole_from != date_from:
            reports.append(days(date_from, before=whole_from))
        if date_to is not None and whole_to is not None:
            reports.append(days(whole_to, date_to))
    tallies = [summary.grain == "t"]
    if date_from is not None:
        tallies.append(summary.period >= date_from.replace(day=1))
    if date_to is not None:
        tallies.append(summary.period <= date_to)
    # Added up by the database in one statement, at most a few hundred rows: by period
    # with every column (months; the days of a month in part), by area, by perpetrator.
    wanted = db.or_(*reports, db.and_(*tallies))
    nothing = [db.cast(db.null(), db.Integer)] * (len(COUNT_COLUMNS) - 1)
    no_date, no_area = db.cast(db.null(), db.Date), db.cast(db.null(), db.Integer)
    no_perpetrator = db.cast(db.null(), db.String)
    rows = db.session.execute(db.union_all(
        db.select(summary.period, no_area, no_perpetrator,
                  *(db.func.sum(summary[name]) for name in COUNT_COLUMNS))
        .where(wanted).group_by(summary.period),
        db.select(no_date, summary.area_id, no_perpetrator, db.func.sum(summary.total),
                  *nothing).where(wanted).group_by(summary.area_id),
        db.select(no_date, no_area, summary.perpetrator, db.func.sum(summary.total),
                  *nothing).where(wanted).group_by(summary.perpetrator))).all()
    return _add_up([(_month(period), None, None, *sums) for period, _, _, *sums in rows
                    if period is not None],
                   areas=[(area_id, row[3]) for row in rows
                          if (area_id := row[1]) is not None],
                   perpetrators=[(row[2], row[3]) for row in rows
                                 if row[0] is None and row[1] is None])


def _next_month(day):
    """The first day of the month after day's; None after December 9999."""
    if day.month == 12:
        return None if day.year == date.max.year else date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


COUNT_COLUMNS = count_columns(INCIDENT_TYPES, TARGETED_BECAUSE)
# pg_advisory_xact_lock key of compact(): one compaction at a time.
_COMPACT_LOCK = 0x7265645F636F756E  # "red_coun"
# On PostgreSQL a fold of at least this many changes (a bulk import, a retention purge)
# is followed by a VACUUM of report_count_change: its deleted rows stay in the table's
# pages until vacuumed, and every read of the statistics scans them to see whether
# there is anything to fold (1M of them: 16-22 ms of a 30 ms read, 230 ms when cold, until
# autovacuum came round a minute or more later). Everyday folds are a few rows, left to
# autovacuum.
VACUUM_AFTER = 10_000


def compact(prune=False):
    """Fold report_count_change into report_count and empty it, exactly: on PostgreSQL
    the rows deleted are the rows added up (one statement; changes committed meanwhile
    wait for the next time), on SQLite the single writer makes the two statements one
    step. One at a time (an advisory lock), so two never update the same summary rows
    in opposite orders. prune: also drop summary rows left at zero (their reports
    purged). Commits when there was anything to do; on PostgreSQL a fold of at least
    VACUUM_AFTER changes then vacuums the change table (vacuum_changes())."""
    has_changes = db.session.execute(
        db.select(report_count_change.c.id).limit(1)).first() is not None
    if not has_changes and not prune:
        return
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    columns = ", ".join(COUNT_COLUMNS)
    if postgresql:
        db.session.execute(db.text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": _COMPACT_LOCK})
        changes, month = "moved", "CAST(date_trunc('month', period) AS DATE)"
        # The fold is a data-modifying CTE; the statement answers how many changes it moved.
        head = "WITH moved AS (DELETE FROM report_count_change RETURNING *), folded AS ("
        tail = ") SELECT count(*) FROM moved"
    else:
        changes, month = "report_count_change", "date(period, 'start of month')"
        head = tail = ""
    folded = db.session.execute(db.text(
        f"{head}INSERT INTO report_count (grain, period, area_id, perpetrator, {columns}) "
        f"SELECT grain, period, area_id, perpetrator, "
        f"{', '.join(f'SUM({name})' for name in COUNT_COLUMNS)} FROM ("
        f"SELECT 'd' AS grain, period, area_id, perpetrator, {columns} FROM {changes} "
        f"WHERE grain = 'r' UNION ALL "
        f"SELECT 'm', {month}, area_id, perpetrator, {columns} FROM {changes} "
        f"WHERE grain = 'r' UNION ALL "
        f"SELECT 't', period, area_id, perpetrator, {columns} FROM {changes} "
        f"WHERE grain = 't') AS changes "
        # WHERE: SQLite reads an ON after a bare FROM (...) as a join's.
        f"WHERE 1 = 1 GROUP BY grain, period, area_id, perpetrator "
        f"ON CONFLICT (grain, period, area_id, perpetrator) DO UPDATE SET "
        + ", ".join(f"{name} = report_count.{name} + excluded.{name}"
                    for name in COUNT_COLUMNS) + tail))
    moved = folded.scalar_one() if postgresql else 0
    if not postgresql:
        db.session.execute(db.text("DELETE FROM report_count_change"))
    if prune:
        db.session.execute(db.text("DELETE FROM report_count WHERE total = 0"))
    db.session.commit()
    if moved >= VACUUM_AFTER:
        vacuum_changes()


def vacuum_changes():
    """VACUUM report_count_change (PostgreSQL), outside any transaction as VACUUM must
    be: frees the pages of the changes folded so far, so the next read of the
    statistics does not scan them. Takes no lock that writers wait for."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(db.text("VACUUM report_count_change"))


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
