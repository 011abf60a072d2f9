"""Alerts: the few functions that publishing and retracting come down to.

Moderation (staff screens, audit) builds on these; it adds who may do what and the
audit rows, and commits. These functions never commit, so the alert, its deliveries
and the audit row land in one transaction or not at all.
"""
from ..extensions import db
from ..push.service import aware, cancel_deliveries, enqueue_deliveries
from ..reports.models import utcnow
from .models import Alert


def new_alert(*, title, summary, severity, areas, incident_types=(), identifiers=(),
              reports=(), created_by=None, expires_at=None):
    """A draft alert (not yet published). Does not commit."""
    alert = Alert(title=title, summary=summary, severity=severity,
                  incident_types=list(incident_types), identifiers=list(identifiers),
                  areas=list(areas), reports=list(reports), created_by=created_by,
                  expires_at=expires_at)
    db.session.add(alert)
    return alert


def publish(alert, now=None):
    """Publish: the alert goes live and one delivery is queued per matching subscription,
    in the caller's transaction. Returns the number of deliveries queued."""
    if alert.published_at is not None:
        raise ValueError("This alert is already published.")
    alert.published_at = now or utcnow()
    return enqueue_deliveries(alert, alert.published_at)


def retract(alert, now=None):
    """Retract: the alert leaves the feed and deliveries not yet sent are stopped.
    Returns the number of deliveries stopped."""
    alert.retracted_at = now or utcnow()
    return cancel_deliveries(alert, "alert retracted")


def is_live(alert, now=None):
    now = now or utcnow()
    return (alert.published_at is not None and alert.retracted_at is None
            and (alert.expires_at is None or aware(alert.expires_at) > now))
