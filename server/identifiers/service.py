"""Indexing identifiers in their normalised form, and finding the records that carry one.

This package knows no report or alert model: callers (reports, moderation, checks) join
the Identifier rows to their own tables."""
from ..clock import utcnow
from ..extensions import db
from . import normalise
from .models import Identifier, WithdrawnIdentifier


def identifier_rows(report_id, offender):
    """The identifier rows of a report (dicts for an INSERT), normalised. No database
    work, so a sync batch does it before it takes the write lock."""
    return [{"kind": kind, "value": value, "report_id": report_id}
            for kind, value, _raw in normalise.from_offender(offender, normalise.default_region())]


def read_phones(offenders):
    """Read the phone numbers of these offender descriptions (dicts, or None) now, one
    after another, into normalise.read_phone's memory (its last 4,096 answers), where
    identifier_rows() then finds them: a sync batch reads its numbers in one run, which
    costs about half the CPU of reading each between the other work on its report. Any
    failure is left for identifier_rows() to meet again, with its report."""
    region = normalise.default_region()
    for offender in offenders:
        try:
            for raw in (offender or {}).get("phones") or []:
                normalise.read_phone(raw, region)
        except Exception:  # met again by identifier_rows(), with its report
            continue


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
        value = normalise.normalise(item["kind"], item["value"], normalise.default_region())
        if value and is_withdrawn(item["kind"], value):
            continue
        if value and (item["kind"], value) not in seen:
            seen.add((item["kind"], value))
            db.session.add(Identifier(kind=item["kind"], value=value, alert_id=alert.id,
                                      display=item.get("display", "full")))


def times_reported(identifiers):
    """How many distinct reports carry any of these (kind, raw value) identifiers."""
    pairs = {(kind, normalise.normalise(kind, raw, normalise.default_region())) for kind, raw in identifiers}
    pairs = {p for p in pairs if p[1]}
    if not pairs:
        return 0
    return db.session.execute(
        db.select(db.func.count(db.distinct(Identifier.report_id)))
        .where(Identifier.report_id.is_not(None),
               db.tuple_(Identifier.kind, Identifier.value).in_(pairs))).scalar_one()


def reports_carrying(kind, raw):
    """A subquery of the ids of every report that carries this identifier, however it
    was written (staff search)."""
    value = normalise.normalise(kind, raw, normalise.default_region())
    return (db.select(Identifier.report_id)
            .where(Identifier.kind == kind, Identifier.value == value,
                   Identifier.report_id.is_not(None)))


def is_withdrawn(kind, value):
    """Whether this normalised identifier was withdrawn from checks."""
    return db.session.execute(
        db.select(WithdrawnIdentifier.id).where(WithdrawnIdentifier.kind == kind,
                                                WithdrawnIdentifier.value == value)
    ).first() is not None


def withdraw(kind, value, now=None):
    """Withdraw a normalised identifier from checks, in the caller's transaction: it is
    recorded, and every alert's index row for it goes. Returns the ids of the alerts
    that carried it."""
    if not is_withdrawn(kind, value):
        db.session.add(WithdrawnIdentifier(kind=kind, value=value, withdrawn_at=now or utcnow()))
    alert_ids = list(db.session.execute(
        db.select(Identifier.alert_id).where(Identifier.kind == kind, Identifier.value == value,
                                             Identifier.alert_id.is_not(None))).scalars())
    db.session.execute(db.delete(Identifier).where(
        Identifier.kind == kind, Identifier.value == value, Identifier.alert_id.is_not(None)))
    return alert_ids
