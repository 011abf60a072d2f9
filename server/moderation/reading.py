"""Moderation, reading: the report queue, a report in full for staff (audited), and
what links it to other reports (same incident, same identifiers) and to alerts."""
from collections import defaultdict
from itertools import product

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy.orm import joinedload

from ..accounts.models import Staff
from ..accounts.service import record, role_at_least
from ..alerts import service as alerts
from ..alerts.models import Alert, alert_report
from ..areas.models import Area
from ..crypto import decrypt_contact
from ..extensions import db
from ..identifiers import normalise
from ..identifiers.models import Identifier
from ..identifiers.service import reports_carrying, times_reported
from ..reports import status
from ..reports.models import Report, report_incident_type


def incident_type_filter(incident_types):
    """A WHERE clause: the report has any of these incident types (report_incident_type,
    kept exact by triggers: see reports.models)."""
    return Report.id.in_(db.select(report_incident_type.c.report_id)
                         .where(report_incident_type.c.incident_type.in_(list(incident_types))))


# A queue filtered by several areas or statuses is read as one ordered index range per
# (area, status) pair, merged; past this many pairs, as the whole queue's order, filtered.
FAN_OUT = 16


def _queue_conditions(area_ids=None, statuses=None, incident_types=(), identifier=None,
                      indexed=True):
    """WHERE clauses. One area or status is an equality, which reads its ix_report_queue_*
    index in queue order. Several (or any, when not `indexed`: the page is read from
    another index) are written so that no index is used for them (`+ 0`, `|| ''`): SQLite
    would otherwise read every report of those areas from the index and sort them all,
    where reading the queue's order and filtering stops after a page."""
    conditions = []
    if identifier is not None:
        # Staff search every report by one normalised identifier (phone, plate, ...).
        conditions.append(Report.id.in_(reports_carrying(*identifier)))
    if area_ids is not None:
        conditions.append(Report.area_id == area_ids[0] if len(area_ids) == 1 and indexed
                          else (Report.area_id + 0).in_(area_ids))
    if statuses:
        conditions.append(Report.status == statuses[0] if len(statuses) == 1 and indexed
                          else Report.status.concat("").in_(statuses))
    if incident_types:
        conditions.append(incident_type_filter(incident_types))
    return conditions


def queue_key(report):
    """Where a report stands in the queue: (received_at, id), newest first."""
    return report.received_at, report.id


def report_queue(areas=(), incident_types=(), statuses=(), limit=50, after=None,
                 before=None, identifier=None):
    """(up to `limit` reports newest first, next, previous): next is the queue_key to
    pass as `after` for the older page (None on the last page), previous the one to pass
    as `before` for the newer page (None on the first). `after` starts the page just
    past (older than) that key; `before` ends it just short of (newer than) that key.

    Filters within a list are OR, across lists AND: area in areas AND status in statuses
    AND any of the incident types AND carrying the (kind, raw value) identifier. Paged by
    key, not offset, and never counted: a page is a range read of ix_report_queue_* (one
    per area and status chosen, merged), as cheap on page 20,000 as on the first."""
    area_ids = None
    if areas:
        # The ids, not a subquery: each is then an equality on ix_report_queue_area.
        area_ids = db.session.execute(
            db.select(Area.id).where(Area.slug.in_(list(areas)))).scalars().all()
    statuses = list(statuses)
    branches = list(product([[i] for i in area_ids] if area_ids else [area_ids],
                            [[s] for s in statuses] if statuses else [None]))
    if len(branches) > FAN_OUT:
        branches = [(area_ids, statuses)]
    # An incident-type filter reads report_incident_type's index, in queue order behind
    # each type (one range per type, merged), and checks the other filters on each
    # report by its key: a type few or no reports have costs what its reports cost.
    # An identifier's few reports are read first, the types checked on each.
    kinds = list(dict.fromkeys(incident_types)) or [None]
    if identifier is not None and kinds != [None]:
        kinds = [tuple(kinds)]
    if len(branches) * len(kinds) > FAN_OUT:
        branches = [(area_ids, statuses)]
        kinds = [None] if len(kinds) == 1 and kinds[0] is None else [tuple(kinds)]
    forwards = before is None
    keys = set()
    for (branch_areas, branch_statuses), kind in product(branches, kinds):
        if isinstance(kind, str):
            typed = report_incident_type.c
            at, report_id = typed.received_at, typed.report_id
            query = db.select(at, report_id).where(typed.incident_type == kind)
            conditions = _queue_conditions(branch_areas, branch_statuses, indexed=False)
            if conditions:
                # Checked on each report by its key, as a scalar subquery, which neither
                # engine turns into a join: given a join, PostgreSQL's planner read every
                # report of a status and looked each up (0.9 s at 1M).
                query = query.where(db.select(db.literal(1)).where(
                    Report.id == report_id, *conditions).scalar_subquery().is_not(None))
        else:
            at, report_id = Report.received_at, Report.id
            query = db.select(at, report_id).where(*_queue_conditions(
                branch_areas, branch_statuses, kind or (), identifier))
        # The row comparison is a range on the index (..., received_at, id) on both engines.
        key = db.tuple_(at, report_id)
        if after is not None:
            query = query.where(key < tuple(after))
        if before is not None:
            query = query.where(key > tuple(before))
        order = (at.desc(), report_id.desc()) if forwards else (at, report_id)
        keys.update(map(tuple, db.session.execute(query.order_by(*order).limit(limit + 1))))
    keys = list(keys)
    keys.sort(reverse=forwards)
    more = len(keys) > limit
    keys = keys[:limit] if forwards else keys[:limit][::-1]
    found = {report.id: report for report in db.session.execute(
        db.select(Report).options(joinedload(Report.area))
        .where(Report.id.in_([report_id for _at, report_id in keys]))).scalars()}
    reports = [found[report_id] for _at, report_id in keys if report_id in found]
    older, newer = (more, after is not None) if forwards else (True, more)
    return (reports, queue_key(reports[-1]) if older and reports else None,
            queue_key(reports[0]) if newer and reports else None)


def _area(area):
    return {"slug": area.slug, "name": area.name} if area is not None else None


def report_summary(report):
    """A queue row: what a moderator needs to pick a report, none of its text."""
    return {
        "id": report.id,
        "status": report.status,
        "received_at": report.received_at,
        "occurred_on": report.occurred_on,
        "part_of_day": report.part_of_day,
        "area": _area(report.area),
        "incident_types": report.incident_types,
        "consent": {"publish": report.consent_publish, "police": report.consent_police},
        "support_requested": report.support_requested,
        "perpetrator": report.perpetrator,
        "targeted_because": report.targeted_because or [],
        "police_handling": report.police_handling,
        "on_behalf": report.on_behalf,
        "from_member": report.member_id is not None,
        "linked_to": report.linked_to_id,
    }


def linked_reports(report):
    """The other reports of the same incident. Links form a star: every report of an
    incident points at the first one linked (the root), which points at nothing."""
    root_id = report.linked_to_id or report.id
    # The root by its key and the rest by ix_report_linked_to_id, sorted here: as one
    # query with OR and ORDER BY, SQLite read the whole queue index in order (5 s at 1M).
    others = db.session.execute(
        db.select(Report).where(Report.linked_to_id == root_id, Report.id != report.id)
    ).scalars().all()
    if root_id != report.id and (root := db.session.get(Report, root_id)) is not None:
        others.append(root)
    return sorted(others, key=queue_key)


def alerts_from(report):
    return db.session.execute(
        db.select(Alert).join(alert_report, alert_report.c.alert_id == Alert.id)
        .where(alert_report.c.report_id == report.id)
        .order_by(Alert.created_at.desc())).scalars().all()


def _contact(report):
    """The decrypted contact details; None when there are none or the key no longer fits."""
    if report.contact_encrypted is None:
        return None
    try:
        return decrypt_contact(report.contact_encrypted)
    except InvalidToken:
        current_app.logger.error("report %s: contact details cannot be decrypted "
                                 "(SECRET_KEY or CONTACT_KEY changed)", report.id)
        return None


def open_report(staff, report):
    """A report's full detail for this staff member; records that they viewed it.

    A moderator (or admin) also sees the reporter's contact details, decrypted, and
    that is audited on its own; opening a report that is still `received` puts it
    `in_review`. Outreach workers see the report without the contact details and change
    nothing."""
    moderator = role_at_least(staff.role, "moderator")
    record(staff, "report_viewed", "report", report.id)
    if moderator and status.move(report, "open"):
        record(staff, "report_in_review", "report", report.id)
    contact = None
    if moderator and report.contact_encrypted is not None:
        contact = _contact(report)
        record(staff, "report_contact_viewed", "report", report.id)
    db.session.commit()
    return report_detail(report, contact)


def report_detail(report, contact=None):
    filed_by = None
    if report.staff_id is not None:
        staff = db.session.get(Staff, report.staff_id)
        filed_by = staff.username if staff is not None else None
    return {
        **report_summary(report),
        "updated_at": report.updated_at,
        "description": report.description,
        "offender": report.offender or {},
        "support": {"requested": report.support_requested,
                    "has_contact": report.contact_encrypted is not None,
                    "contact": contact},
        "filed_by": filed_by,
        "reject_reason": report.reject_reason,
        "linked_reports": [report_summary(r) for r in linked_reports(report)],
        "alerts": [{"id": a.id, "title": a.title, "status": alerts.status_of(a),
                    "published_at": a.published_at} for a in alerts_from(report)],
        **repeat_offender(report),
    }


def shared_with(report):
    """Other reports that share a normalised identifier with this one:
    {(kind, value): [report ids, newest first]}."""
    # This report's identifiers first, then the others by value: given the subquery,
    # PostgreSQL guessed thousands of pairs and hashed the whole identifier table (1 s at
    # 1M reports); given the values it reads ix_identifier_kind_value.
    mine = {tuple(pair) for pair in db.session.execute(
        db.select(Identifier.kind, Identifier.value).where(Identifier.report_id == report.id))}
    if not mine:
        return {}
    rows = db.session.execute(
        db.select(Identifier.kind, Identifier.value, Identifier.report_id)
        .join(Report, Report.id == Identifier.report_id)
        .where(db.tuple_(Identifier.kind, Identifier.value).in_(sorted(mine)),
               Identifier.report_id != report.id)
        .order_by(Report.received_at.desc())).all()
    shared = defaultdict(list)
    for kind, value, report_id in rows:
        if report_id not in shared[(kind, value)]:
            shared[(kind, value)].append(report_id)
    return dict(shared)


def repeat_offender(report):
    """Each identifier of the offender as written, its masked form (what members would
    see), the other reports that share it; and how many reports carry any of them."""
    region = normalise.default_region()
    found = normalise.from_offender(report.offender, region)
    shared = shared_with(report) if found else {}
    return {
        "identifiers": [{"kind": kind, "value": raw, "masked": alerts.mask(kind, raw, region),
                         "other_reports": shared.get((kind, value), [])}
                        for kind, value, raw in found],
        "times_reported": times_reported([(kind, raw) for kind, _value, raw in found]),
        "unreadable_identifiers": normalise.phone_problems(report.offender, region),
    }
