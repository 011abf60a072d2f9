"""Moderation: the queue of reports, and turning reports into alerts.

Plain functions that views and tests call. Each one that changes something adds its
audit row (who, what, which record; never report text) to the same transaction and
commits once, so an action and its audit row stand or fall together.

A report moves received -> in_review (a moderator opened it, or attached it to a draft)
-> published (an alert made from it went out) or not_published (rejected, or its
alert was retracted). The reporter sees these four through their receipt.
"""
from cryptography.fernet import InvalidToken
from flask import current_app

from ..accounts.models import Staff
from ..accounts.service import record, role_at_least
from ..alerts import service as alerts
from ..alerts.models import Alert, alert_report
from ..areas.models import Area
from ..crypto import decrypt_contact
from ..extensions import db
from ..identifiers import normalise
from ..identifiers.service import index_alert, reports_carrying, shared_with, times_reported
from ..push.service import delivery_counts
from ..reports.models import Report, utcnow


class Refused(Exception):
    """An action the current state does not allow (409), with a message fit to show."""


class Invalid(Exception):
    """Input that refers to records that do not exist (422), with field errors."""

    def __init__(self, errors):
        super().__init__(str(errors))
        self.errors = errors


# --- The queue ---------------------------------------------------------------------------

def _queue_filters(query, areas=(), incident_types=(), statuses=(), identifier=None):
    if identifier is not None:
        # Staff search every report by one normalised identifier (phone, plate, ...).
        query = query.where(Report.id.in_(reports_carrying(*identifier)))
    if areas:
        query = query.where(Report.area_id.in_(
            db.select(Area.id).where(Area.slug.in_(list(areas)))))
    if statuses:
        query = query.where(Report.status.in_(list(statuses)))
    if incident_types:
        # incident_types is a JSON list of fixed identifiers; its text holds each one in
        # quotes, which matches on both engines without JSON functions.
        text = db.cast(Report.incident_types, db.Text)
        query = query.where(db.or_(*(
            text.like('%"' + kind.replace("_", "\\_") + '"%', escape="\\")
            for kind in incident_types)))
    return query


def report_queue(areas=(), incident_types=(), statuses=(), limit=50, offset=0, identifier=None):
    """(reports newest first, total matching). Filters within a list are OR, across
    lists AND: area in areas AND status in statuses AND any of the incident types AND
    carrying the (kind, raw value) identifier."""
    filters = dict(areas=areas, incident_types=incident_types, statuses=statuses,
                   identifier=identifier)
    total = db.session.execute(_queue_filters(
        db.select(db.func.count(Report.id)), **filters)).scalar_one()
    reports = db.session.execute(
        _queue_filters(db.select(Report), **filters)
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(limit).offset(offset)).scalars().all()
    return reports, total


def get_report(report_id):
    return db.session.get(Report, report_id)


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
    return db.session.execute(
        db.select(Report)
        .where(db.or_(Report.id == root_id, Report.linked_to_id == root_id),
               Report.id != report.id)
        .order_by(Report.received_at, Report.id)).scalars().all()


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
    if moderator and report.status == "received":
        report.status = "in_review"
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


def repeat_offender(report):
    """Each identifier of the offender as written, its masked form (what members would
    see), the other reports that share it; and how many reports carry any of them."""
    region = current_app.config.get("DEFAULT_PHONE_REGION", "GB")
    found = normalise.from_offender(report.offender, region)
    shared = shared_with(report) if found else {}
    return {
        "identifiers": [{"kind": kind, "value": raw, "masked": alerts.mask(kind, raw, region),
                         "other_reports": shared.get((kind, value), [])}
                        for kind, value, raw in found],
        "times_reported": times_reported([(kind, raw) for kind, _value, raw in found]),
        "unreadable_identifiers": normalise.phone_problems(report.offender, region),
    }


# --- Deciding on a report ----------------------------------------------------------------

def start_review(staff, report):
    """received -> in_review; a rejected report is reopened (in_review again)."""
    if report.status == "published":
        raise Refused("This report is in a published alert; it has been decided.")
    if report.status == "received":
        report.status = "in_review"
        record(staff, "report_in_review", "report", report.id)
    elif report.status == "not_published":
        report.status = "in_review"
        report.reject_reason = None
        record(staff, "report_reopened", "report", report.id)
    db.session.commit()
    return report


def reject(staff, report, reason):
    """Not published, with a reason for staff (never shown to the reporter or public)."""
    if report.status == "published":
        raise Refused("This report is in a published alert: retract the alert first.")
    if report.status == "not_published":
        raise Refused("This report is already rejected.")
    report.status = "not_published"
    report.reject_reason = reason
    record(staff, "report_rejected", "report", report.id)
    db.session.commit()
    return report


def link(staff, report, other):
    """Mark `report` as the same incident as `other`: it joins other's group, and so do
    the reports that were linked to it."""
    if other.id == report.id:
        raise Invalid({"to": ["A report cannot be linked to itself."]})
    root_id = other.linked_to_id or other.id
    if root_id == (report.linked_to_id or report.id):
        return report  # already the same incident: nothing to do
    db.session.execute(
        db.update(Report).where(Report.linked_to_id == report.id)
        .values(linked_to_id=root_id).execution_options(synchronize_session="fetch"))
    report.linked_to_id = root_id
    record(staff, "report_linked", "report", report.id)
    db.session.commit()
    return report


def unlink(staff, report):
    """Take a report out of its incident group; the rest of the group stays linked."""
    followers = db.session.execute(
        db.select(Report).where(Report.linked_to_id == report.id)
        .order_by(Report.received_at, Report.id)).scalars().all()
    if report.linked_to_id is None and not followers:
        raise Refused("This report is not linked to any other.")
    if followers:  # it was the root: the oldest of the others becomes the root
        new_root = followers[0]
        new_root.linked_to_id = None
        for follower in followers[1:]:
            follower.linked_to_id = new_root.id
    report.linked_to_id = None
    record(staff, "report_unlinked", "report", report.id)
    db.session.commit()
    return report


# --- Alerts ------------------------------------------------------------------------------

def reports_for(ids):
    found = {r.id: r for r in db.session.execute(
        db.select(Report).where(Report.id.in_(list(ids)))).scalars()}
    unknown = [str(i) for i in ids if i not in found]
    if unknown:
        raise Invalid({"reports": [f"No report with id {', '.join(unknown)}."]})
    return [found[i] for i in ids]


def areas_for(slugs):
    found = {a.slug: a for a in db.session.execute(
        db.select(Area).where(Area.slug.in_(list(slugs)))).scalars()}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise Invalid({"areas": [f"Unknown area: {', '.join(unknown)}."]})
    return [found[s] for s in slugs]


def check_publishable(reports):
    """Refuse reports that may never reach members: the reporter said don't publish, or a
    moderator rejected them."""
    withheld = [str(r.id) for r in reports if not r.consent_publish]
    if withheld:
        raise Refused("The reporter asked for this report not to be published, so no alert "
                      f"can be made from it: {', '.join(withheld)}. Remove it from the alert.")
    rejected = [str(r.id) for r in reports if r.status == "not_published"]
    if rejected:
        raise Refused(f"This report was rejected: {', '.join(rejected)}. Reopen it "
                      "(POST .../review) or remove it from the alert.")


def _into_review(reports):
    for report in reports:
        if report.status == "received":
            report.status = "in_review"


def create_alert(staff, data):
    """A draft alert from one or more reports (AlertDraftSchema data)."""
    reports = reports_for(data["reports"])
    check_publishable(reports)
    alert = alerts.new_alert(
        title=data["title"], summary=data["summary"], severity=data["severity"],
        incident_types=data["incident_types"], areas=areas_for(data["areas"]),
        identifiers=data.get("identifiers") or [], reports=reports, created_by=staff,
        expires_at=data.get("expires_at"))
    _into_review(reports)
    db.session.flush()
    record(staff, "alert_created", "alert", alert.id)
    db.session.commit()
    return alert


def _draft_only(alert, doing):
    if alert.retracted_at is not None:
        raise Refused(f"This alert was retracted; it cannot be {doing}.")
    if alert.published_at is not None:
        raise Refused(f"This alert is already published; it cannot be {doing}. "
                      "Retract it and write a new one.")


def edit_alert(staff, alert, changes):
    """Change a draft (AlertDraftSchema partial data: only the fields given change)."""
    _draft_only(alert, "edited")
    if "reports" in changes:
        reports = reports_for(changes["reports"])
        check_publishable(reports)
        alert.reports = reports
        _into_review(reports)
    if "areas" in changes:
        alert.areas = areas_for(changes["areas"])
    for name in ("title", "summary", "severity", "incident_types", "identifiers",
                 "expires_at"):
        if name in changes:
            setattr(alert, name, changes[name])
    record(staff, "alert_edited", "alert", alert.id)
    db.session.commit()
    return alert


def delete_draft(staff, alert):
    """Throw a draft away (its reports stay as they are)."""
    _draft_only(alert, "deleted")
    alert_id = alert.id
    db.session.delete(alert)
    record(staff, "alert_deleted", "alert", alert_id)
    db.session.commit()


def publish_alert(staff, alert, now=None):
    """Publish a draft: it goes live, its reports become `published`, one delivery is
    queued per matching subscription, its identifiers are indexed for "check a number",
    and the audit row is written, in one commit. Returns the number of deliveries queued."""
    now = now or utcnow()
    _draft_only(alert, "published again")
    if alert.expires_at is not None and alerts.utc(alert.expires_at) <= now:
        raise Refused("This alert's expiry time has passed: change expires_at first.")
    if not alert.reports:
        raise Refused("An alert is published from at least one report.")
    check_publishable(alert.reports)
    try:
        queued = alerts.publish(alert, now)
    except ValueError as error:  # another moderator published it a moment ago
        db.session.rollback()
        raise Refused(str(error)) from None
    index_alert(alert)
    for report in alert.reports:
        report.status = "published"
    record(staff, "alert_published", "alert", alert.id)
    db.session.commit()
    return queued


def retract_alert(staff, alert, now=None):
    """Take a published alert back: it leaves the feed, devices drop it at their next
    sync, deliveries not yet sent are stopped. Its reports become `not_published`
    unless another live alert carries them. Returns the number of deliveries stopped."""
    now = now or utcnow()
    if alert.retracted_at is not None:
        raise Refused("This alert is already retracted.")
    if alert.published_at is None:
        raise Refused("This alert is a draft: delete it instead.")
    stopped = alerts.retract(alert, now)
    db.session.flush()
    for report in alert.reports:
        still_live = db.session.execute(
            db.select(Alert.id).join(alert_report, alert_report.c.alert_id == Alert.id)
            .where(alert_report.c.report_id == report.id, alerts.live_clause(now))
            .limit(1)).first()
        if still_live is None:
            report.status = "not_published"
    record(staff, "alert_retracted", "alert", alert.id)
    db.session.commit()
    return stopped


def get_alert(alert_id):
    return db.session.get(Alert, alert_id)


def list_alerts(statuses=(), limit=50, offset=0, now=None):
    """(alerts newest first, total matching), optionally only some statuses."""
    now = now or utcnow()
    clauses = {
        "draft": db.and_(Alert.published_at.is_(None), Alert.retracted_at.is_(None)),
        "published": alerts.live_clause(now),
        "expired": db.and_(Alert.published_at.is_not(None), Alert.retracted_at.is_(None),
                           Alert.expires_at.is_not(None), Alert.expires_at <= now),
        "retracted": Alert.retracted_at.is_not(None),
    }
    query = db.select(Alert)
    count = db.select(db.func.count(Alert.id))
    if statuses:
        where = db.or_(*(clauses[s] for s in statuses))
        query, count = query.where(where), count.where(where)
    total = db.session.execute(count).scalar_one()
    rows = db.session.execute(
        query.order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit).offset(offset)).scalars().all()
    return rows, total


def staff_identifiers(alert):
    """Each identifier as stored, with what members will see (None: hidden)."""
    region = current_app.config.get("DEFAULT_PHONE_REGION", "GB")
    return [{**item, "shown_as": alerts.shown_as(item, region)}
            for item in alert.identifiers or []]


def alert_deliveries(alert):
    return delivery_counts(alert.id)
