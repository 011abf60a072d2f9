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
import functools
import json
from datetime import date, timedelta

from cryptography.fernet import InvalidToken
from flask import current_app

from ..accounts.models import AuditEvent
from ..accounts.service import record
from ..areas.models import Area
from ..clock import utcnow
from ..crypto import decrypt_contact
from ..extensions import db
from ..pages import csv_cell, neutralise_cell, t
from ..reports.models import (
    CONTACT_METHODS,
    INCIDENT_TYPES,
    PARTS_OF_DAY,
    PERPETRATOR_KINDS,
    POLICE_CONSENT,
    POLICE_HANDLING,
    TARGETED_BECAUSE,
    Report,
)
from ..security import keyed_digester

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
    return referencer()(report_id)


def referencer():
    """reference() for many reports (a pack, a search): report id -> reference, with the
    key derived once."""
    digest = keyed_digester(current_app.config["SECRET_KEY"], "police-reference")

    def one(report_id):
        # The first 10 base32 characters of the digest are its first 50 bits, 5 each.
        bits = int.from_bytes(digest(str(report_id))[:7], "big") >> 6
        code = (_BASE32_PAIRS[bits >> 40] + _BASE32_PAIRS[(bits >> 30) & 1023]
                + _BASE32_PAIRS[(bits >> 20) & 1023] + _BASE32_PAIRS[(bits >> 10) & 1023]
                + _BASE32_PAIRS[bits & 1023])
        return f"{code[:5]}-{code[5:]}"
    return one


# Two base32 characters (RFC 4648 alphabet) for each 10-bit number.
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_BASE32_PAIRS = [a + b for a in _BASE32 for b in _BASE32]


def _conditions(date_from=None, date_to=None, area_slugs=(), received_by=None, report=Report):
    """The WHERE clauses of a pack: shareable consent, the filters, and (for a pack being
    produced) only reports received by the moment its audit was written. report: Report
    or an alias of it."""
    conditions = [report.consent_police.in_(SHAREABLE)]
    if date_from is not None:
        conditions.append(report.occurred_on >= date_from)
    if date_to is not None:
        conditions.append(report.occurred_on <= date_to)
    if area_slugs:
        conditions.append(report.area_id.in_(
            db.select(Area.id).where(Area.slug.in_(list(area_slugs)))))
    if received_by is not None:
        conditions.append(report.received_at <= received_by)
    return conditions


# What a pack row is built from: plain rows (not ORM objects), read a batch at a time.
PACK_COLUMNS = (Report.id, Report.consent_police, Report.police_handling,
                Report.targeted_because, Report.incident_types, Report.perpetrator,
                Area.name.label("area_name"), Report.occurred_on, Report.part_of_day,
                Report.description, Report.offender, Report.contact_encrypted,
                Report.linked_to_id)


def _shareable(date_from=None, date_to=None, area_slugs=(), received_by=None):
    query = (db.select(*PACK_COLUMNS).join(Area, Report.area_id == Area.id)
             .where(*_conditions(date_from, date_to, area_slugs, received_by)))
    return query.order_by(Report.occurred_on, Report.received_at, Report.id)


def pack_rows(date_from=None, date_to=None, area_slugs=()):
    """The police pack: one dict per report that may be shared, oldest incident first,
    with exactly the keys FIELDS[its consent] (values: text, None, or a list of text)."""
    return list(iter_pack_rows(date_from, date_to, area_slugs))


BATCH = 1000


def iter_pack_rows(date_from=None, date_to=None, area_slugs=(), received_by=None):
    """pack_rows() as a generator, read from the database BATCH reports at a time (plain
    rows), so a pack of any size takes the same memory; the linked references of a batch
    come from one or two indexed queries instead of one per report."""
    query = _shareable(date_from, date_to, area_slugs, received_by).execution_options(
        yield_per=BATCH)
    build = _row_builder()
    for batch in db.session.execute(query).partitions():
        groups = _linked_groups(batch)
        for report in batch:
            yield build(report, groups)


def _linked_groups(reports):
    """{root id: [shareable report ids of that incident, oldest first]} for the groups
    that the reports belong to (a report links to its group's first report). Reports
    linked to nothing and linked to by nothing (nearly all) are in no group.

    Two queries on indexes (report.linked_to_id, then the primary key) rather than one
    with an OR of both, which the engines answer by scanning the whole table."""
    ids = {report.id for report in reports}
    roots = {report.linked_to_id for report in reports if report.linked_to_id is not None}
    columns = (Report.id, Report.linked_to_id, Report.received_at)
    members = db.session.execute(
        db.select(*columns).where(Report.linked_to_id.in_(ids | roots),
                                  Report.consent_police.in_(SHAREABLE))).all()
    roots |= {linked_to_id for _, linked_to_id, _ in members}
    if not roots:
        return {}
    firsts = db.session.execute(
        db.select(*columns).where(Report.id.in_(roots),
                                  Report.consent_police.in_(SHAREABLE))).all()
    groups = {}
    for report_id, linked_to_id, _ in sorted({*members, *firsts},
                                             key=lambda row: (row[2], row[0])):
        groups.setdefault(linked_to_id or report_id, []).append(report_id)
    return groups


@functools.lru_cache(maxsize=4096)
def time_window(day):
    """The incident's week, Monday to Sunday, as an ISO 8601 interval "YYYY-MM-DD/YYYY-MM-DD":
    coarse enough not to point at one booking."""
    monday = day - timedelta(days=day.weekday())
    return f"{monday.isoformat()}/{(monday + timedelta(days=6)).isoformat()}"


def pack_row(report, groups=None):
    """One report's pack row: report is a Report, or a row of PACK_COLUMNS."""
    return _row_builder()(report, groups)


def _row_builder():
    """(report, groups) -> its pack row, with what every row of a pack shares (the
    project's name, the reference key) looked up once. A row of PACK_COLUMNS is
    unpacked as a tuple; each row is one dict literal of exactly ANONYMOUS (checked by
    the tests), plus FULL_FIELDS and CONTACT_FIELDS for a full report."""
    source = current_app.config["PROJECT_NAME"]
    ref = referencer()

    def build(report, groups=None):
        if isinstance(report, Report):
            report = tuple(getattr(report, column.key) if column.key != "area_name"
                           else report.area.name for column in PACK_COLUMNS)
        (report_id, consent, handling, targeted_because, incident_types, perpetrator,
         area_name, occurred_on, part_of_day, description, offender, contact_encrypted,
         linked_to_id) = report
        if consent not in FIELDS:  # "none", or a value this code does not know: share nothing
            raise ValueError(f"report {report_id} may not be shared with the police")
        offender = offender or {}
        vehicle = offender.get("vehicle") or {}
        get, in_vehicle = offender.get, vehicle.get
        root_id = linked_to_id or report_id
        if groups is None:
            others = _linked_ids(report_id, root_id)
        else:
            others = [other for other in groups.get(root_id, ()) if other != report_id]
        row = {
            "reference": ref(report_id),
            "source": source,
            "police_consent": consent,
            "handling": handling or DEFAULT_HANDLING,
            "hate_crime": "yes" if targeted_because else "not_said",
            "targeted_because": list(targeted_because or []),
            "incident_types": list(incident_types or []),
            "perpetrator": perpetrator,
            "area": area_name,
            "time_window": time_window(occurred_on),
            "offender_gender": get("gender"),
            "offender_age_range": get("age_range"),
            "offender_height": get("height"),
            "offender_build": get("build"),
            "offender_skin": get("skin"),
            "offender_hair": get("hair"),
            "offender_accent": get("accent"),
            "offender_marks": get("marks"),
            "offender_names": list(get("names") or []),
            "offender_phones": list(get("phones") or []),
            "offender_emails": list(get("emails") or []),
            "offender_handles": list(get("handles") or []),
            "offender_vehicle_make": in_vehicle("make"),
            "offender_vehicle_model": in_vehicle("model"),
            "offender_vehicle_colour": in_vehicle("colour"),
            "offender_vehicle_plate": in_vehicle("plate"),
            "offender_contact_method": get("contact_method"),
            "linked_references": [ref(other) for other in others],
        }
        if consent == "full_report":
            row["occurred_on"] = occurred_on.isoformat()
            row["part_of_day"] = part_of_day
            row["description"] = description
            row.update(_contact_values(report_id, contact_encrypted))
        return row
    return build


def _linked_ids(report_id, root_id):
    """The other shareable reports of an incident, oldest first (one report alone)."""
    return db.session.execute(
        db.select(Report.id)
        .where(db.or_(Report.id == root_id, Report.linked_to_id == root_id),
               Report.id != report_id, Report.consent_police.in_(SHAREABLE))
        .order_by(Report.received_at, Report.id)).scalars().all()


def _contact_values(report_id, contact_encrypted):
    contact = {}
    if contact_encrypted is not None:
        try:
            contact = decrypt_contact(contact_encrypted)
        except InvalidToken:
            current_app.logger.error("report %s: contact details cannot be decrypted "
                                     "(SECRET_KEY or CONTACT_KEY changed)", report_id)
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
    """The pack for the CSV: (columns, a generator of each row's CSV cells), audited and
    committed before the first row is read. Flat memory at any size."""
    received_by = _audit_pack(staff, date_from, date_to, area_slugs)
    full = db.session.execute(db.select(db.exists().where(
        *_conditions(date_from, date_to, area_slugs, received_by),
        Report.consent_police == "full_report"))).scalar()
    header = FIELDS["full_report"] if full else ANONYMOUS
    return header, iter_pack_cells(header, date_from, date_to, area_slugs, received_by)


# CSV cells that skip the formula check because they cannot start a formula: a value of
# a fixed vocabulary (lower-case ASCII words), or of our own formats (references in
# base32, dates, weeks). A vocabulary column holding anything else is still checked,
# so the check is skipped only where its answer is known.
_VOCABULARY = {"police_consent": POLICE_CONSENT, "handling": POLICE_HANDLING,
               "hate_crime": ("yes", "not_said"), "perpetrator": PERPETRATOR_KINDS,
               "part_of_day": PARTS_OF_DAY, "offender_contact_method": CONTACT_METHODS}
_VOCABULARY_LISTS = {"incident_types": INCIDENT_TYPES, "targeted_because": TARGETED_BECAUSE}
_OUR_FORMATS = ("reference", "time_window", "occurred_on", "linked_references")
# The same in every row of a pack or from a short list (the deployment's areas): checked
# once per value.
_REPEATED = ("source", "area")


def csv_cells(header):
    """pack row -> its CSV cells for header, exactly as pages.csv_cell renders each value
    (lists joined with "; ", formulas neutralised), doing the check only where it can
    matter."""
    def vocabulary(known):
        known = frozenset(known)
        return lambda value: value if value in known else csv_cell(value)

    def vocabulary_list(known):
        known = frozenset(known)
        return lambda value: ("; ".join(map(str, value))
                              if value and isinstance(value[0], str) and value[0] in known
                              else csv_cell(value))

    def ours(value):
        if value is None:
            return ""
        return "; ".join(value) if isinstance(value, list) else value

    def repeated():
        seen = {}

        def cell(value):
            if value not in seen:
                seen[value] = csv_cell(value)
            return seen[value]
        return cell

    def renderer(name):
        if name in _VOCABULARY:
            return vocabulary(_VOCABULARY[name])
        if name in _VOCABULARY_LISTS:
            return vocabulary_list(_VOCABULARY_LISTS[name])
        if name in _OUR_FORMATS:
            return ours
        if name in _REPEATED:
            return repeated()
        return csv_cell
    renderers = [(name, renderer(name)) for name in header]
    # Most offender fields are empty: None and [] are an empty cell whatever the column.
    return lambda row: ["" if (value := row.get(name)) is None or value == [] else render(value)
                        for name, render in renderers]


def _text_cell(value):
    """csv_cell(value), with the common case (text starting with an ASCII letter or
    digit, which starts no formula) decided without a call."""
    if value is None:
        return ""
    if value.__class__ is str and value[:1].isascii() and value[:1].isalnum():
        return value
    return csv_cell(value)


def _list_cell(value):
    """The cell of a list field as the row has it (list(value or [])) through csv_cell."""
    if not value:
        return ""
    if value.__class__ is list and all(item.__class__ is str for item in value):
        text = "; ".join(value)
        return text if text[:1].isascii() and text[:1].isalnum() else neutralise_cell(text)
    return csv_cell(list(value))


# The CSV's columns as the database hands them over, without per-value conversion: ids as
# their text, JSON as its text (the incident types and reasons are a handful of distinct
# texts per pack, rendered once each), the day as text on SQLite (its stored ISO form).
_OFFENDER_CELLS = {name: (at, _list_cell if name in OFFENDER_LISTS else _text_cell)
                   for at, name in enumerate(OFFENDER_TEXT + OFFENDER_LISTS, start=10)}
_VEHICLE_CELLS = {name: at for at, name in enumerate(VEHICLE, start=22)}
_CONTACT_METHOD_AT = 26


# Vocabulary values that are their own cell (see _text_cell), found without a call. The
# consent is one of FIELDS (checked on every row), which are all here too.
_PLAIN = {value: value for value in (*POLICE_CONSENT, *POLICE_HANDLING, *PERPETRATOR_KINDS,
                                     *PARTS_OF_DAY) if _text_cell(value) == value}


def _pack_cell_columns(dialect):
    day = Report.occurred_on if dialect == "postgresql" else db.cast(Report.occurred_on, db.Text)
    # The offender as its JSON text too: json.loads of text is the driver's own work
    # without its per-value wrapper (psycopg hands JSON over as bytes, whose encoding
    # json.loads then detects).
    return (_id_text(Report.id), Report.consent_police, Report.police_handling,
            db.cast(Report.targeted_because, db.Text), db.cast(Report.incident_types, db.Text),
            Report.perpetrator, Area.name, day, Report.part_of_day, Report.description,
            db.cast(Report.offender, db.Text), Report.contact_encrypted,
            _id_text(Report.linked_to_id))


def iter_pack_cells(header, date_from=None, date_to=None, area_slugs=(), received_by=None):
    """The CSV cells of the pack's rows for header, exactly csv_cells(header) of
    iter_pack_rows()'s rows (tests compare the two on hostile and oddly shaped values),
    made straight from the database's rows without a dict per row: the ~30 cells of each
    report are most of a pack's time. An offender's cells are set from the keys it has
    (most are empty); values whose rendering repeats (the types, the reasons, the area,
    the week) are rendered once per pack; the incident groups are read once per pack
    (_linked_groups_of_window)."""
    dialect = db.session.get_bind().dialect.name
    query = (db.select(*_pack_cell_columns(dialect)).join(Area, Report.area_id == Area.id)
             .where(*_conditions(date_from, date_to, area_slugs, received_by))
             .order_by(Report.occurred_on, Report.received_at, Report.id)
             .execution_options(yield_per=BATCH))
    full_width = len(header) > len(ANONYMOUS)
    source = csv_cell(current_app.config["PROJECT_NAME"])
    ref = referencer()
    lists, types, areas, weeks, days = {}, {}, {}, {}, {}
    empty_full = [""] * (len(FULL_FIELDS) + len(CONTACT_FIELDS))
    empty_offender = [""] * len(OFFENDER_FIELDS)
    empty_contact = [""] * len(CONTACT_FIELDS)
    plain = _PLAIN
    text, offender_cells, vehicle_cells = _text_cell, _OFFENDER_CELLS, _VEHICLE_CELLS
    loads = json.loads
    groups = _linked_groups_of_window(date_from, date_to, area_slugs, received_by)

    def list_of(raw):
        cell = types.get(raw)
        if cell is None:
            cell = types[raw] = _list_cell(loads(raw)) if raw is not None else ""
        return cell

    def day_of(raw):
        day = days.get(raw)
        if day is None:
            day = days[raw] = raw if raw.__class__ is date else date.fromisoformat(raw)
        return day

    for batch in db.session.execute(query).partitions():
        for (report_id, consent, handling, targeted_because, incident_types, perpetrator,
             area_name, occurred_on, part_of_day, description, offender, contact_encrypted,
             linked_to_id) in batch:
            if consent not in FIELDS:  # never selected; share nothing if it ever were
                raise ValueError(f"report {report_id} may not be shared with the police")
            reasons = lists.get(targeted_because)
            if reasons is None:
                given = loads(targeted_because) if targeted_because is not None else None
                reasons = lists[targeted_because] = ("yes" if given else "not_said",
                                                     _list_cell(given))
            handling = handling or DEFAULT_HANDLING
            row = [ref(report_id), source, consent, plain.get(handling) or text(handling),
                   *reasons]
            area = areas.get(area_name)
            if area is None:
                area = areas[area_name] = csv_cell(area_name)
            day = day_of(occurred_on)
            week = weeks.get(day)
            if week is None:
                week = weeks[day] = time_window(day)
            row += (list_of(incident_types), plain.get(perpetrator) or text(perpetrator), area,
                    week)
            row += empty_offender
            offender = loads(offender) if offender is not None else None
            if offender.__class__ is not dict:
                offender = offender or {}
            for name, value in offender.items():
                if name in offender_cells:
                    at, cell = offender_cells[name]
                    row[at] = cell(value)
                elif name == "vehicle":
                    if value:
                        for part, given in value.items():
                            if part in vehicle_cells:
                                row[vehicle_cells[part]] = text(given)
                elif name == "contact_method":
                    row[_CONTACT_METHOD_AT] = text(value)
            others = groups.get(linked_to_id or report_id)
            row.append("; ".join(ref(other) for other in others if other != report_id)
                       if others else "")
            if full_width and consent == "full_report":
                row += (day.isoformat(), plain.get(part_of_day) or text(part_of_day),
                        text(description))
                if contact_encrypted is None:
                    row += empty_contact
                else:
                    row += map(text, _contact_values(report_id, contact_encrypted).values())
            elif full_width:
                row += empty_full
            yield row


def _linked_groups_of_window(date_from=None, date_to=None, area_slugs=(), received_by=None):
    """_linked_groups() of every report of a pack's window (the filters of _conditions), as
    text: {root id: [shareable report ids of that incident, oldest first]}, by one query
    for the whole pack instead of one per batch (at 1M reports, 100 batches took 100
    queries of 1,000 ids each, and the ids' parsing and binding cost more than the query).

    A group is a root and the reports linked to it (decisions.link keeps groups one level
    deep). The groups wanted are those of the links whose report or root is in the
    window: the links are read by ix_report_linked_to_id (only where set), so the cost
    follows how many reports are linked, not how many are in the window."""
    member, root, other = db.aliased(Report), db.aliased(Report), db.aliased(Report)
    window = (date_from, date_to, area_slugs, received_by)
    roots = db.select(member.linked_to_id).join(root, root.id == member.linked_to_id).where(
        member.linked_to_id.is_not(None), member.consent_police.in_(SHAREABLE),
        db.or_(db.and_(*_conditions(*window, report=member)),
               db.and_(*_conditions(*window, report=root)))).cte("roots")
    shareable = other.consent_police.in_(SHAREABLE)
    # Two statements on indexes (the links, then the roots by primary key), not one OR.
    members = db.select(_id_text(other.linked_to_id), _id_text(other.id), other.received_at).where(
        other.linked_to_id.in_(db.select(roots.c.linked_to_id)), shareable)
    firsts = db.select(_id_text(other.id), _id_text(other.id), other.received_at).where(
        other.id.in_(db.select(roots.c.linked_to_id)), shareable)
    groups = {}
    # Oldest first, the id breaking ties: the ids' text (lower-case hex, fixed width)
    # sorts as the ids do.
    for root_id, report_id, _ in sorted(set(db.session.execute(db.union_all(members, firsts))),
                                        key=lambda row: (row[2], row[1])):
        groups.setdefault(root_id, []).append(report_id)
    return groups


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
    ref = referencer()
    result = db.session.execute(db.select(Report.id).where(*_conditions())
                                .execution_options(yield_per=BATCH))
    try:
        found = next((report_id for report_id in result.scalars() if ref(report_id) == wanted),
                     None)
    finally:
        result.close()
    return None if found is None else db.session.get(Report, found)
