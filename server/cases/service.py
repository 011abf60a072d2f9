"""Cases: a caseworker's follow-up of a report that asked for support, with no account.

Plain functions that views and tests call. Anything that changes something writes its
audit row (ids only: never a note, a message or a request) into the same transaction
and commits once.

The reporter has no account: the report's receipt is their key. They read the project's
messages and reply with it (reporter_messages, reporter_reply), as they read the status;
the reports package, which checks the receipt, serves those routes. This package knows
reports only by id (and the Report model through its relationship, by name), so it sits
below reports: the reports service opens cases in the same transaction as the report.

Notes, messages and police requests are encrypted at rest with the contact-details key
(crypto.encrypt_text); they are decrypted only for the staff screen and the reporter's
own receipt, never written to a log, an export or an audit row, and they go when the
case goes (ON DELETE CASCADE; retention deletes closed cases).
"""
from cryptography.fernet import InvalidToken
from flask import current_app

from ..accounts.service import record, role_at_least
from ..clock import utc, utcnow
from ..crypto import decrypt_contact, decrypt_text, encrypt_text
from ..errors import NotFound, Refused
from ..extensions import db
from .models import CASE_STATUSES, Case, CaseMessage, CaseNote, PoliceRequest

UNREADABLE = None  # a note or message the current key cannot decrypt is shown as null


def open_cases(rows, now=None):
    """Add a `new` case, in the caller's transaction, for each new report row (column
    values, as the reports service inserts them) that asks for support or whose person
    will come back to the drop-in. One INSERT for all of them. The caller commits."""
    now = now or utcnow()
    cases = [{"report_id": row["id"], "status": "new", "come_back": bool(row["support_come_back"]),
              "opened_at": now, "updated_at": now}
             for row in rows if row.get("support_requested") or row.get("support_come_back")]
    if cases:
        db.session.execute(Case.__table__.insert(), cases)
    return len(cases)


def open_case(report_id, come_back=False):
    """Add a `new` case for a report to the current transaction (the caller commits);
    the existing one if there is one."""
    case = db.session.execute(
        db.select(Case).where(Case.report_id == report_id)).scalar_one_or_none()
    if case is None:
        case = Case(report_id=report_id, status="new", come_back=bool(come_back))
        db.session.add(case)
        db.session.flush()
    return case


def get_case(case_id):
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(code="case_not_found")
    return case


# --- The Support queue -------------------------------------------------------------------

def support_queue(statuses=(), assigned_to=None, limit=50, offset=0):
    """(cases, total): open ones first by default order (new, then contacted, then closed),
    oldest first within a status so nobody waits longest. `assigned_to`: a Staff, to see
    only theirs."""
    query = db.select(Case)
    count = db.select(db.func.count(Case.id))
    if statuses:
        query, count = (q.where(Case.status.in_(list(statuses))) for q in (query, count))
    if assigned_to is not None:
        query, count = (q.where(Case.assigned_to_id == assigned_to.id) for q in (query, count))
    order = db.case({status: n for n, status in enumerate(CASE_STATUSES)}, value=Case.status)
    cases = db.session.execute(
        query.order_by(order, Case.opened_at, Case.id).limit(limit).offset(offset)).scalars().all()
    return cases, db.session.execute(count).scalar_one()


def _after(moment, since):
    return moment is not None and (since is None or utc(moment) > utc(since))


def case_summary(case):
    """A queue row: what a caseworker needs to pick a case; none of its text."""
    report = case.report
    return {
        "id": case.id,
        "report_id": case.report_id,
        "status": case.status,
        "assigned_to": case.assigned_to.username if case.assigned_to is not None else None,
        "come_back": case.come_back,
        "has_contact": report.contact_encrypted is not None,
        "opened_at": case.opened_at,
        "updated_at": case.updated_at,
        "area": {"slug": report.area.slug, "name": report.area.name},
        "occurred_on": report.occurred_on,
        "incident_types": report.incident_types,
        "on_behalf": report.on_behalf,
        # The reporter wrote since a caseworker last opened the case.
        "reporter_wrote": _after(case.reporter_wrote_at, case.staff_read_at),
    }


def _text(token, what, case):
    try:
        return decrypt_text(token)
    except InvalidToken:
        current_app.logger.error("case %s: a %s cannot be decrypted (key changed)", case.id, what)
        return UNREADABLE


def _messages(case, for_reporter=False):
    rows = db.session.execute(
        db.select(CaseMessage).where(CaseMessage.case_id == case.id)
        .order_by(CaseMessage.created_at, CaseMessage.id)).scalars().all()
    messages = []
    for message in rows:
        item = {"id": message.id, "sender": message.sender, "at": message.created_at,
                "body": _text(message.body_encrypted, "message", case)}
        if not for_reporter:  # who wrote it is for staff only
            item["staff"] = message.staff.username if message.staff is not None else None
        messages.append(item)
    return messages


def may_see_contact(staff, case):
    """The reporter's contact details are for the caseworker the case is assigned to, and
    for moderators and admins."""
    return role_at_least(staff.role, "moderator") or case.assigned_to_id == staff.id


def open_case_detail(staff, case):
    """The case in full for this staff member: notes, messages, police requests, and the
    contact details when may_see_contact (audited on its own: case_contact_viewed).
    Marks the reporter's messages read for staff. Audited: case_viewed. Commits."""
    record(staff, "case_viewed", "case", case.id)
    contact = None
    report = case.report
    if report.contact_encrypted is not None and may_see_contact(staff, case):
        try:
            contact = decrypt_contact(report.contact_encrypted)
        except InvalidToken:
            current_app.logger.error("case %s: contact details cannot be decrypted", case.id)
        record(staff, "case_contact_viewed", "case", case.id)
    case.staff_read_at = utcnow()
    detail = {
        **case_summary(case),
        "contact": contact,
        "notes": [{"id": n.id, "at": n.created_at, "body": _text(n.body_encrypted, "note", case),
                   "staff": n.staff.username if n.staff is not None else None}
                  for n in db.session.execute(
                      db.select(CaseNote).where(CaseNote.case_id == case.id)
                      .order_by(CaseNote.created_at, CaseNote.id)).scalars()],
        "messages": _messages(case),
        "police_requests": [
            {"id": r.id, "at": r.received_at, "body": _text(r.body_encrypted, "request", case),
             "staff": r.staff.username if r.staff is not None else None}
            for r in db.session.execute(
                db.select(PoliceRequest).where(PoliceRequest.case_id == case.id)
                .order_by(PoliceRequest.received_at, PoliceRequest.id)).scalars()],
    }
    db.session.commit()
    return detail


# --- What staff do -----------------------------------------------------------------------

def assign(staff, case, to=None):
    """Assign the case to `to` (default: `staff`, "assign to me"). Audited; commits."""
    to = to or staff
    case.assigned_to_id = to.id
    record(staff, "case_assigned", "case", case.id)
    db.session.commit()
    return case


def _move(case, status, now=None):
    """The one place a case's status changes: closing stamps closed_at (retention counts
    from it), any other status clears it. Returns True when it changed. No commit."""
    if status not in CASE_STATUSES:
        raise ValueError(f"unknown case status {status!r}")
    if status == case.status:
        return False
    case.status = status
    case.closed_at = (now or utcnow()) if status == "closed" else None
    return True


def set_status(staff, case, status, now=None):
    """new, contacted or closed (staff may set any of them). Audited; commits."""
    if _move(case, status, now):
        record(staff, f"case_{status}", "case", case.id)
        db.session.commit()
    return case


def add_note(staff, case, text):
    """A staff-only note, encrypted. Audited (the note's id, never its text); commits."""
    note = CaseNote(case_id=case.id, staff_id=staff.id, body_encrypted=encrypt_text(text))
    db.session.add(note)
    db.session.flush()
    record(staff, "case_note_added", "case", case.id)
    db.session.commit()
    return note


def _not_closed(case):
    if case.status == "closed":
        raise Refused(code="case_closed")


def send_message(staff, case, text, now=None):
    """A message from the project to the reporter, read with their receipt. A `new` case
    becomes `contacted`. Audited; commits."""
    _not_closed(case)
    now = now or utcnow()
    db.session.add(CaseMessage(case_id=case.id, sender="project", staff_id=staff.id,
                               created_at=now, body_encrypted=encrypt_text(text)))
    case.project_wrote_at = now
    if case.status == "new":  # writing to them is contacting them
        _move(case, "contacted")
    record(staff, "case_message_sent", "case", case.id)
    db.session.commit()
    return case


def record_police_request(staff, report, request_text, message_text):
    """The police asked about `report` (found from its pack reference). The request is
    recorded on the report's case (opened if there is none), and the project asks the
    reporter through the case with `message_text`: the police never contact the reporter
    directly. Audited (police_request); commits. Returns the case."""
    case = open_case(report.id)
    now = utcnow()
    request = PoliceRequest(case_id=case.id, staff_id=staff.id, received_at=now,
                            body_encrypted=encrypt_text(request_text))
    db.session.add(request)
    db.session.add(CaseMessage(case_id=case.id, sender="project", staff_id=staff.id,
                               created_at=now, body_encrypted=encrypt_text(message_text)))
    case.project_wrote_at = now
    _move(case, "contacted")  # a new question reopens a closed follow-up too
    db.session.flush()
    record(staff, "police_request", "case", case.id)
    db.session.commit()
    return case


# --- The reporter, with their receipt ------------------------------------------------------

def _case_of(report):
    return db.session.execute(
        db.select(Case).where(Case.report_id == report.id)).scalar_one_or_none()


def has_case(report):
    return _case_of(report) is not None


def unread_for_reporter(report):
    """How many project messages the reporter has not fetched yet (0 without a case)."""
    case = _case_of(report)
    if case is None:
        return 0
    query = db.select(db.func.count(CaseMessage.id)).where(
        CaseMessage.case_id == case.id, CaseMessage.sender == "project")
    if case.reporter_read_at is not None:
        query = query.where(CaseMessage.created_at > case.reporter_read_at)
    return db.session.execute(query).scalar_one()


def reporter_messages(report):
    """The conversation as the reporter sees it: {"case": status or None, "can_reply",
    "messages": [{id, sender, at, body}]}; nothing of who wrote on the project's side.
    Marks the project's messages read. Commits."""
    case = _case_of(report)
    if case is None:
        return {"case": None, "can_reply": False, "messages": []}
    messages = _messages(case, for_reporter=True)
    case.reporter_read_at = utcnow()
    db.session.commit()
    return {"case": case.status, "can_reply": case.status != "closed", "messages": messages}


def reporter_reply(report, text, now=None):
    """A reply from the reporter (they hold the receipt). Refused when the report has no
    case (no_case) or the case is closed (case_closed). Commits; not audited (no staff)."""
    case = _case_of(report)
    if case is None:
        raise Refused(code="case_not_open")
    _not_closed(case)
    now = now or utcnow()
    db.session.add(CaseMessage(case_id=case.id, sender="reporter", created_at=now,
                               body_encrypted=encrypt_text(text)))
    case.reporter_wrote_at = now
    db.session.commit()
    return case

