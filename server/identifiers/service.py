"""Indexing identifiers, linking reports that share one, and checking a number."""
from collections import defaultdict

from flask import current_app

from ..alerts.models import Alert
from ..alerts.service import live_clause
from ..extensions import db
from ..reports.models import Report, utcnow
from . import normalise
from .models import Identifier


def _region():
    return current_app.config.get("DEFAULT_PHONE_REGION", "GB")


def identifier_rows(report_id, offender):
    """The identifier rows of a report (dicts for an INSERT), normalised. No database
    work, so a sync batch does it before it takes the write lock."""
    return [{"kind": kind, "value": value, "report_id": report_id}
            for kind, value, _raw in normalise.from_offender(offender, _region())]


def index_report(report_id, offender, new=False, rows=None):
    """(Re)write the identifiers of a report, in the caller's transaction, so a report
    and its identifiers are stored together or not at all. new=True: the report was
    inserted in this transaction, so it has none to delete yet. rows: identifier_rows()
    made earlier."""
    if not new:
        db.session.execute(db.delete(Identifier).where(Identifier.report_id == report_id))
    if rows is None:
        rows = identifier_rows(report_id, offender)
    if rows:
        db.session.execute(Identifier.__table__.insert(), rows)


def index_alert(alert):
    """(Re)write the identifiers of an alert with the display staff chose for each."""
    db.session.execute(db.delete(Identifier).where(Identifier.alert_id == alert.id))
    seen = set()
    for item in alert.identifiers or []:
        value = normalise.normalise(item["kind"], item["value"], _region())
        if value and (item["kind"], value) not in seen:
            seen.add((item["kind"], value))
            db.session.add(Identifier(kind=item["kind"], value=value, alert_id=alert.id,
                                      display=item.get("display", "full")))


def shared_with(report):
    """Other reports that share a normalised identifier with this one:
    {(kind, value): [report ids, newest first]}."""
    mine = db.select(Identifier.kind, Identifier.value).where(Identifier.report_id == report.id)
    rows = db.session.execute(
        db.select(Identifier.kind, Identifier.value, Identifier.report_id)
        .join(Report, Report.id == Identifier.report_id)
        .where(db.tuple_(Identifier.kind, Identifier.value).in_(mine),
               Identifier.report_id != report.id)
        .order_by(Report.received_at.desc())).all()
    shared = defaultdict(list)
    for kind, value, report_id in rows:
        if report_id not in shared[(kind, value)]:
            shared[(kind, value)].append(report_id)
    return dict(shared)


def times_reported(identifiers):
    """How many distinct reports carry any of these (kind, raw value) identifiers."""
    pairs = {(kind, normalise.normalise(kind, raw, _region())) for kind, raw in identifiers}
    pairs = {p for p in pairs if p[1]}
    if not pairs:
        return 0
    return db.session.execute(
        db.select(db.func.count(db.distinct(Identifier.report_id)))
        .where(Identifier.report_id.is_not(None),
               db.tuple_(Identifier.kind, Identifier.value).in_(pairs))).scalar_one()


def check(kind, raw, now=None):
    """A member's check of one identifier: (alerts that show it, in full or masked,
    newest first; whether a live alert carries it hidden). A hidden identifier still
    matches, but its alert is not revealed: the member is told to contact the project."""
    value = normalise.normalise(kind, raw, _region())
    if value is None:
        return [], False
    rows = db.session.execute(
        db.select(Alert, Identifier.display)
        .join(Identifier, Identifier.alert_id == Alert.id)
        .where(Identifier.kind == kind, Identifier.value == value,
               live_clause(now or utcnow()))
        .order_by(Alert.published_at.desc())).all()
    shown = [alert for alert, display in rows if display != "hidden"]
    withheld = any(display == "hidden" for _alert, display in rows)
    return shown, withheld


def reports_carrying(kind, raw):
    """A subquery of the ids of every report that carries this identifier, however it
    was written (staff search)."""
    value = normalise.normalise(kind, raw, _region())
    return (db.select(Identifier.report_id)
            .where(Identifier.kind == kind, Identifier.value == value,
                   Identifier.report_id.is_not(None)))
