"""Police packs: the reports whose reporter agreed to share them with the police, each
carrying only what that reporter's consent level allows.

pack_rows() is the one place that decides what leaves for the police; the printable
page and the CSV both show its rows and nothing else. Each row is built from an
allow-list per consent level (FIELDS), so a column added to reports later never reaches
a pack by accident, and contact details are decrypted only for `full_report`.

What an intelligence unit needs and nothing more: the project as third-party reporting
source, the hate-crime perception, incident types and perpetrator kind, a coarse place
(the area) and time window (the incident's week), the offender's identifiers and
description, the references of linked reports that may be shared too, the handling note a
moderator chose, and the reference the police quote back to the project. Only a
`full_report` adds the exact date, the reporter's own words and their contact details.
Police who want more quote the reference; the project asks the reporter through their
case (cases.service.record_police_request), the police never contact them directly.
"""
import base64
from datetime import timedelta

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy.orm import contains_eager

from ..accounts.models import AuditEvent
from ..accounts.service import record
from ..areas.models import Area
from ..clock import utcnow
from ..crypto import decrypt_contact
from ..extensions import db
from ..pages import t
from ..reports.models import POLICE_HANDLING, Report
from ..security import keyed_digest

# `reference`: what the police quote back to the project (see reference()); not the
# report id, which was made on the reporter's phone and could tie the pack to that phone.
# `police_consent`: what the reporter agreed to, so the police know why a row has no
# contact details and that they must not seek the reporter out.
# `source`: the project, as a third-party reporting organisation.
INTELLIGENCE_FIELDS = ("reference", "source", "police_consent", "handling", "hate_crime",
                       "targeted_because", "incident_types", "perpetrator", "area",
                       "time_window")
OFFENDER_TEXT = ("gender", "age_range", "height", "build", "skin", "hair", "accent", "marks")
OFFENDER_LISTS = ("names", "phones", "emails", "handles")
VEHICLE = ("make", "model", "colour", "plate")
OFFENDER_FIELDS = (tuple(f"offender_{name}" for name in OFFENDER_TEXT + OFFENDER_LISTS)
                   + tuple(f"offender_vehicle_{name}" for name in VEHICLE)
                   + ("offender_contact_method",))
LINK_FIELDS = ("linked_references",)
FULL_FIELDS = ("occurred_on", "part_of_day", "description")
CONTACT_PARTS = ("name", "phone", "email", "note")
CONTACT_FIELDS = tuple(f"reporter_{name}" for name in CONTACT_PARTS)
# Kept for the page template and older callers: the incident part of a row.
INCIDENT_FIELDS = INTELLIGENCE_FIELDS

# What each consent level lets the police have. "none" is not here: never in a pack.
ANONYMOUS = INTELLIGENCE_FIELDS + OFFENDER_FIELDS + LINK_FIELDS
FIELDS = {
    "anonymous_intelligence": ANONYMOUS,
    # The same fields: the level itself tells the police they may ask the project.
    "contact_via_project": ANONYMOUS,
    "full_report": ANONYMOUS + FULL_FIELDS + CONTACT_FIELDS,
}
SHAREABLE = tuple(FIELDS)
DEFAULT_HANDLING = POLICE_HANDLING[0]


def reference(report_id):
    """A short reference for a report, keyed with SECRET_KEY: stable across packs, and
    staff can find the report from it (report_for_reference), nobody else can."""
    digest = keyed_digest(current_app.config["SECRET_KEY"], "police-reference", str(report_id))
    code = base64.b32encode(digest).decode("ascii")[:10]
    return f"{code[:5]}-{code[5:]}"


def _conditions(date_from=None, date_to=None, area_slugs=(), received_by=None):
    """The WHERE clauses of a pack: shareable consent, the filters, and (for a pack being
    produced) only reports received by the moment its audit was written."""
    conditions = [Report.consent_police.in_(SHAREABLE)]
    if date_from is not None:
        conditions.append(Report.occurred_on >= date_from)
    if date_to is not None:
        conditions.append(Report.occurred_on <= date_to)
    if area_slugs:
        conditions.append(Report.area_id.in_(
            db.select(Area.id).where(Area.slug.in_(list(area_slugs)))))
    if received_by is not None:
        conditions.append(Report.received_at <= received_by)
    return conditions


def _shareable(date_from=None, date_to=None, area_slugs=(), received_by=None):
    query = (db.select(Report).join(Area, Report.area_id == Area.id)
             .options(contains_eager(Report.area))
             .where(*_conditions(date_from, date_to, area_slugs, received_by)))
    return query.order_by(Report.occurred_on, Report.received_at, Report.id)


def shareable_reports(date_from=None, date_to=None, area_slugs=()):
    return db.session.execute(_shareable(date_from, date_to, area_slugs)).scalars().all()


def pack_rows(date_from=None, date_to=None, area_slugs=()):
    """The police pack: one dict per report that may be shared, oldest incident first,
    with exactly the keys FIELDS[its consent] (values: text, None, or a list of text)."""
    return list(iter_pack_rows(date_from, date_to, area_slugs))


BATCH = 1000


def iter_pack_rows(date_from=None, date_to=None, area_slugs=(), received_by=None):
    """pack_rows() as a generator, read from the database BATCH reports at a time, so a
    pack of any size takes the same memory; the linked references of a batch come from
    one query instead of one per report."""
    query = _shareable(date_from, date_to, area_slugs, received_by).execution_options(
        yield_per=BATCH)
    for batch in db.session.execute(query).scalars().partitions():
        groups = _linked_groups(batch)
        for report in batch:
            yield pack_row(report, groups)


def _linked_groups(reports):
    """{root id: [shareable report ids of that incident, oldest first]} for the groups
    that the reports belong to (a report links to its group's first report)."""
    roots = {report.linked_to_id for report in reports if report.linked_to_id is not None}
    roots |= {report.id for report in reports}
    groups = {}
    rows = db.session.execute(
        db.select(Report.id, Report.linked_to_id)
        .where(db.or_(Report.id.in_(roots), Report.linked_to_id.in_(roots)),
               Report.consent_police.in_(SHAREABLE))
        .order_by(Report.received_at, Report.id)).all()
    for report_id, linked_to_id in rows:
        groups.setdefault(linked_to_id or report_id, []).append(report_id)
    return groups


def time_window(day):
    """The incident's week, Monday to Sunday, as an ISO 8601 interval "YYYY-MM-DD/YYYY-MM-DD":
    coarse enough not to point at one booking."""
    monday = day - timedelta(days=day.weekday())
    return f"{monday.isoformat()}/{(monday + timedelta(days=6)).isoformat()}"


def _linked_references(report, groups=None):
    """References of the other reports of the same incident that may be shared too: a
    report whose reporter said "none" is not even mentioned. groups: _linked_groups()
    of the batch the report is in."""
    root_id = report.linked_to_id or report.id
    if groups is not None:
        return [reference(other) for other in groups.get(root_id, ()) if other != report.id]
    others = db.session.execute(
        db.select(Report.id)
        .where(db.or_(Report.id == root_id, Report.linked_to_id == root_id),
               Report.id != report.id, Report.consent_police.in_(SHAREABLE))
        .order_by(Report.received_at, Report.id)).scalars().all()
    return [reference(other) for other in others]


def pack_row(report, groups=None):
    consent = report.consent_police
    if consent not in FIELDS:  # "none", or a value this code does not know: share nothing
        raise ValueError(f"report {report.id} may not be shared with the police")
    offender = report.offender or {}
    vehicle = offender.get("vehicle") or {}
    values = {
        "reference": reference(report.id),
        "source": current_app.config["PROJECT_NAME"],
        "police_consent": consent,
        "handling": report.police_handling or DEFAULT_HANDLING,
        "hate_crime": "yes" if report.targeted_because else "not_said",
        "targeted_because": list(report.targeted_because or []),
        "incident_types": list(report.incident_types or []),
        "perpetrator": report.perpetrator,
        "area": report.area.name,
        "time_window": time_window(report.occurred_on),
        "occurred_on": report.occurred_on.isoformat(),
        "part_of_day": report.part_of_day,
        "description": report.description,
        "offender_contact_method": offender.get("contact_method"),
        "linked_references": _linked_references(report, groups),
    }
    values.update({f"offender_{name}": offender.get(name) for name in OFFENDER_TEXT})
    values.update({f"offender_{name}": list(offender.get(name) or []) for name in OFFENDER_LISTS})
    values.update({f"offender_vehicle_{name}": vehicle.get(name) for name in VEHICLE})
    if consent == "full_report":
        values.update(_contact_values(report))
    return {name: values[name] for name in FIELDS[consent]}


def _contact_values(report):
    contact = {}
    if report.contact_encrypted is not None:
        try:
            contact = decrypt_contact(report.contact_encrypted)
        except InvalidToken:
            current_app.logger.error("report %s: contact details cannot be decrypted "
                                     "(SECRET_KEY or CONTACT_KEY changed)", report.id)
            # Said in the note column, so the pack does not look as if none were given.
            contact = {"note": t("police.contact_unreadable")}
    return {f"reporter_{name}": contact.get(name) for name in CONTACT_PARTS}


def _audit_pack(staff, date_from, date_to, area_slugs):
    """The audit of a pack, written and committed before any of it leaves: one
    `police_pack` event (its target_id is the number of reports) and one
    `police_pack_report` event per report in it, inserted by one INSERT ... SELECT, so
    the audit shows which reports went to the police and who gave them. Ids only, never
    report text. Returns the moment that bounds the pack (reports received later are
    not in it, though they match the filters)."""
    now = utcnow()
    conditions = _conditions(date_from, date_to, area_slugs, received_by=now)
    count = db.session.execute(
        db.select(db.func.count()).select_from(Report).where(*conditions)).scalar_one()
    record(staff, "police_pack", "police_pack", count)
    events = db.select(
        db.literal(now, AuditEvent.at.type), db.literal(staff.id if staff else None, db.Integer),
        db.literal("police_pack_report"), db.literal("report"), _id_text(Report.id),
    ).where(*conditions)
    db.session.execute(db.insert(AuditEvent).from_select(
        ["at", "staff_id", "action", "target_type", "target_id"], events))
    db.session.commit()
    return now


def _id_text(column):
    """A report id as str(uuid.UUID) gives it, in SQL: PostgreSQL stores a uuid, SQLite
    32 hex digits."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.cast(column, db.String)
    hexed = db.func.lower(db.cast(column, db.String))
    parts = [db.func.substr(hexed, start, length)
             for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))]
    text = parts[0]
    for part in parts[1:]:
        text = text + "-" + part
    return text


def produce_pack(staff, date_from=None, date_to=None, area_slugs=()):
    """pack_rows(), audited (see _audit_pack). Commits."""
    received_by = _audit_pack(staff, date_from, date_to, area_slugs)
    return list(iter_pack_rows(date_from, date_to, area_slugs, received_by))


def stream_pack(staff, date_from=None, date_to=None, area_slugs=()):
    """The pack for the CSV: (columns, a generator of rows), audited and committed
    before the first row is read. Flat memory at any size."""
    received_by = _audit_pack(staff, date_from, date_to, area_slugs)
    full = db.session.execute(db.select(db.exists().where(
        *_conditions(date_from, date_to, area_slugs, received_by),
        Report.consent_police == "full_report"))).scalar()
    header = FIELDS["full_report"] if full else ANONYMOUS
    return header, iter_pack_rows(date_from, date_to, area_slugs, received_by)


def columns(rows):
    """The CSV columns: those of the widest consent level in the pack."""
    if any(row["police_consent"] == "full_report" for row in rows):
        return FIELDS["full_report"]
    return ANONYMOUS


def set_handling(staff, report, handling):
    """The handling note (POLICE_HANDLING) a moderator chooses for a report's pack rows.
    Audited; commits."""
    if handling not in POLICE_HANDLING:
        raise ValueError(f"unknown handling note {handling!r}")
    report.police_handling = handling
    record(staff, "police_handling_set", "report", report.id)
    db.session.commit()
    return report


def report_for_reference(text):
    """The shareable report a pack reference points at, or None (staff tools)."""
    wanted = (text or "").strip().upper()
    for report in db.session.execute(_shareable()).scalars():
        if reference(report.id) == wanted:
            return report
    return None
