"""Moderation, alerts: writing a draft from reports, editing, publishing and retracting
it, and the staff list of alerts. Each action adds its audit row (who, what, which
record; never report text) to the same transaction and commits once, so an action and
its audit row stand or fall together. The reports' statuses follow reports/status.py.
"""
from ..accounts.service import record
from ..alerts import service as alerts
from ..alerts.models import Alert, alert_report
from ..areas.service import areas_by_slugs
from ..clock import utc, utcnow
from ..errors import Invalid, NotFound, Refused
from ..extensions import db
from ..identifiers import normalise
from ..identifiers.service import index_alert
from ..push.service import delivery_counts
from ..reports import status
from ..reports.models import Report


def reports_for(ids):
    found = {r.id: r for r in db.session.execute(
        db.select(Report).where(Report.id.in_(list(ids)))).scalars()}
    unknown = [str(i) for i in ids if i not in found]
    if unknown:
        raise Invalid({"reports": [f"No report with id {', '.join(unknown)}."]})
    return [found[i] for i in ids]


def check_publishable(reports):
    """Refuse reports that may never reach members: the reporter said don't publish, or a
    moderator rejected them."""
    withheld = [str(r.id) for r in reports if not r.consent_publish]
    if withheld:
        raise Refused("The reporter asked for this report not to be published, so no alert "
                      f"can be made from it: {', '.join(withheld)}. Remove it from the alert.",
                      code="report_no_publish_consent")
    rejected = [str(r.id) for r in reports if r.status == "not_published"]
    if rejected:
        raise Refused(f"This report was rejected: {', '.join(rejected)}. Reopen it "
                      "(POST .../review) or remove it from the alert.", code="report_rejected")


def _into_review(reports):
    for report in reports:
        status.move(report, "draft")


def create_alert(staff, data):
    """A draft alert from one or more reports (AlertDraftSchema data)."""
    reports = reports_for(data["reports"])
    check_publishable(reports)
    alert = alerts.new_alert(
        title=data["title"], summary=data["summary"], severity=data["severity"],
        incident_types=data["incident_types"], areas=areas_by_slugs(data["areas"]),
        identifiers=data.get("identifiers") or [], reports=reports, created_by=staff,
        expires_at=data.get("expires_at"))
    _into_review(reports)
    db.session.flush()
    record(staff, "alert_created", "alert", alert.id)
    db.session.commit()
    return alert


def _draft_only(alert, doing):
    if alert.retracted_at is not None:
        raise Refused(f"This alert was retracted; it cannot be {doing}.", code="alert_not_draft")
    if alert.published_at is not None:
        raise Refused(f"This alert is already published; it cannot be {doing}. "
                      "Retract it and write a new one.", code="alert_not_draft")


def edit_alert(staff, alert, changes):
    """Change a draft (AlertDraftSchema partial data: only the fields given change)."""
    _draft_only(alert, "edited")
    if "reports" in changes:
        reports = reports_for(changes["reports"])
        check_publishable(reports)
        alert.reports = reports
        _into_review(reports)
    if "areas" in changes:
        alert.areas = areas_by_slugs(changes["areas"])
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
    if alert.expires_at is not None and utc(alert.expires_at) <= now:
        raise Refused(code="alert_expired")
    if not alert.reports:
        raise Refused(code="alert_without_reports")
    check_publishable(alert.reports)
    for report in alert.reports:
        status.move(report, "publish")
    try:
        queued = alerts.publish(alert, now)
    except ValueError as error:  # another moderator published it a moment ago
        db.session.rollback()
        raise Refused(str(error), code="alert_already_published") from None
    index_alert(alert)
    record(staff, "alert_published", "alert", alert.id)
    db.session.commit()
    return queued


def retract_alert(staff, alert, now=None):
    """Take a published alert back: it leaves the feed, devices drop it at their next
    sync, deliveries not yet sent are stopped. Its reports become `not_published`
    unless another live alert carries them. Returns the number of deliveries stopped."""
    now = now or utcnow()
    if alert.retracted_at is not None:
        raise Refused(code="alert_already_retracted")
    if alert.published_at is None:
        raise Refused(code="alert_is_draft")
    stopped = alerts.retract(alert, now)
    db.session.flush()
    for report in alert.reports:
        still_live = db.session.execute(
            db.select(Alert.id).join(alert_report, alert_report.c.alert_id == Alert.id)
            .where(alert_report.c.report_id == report.id, alerts.live_clause(now))
            .limit(1)).first()
        if still_live is None:
            status.move(report, "withdraw")
    record(staff, "alert_retracted", "alert", alert.id)
    db.session.commit()
    return stopped


def get_alert(alert_id):
    """The alert with this id, in any state; NotFound (404) when there is none."""
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(code="alert_not_found")
    return alert


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
    region = normalise.default_region()
    return [{**item, "shown_as": alerts.shown_as(item, region)}
            for item in alert.identifiers or []]


def alert_deliveries(alert):
    return delivery_counts(alert.id)
