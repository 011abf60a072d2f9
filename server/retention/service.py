"""Retention: every kind of data is kept only as long as needed, then purged.

run(now, dry_run) is the one purge. Each kind has a period in the config (days; the
defaults are in README "Retention" and config.py):

- contacts: reporter contact details are deleted when the report's case is closed, or
  RETENTION_CONTACT_DAYS after the report came in, whichever is first.
- cases: a closed case, with its notes, messages and police requests, is deleted
  RETENTION_CLOSED_CASE_DAYS after it was closed (and any case goes with its report).
- reports: a raw report is deleted RETENTION_REPORT_DAYS after it came in; what stays is
  one anonymous tally row per incident (month, area, incident types, perpetrator kind,
  hate-crime perception), which the statistics keep counting.
- alerts: a live alert with no expiry expires RETENTION_ALERT_DAYS after publication.
- members: a member not seen for RETENTION_MEMBER_IDLE_DAYS is revoked.
- sms_members: a text member not seen (no text in, no app request) for the same
  RETENTION_MEMBER_IDLE_DAYS is wiped as staff would wipe it: number and areas erased,
  member revoked, texts not yet sent stopped; the empty row stays so counts add up.
- sms_texts: alert texts and replies no longer queued (sent, gone, failed) are deleted
  RETENTION_SMS_DAYS after they were made: each points at a number. Queued ones stay.
- disputes: a decided dispute's statement and contact details are erased
  RETENTION_DISPUTE_DAYS after the outcome; the outcome (status, reason, dates) and its
  audit rows stay. An open dispute is never touched.
- audit: audit rows older than RETENTION_AUDIT_DAYS are deleted.
- checks: nothing to purge: a check is counted per member, the checked value never stored.

A real run writes exactly one audit row, `retention_run`, whose details hold the count
per kind (ids and numbers only, never content), in the same transaction as the purge.
A dry run changes nothing and writes nothing; both return what goes.
"""
from datetime import timedelta

from flask import current_app

from ..accounts.models import AuditEvent, Member
from ..accounts.service import record
from ..alerts.models import Alert
from ..cases.models import Case
from ..clock import utcnow
from ..disputes import service as disputes
from ..disputes.models import Dispute
from ..extensions import db
from ..reports.models import Report
from ..sms import service as sms
from ..sms.models import SmsDelivery, SmsMember
from ..stats import service as stats
from ..stats.models import ReportTally

KINDS = ("contacts", "cases", "reports", "alerts", "members", "sms_members", "sms_texts",
         "disputes", "audit")
SETTINGS = {
    "contacts": "RETENTION_CONTACT_DAYS",
    "cases": "RETENTION_CLOSED_CASE_DAYS",
    "reports": "RETENTION_REPORT_DAYS",
    "alerts": "RETENTION_ALERT_DAYS",
    "members": "RETENTION_MEMBER_IDLE_DAYS",
    "sms_members": "RETENTION_MEMBER_IDLE_DAYS",
    "sms_texts": "RETENTION_SMS_DAYS",
    "disputes": "RETENTION_DISPUTE_DAYS",
    "audit": "RETENTION_AUDIT_DAYS",
}


def cutoff(kind, now):
    """The moment before which `kind` goes."""
    return now - timedelta(days=int(current_app.config[SETTINGS[kind]]))


def _ids(query):
    return list(db.session.execute(query).scalars())


# --- What goes -----------------------------------------------------------------------------

def contacts_due(now):
    """Reports whose contact details go: closed case, or older than the period."""
    closed = db.select(Case.report_id).where(Case.status == "closed")
    return _ids(db.select(Report.id).where(
        Report.contact_encrypted.is_not(None),
        db.or_(Report.received_at < cutoff("contacts", now), Report.id.in_(closed)))
        .order_by(Report.id))


def cases_due(now):
    return _ids(db.select(Case.id).where(Case.status == "closed",
                                         Case.closed_at < cutoff("cases", now)).order_by(Case.id))


def reports_due(now):
    return _ids(db.select(Report.id).where(Report.received_at < cutoff("reports", now))
                .order_by(Report.received_at, Report.id))


def alerts_due(now):
    return _ids(db.select(Alert.id).where(
        Alert.published_at.is_not(None), Alert.retracted_at.is_(None), Alert.expires_at.is_(None),
        Alert.published_at < cutoff("alerts", now)).order_by(Alert.id))


def members_due(now):
    seen = db.func.coalesce(Member.last_seen_at, Member.created_at)
    return _ids(db.select(Member.id).where(Member.revoked_at.is_(None),
                                           seen < cutoff("members", now)).order_by(Member.id))


def sms_members_due(now):
    """Text members not yet wiped whose member was not seen for the period (chosen
    before `members` revokes them, and whether or not staff revoked them already)."""
    seen = db.func.coalesce(Member.last_seen_at, Member.created_at)
    return _ids(db.select(SmsMember.id).join(Member, Member.id == SmsMember.member_id)
                .where(SmsMember.wiped_at.is_(None), seen < cutoff("sms_members", now))
                .order_by(SmsMember.id))


def sms_texts_due(now):
    return _ids(db.select(SmsDelivery.id).where(SmsDelivery.status != "queued",
                                                SmsDelivery.created_at < cutoff("sms_texts", now))
                .order_by(SmsDelivery.id))


def disputes_due(now):
    """Decided disputes past the period that still hold a statement or contact details."""
    return _ids(db.select(Dispute.id).where(
        Dispute.status != "open", Dispute.decided_at < cutoff("disputes", now),
        db.or_(Dispute.statement_encrypted != "", Dispute.contact_encrypted.is_not(None)))
        .order_by(Dispute.id))


def audit_due(now):
    return _ids(db.select(AuditEvent.id).where(AuditEvent.at < cutoff("audit", now))
                .order_by(AuditEvent.id))


DUE = {"contacts": contacts_due, "cases": cases_due, "reports": reports_due,
       "alerts": alerts_due, "members": members_due, "sms_members": sms_members_due,
       "sms_texts": sms_texts_due, "disputes": disputes_due, "audit": audit_due}


# --- Purging -------------------------------------------------------------------------------

def _purge_contacts(ids, now):
    db.session.execute(db.update(Report).where(Report.id.in_(ids))
                       .values(contact_encrypted=None)
                       .execution_options(synchronize_session=False))


def _purge_cases(ids, now):
    # Notes, messages and police requests go with the case (ON DELETE CASCADE).
    db.session.execute(db.delete(Case).where(Case.id.in_(ids))
                       .execution_options(synchronize_session=False))


def _tally(report):
    return ReportTally(month=report.occurred_on.replace(day=1), area_id=report.area_id,
                       incident_types=list(report.incident_types or []),
                       perpetrator=report.perpetrator,
                       targeted_because=list(report.targeted_because or []) or None)


def _purge_reports(ids, now):
    """Delete the reports, keeping each incident counted exactly once: a report that
    links to nothing (the incident's first) becomes a tally row, unless a report of its
    incident stays, which then takes its place as the incident's first."""
    going = set(ids)
    for report in db.session.execute(db.select(Report).where(Report.id.in_(ids))).scalars():
        if report.linked_to_id is not None:
            continue  # counted by its incident's first report
        staying = db.session.execute(
            db.select(Report).where(Report.linked_to_id == report.id, Report.id.not_in(going))
            .order_by(Report.received_at, Report.id)).scalars().all()
        if staying:
            staying[0].linked_to_id = None
            for other in staying[1:]:
                other.linked_to_id = staying[0].id
        else:
            db.session.add(_tally(report))
    db.session.flush()
    # Cases, identifiers and alert links go with the report (ON DELETE CASCADE); links
    # from reports also going are cleared first so the order of deletion never matters.
    db.session.execute(db.update(Report).where(Report.id.in_(ids)).values(linked_to_id=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(db.delete(Report).where(Report.id.in_(ids))
                       .execution_options(synchronize_session=False))


def _purge_alerts(ids, now):
    period = timedelta(days=int(current_app.config["RETENTION_ALERT_DAYS"]))
    for alert in db.session.execute(db.select(Alert).where(Alert.id.in_(ids))).scalars():
        alert.expires_at = alert.published_at + period


def _purge_members(ids, now):
    db.session.execute(db.update(Member).where(Member.id.in_(ids)).values(revoked_at=now)
                       .execution_options(synchronize_session=False))


def _purge_sms_members(ids, now):
    for sms_member in db.session.execute(
            db.select(SmsMember).where(SmsMember.id.in_(ids))).scalars():
        sms.forget_member(sms_member, now)
    db.session.flush()


def _purge_sms_texts(ids, now):
    db.session.execute(db.delete(SmsDelivery).where(SmsDelivery.id.in_(ids))
                       .execution_options(synchronize_session=False))


def _purge_disputes(ids, now):
    disputes.erase_personal_data(ids)


def _purge_audit(ids, now):
    db.session.execute(db.delete(AuditEvent).where(AuditEvent.id.in_(ids))
                       .execution_options(synchronize_session=False))


PURGE = {"contacts": _purge_contacts, "cases": _purge_cases, "reports": _purge_reports,
         "alerts": _purge_alerts, "members": _purge_members, "sms_members": _purge_sms_members,
         "sms_texts": _purge_sms_texts, "disputes": _purge_disputes, "audit": _purge_audit}
CHUNK = 500  # ids per statement: well under SQLite's and PostgreSQL's parameter limits


def run(now=None, dry_run=False):
    """Purge everything past its period, as of `now` (aware UTC; default: now).

    Returns {kind: [ids]} of what goes (contact details and cases by their report's or
    case's id; alerts that expire; members revoked; text members wiped; texts deleted;
    disputes whose statement and contact details are erased; audit rows deleted). A real run
    applies it and writes one `retention_run` audit row with the count per kind, in one
    commit; a dry run changes nothing."""
    now = now or utcnow()
    # Kinds in this order: contact details of reports about to go are counted as
    # contact details too, and the audit rows are chosen before this run adds its own.
    due = {kind: DUE[kind](now) for kind in KINDS}
    if dry_run:
        return due
    try:
        for kind in KINDS:
            ids = due[kind]
            for start in range(0, len(ids), CHUNK):
                PURGE[kind](ids[start:start + CHUNK], now)
        event = record(None, "retention_run", "retention", None)
        event.at = now
        event.details = {kind: len(due[kind]) for kind in KINDS}
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    # The statistics summary takes in the purge now (not at the next read), and drops
    # its rows of days and months whose reports have all gone.
    stats.compact(prune=True)
    return due
