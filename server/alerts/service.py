"""Alerts: publishing, retracting, masking identifiers and the members' feed.

Moderation (staff screens, audit) builds on publish and retract; it adds who may do
what and the audit rows, and commits. These functions never commit, so the alert, its
deliveries and the audit row land in one transaction or not at all.
"""
from datetime import timedelta

from phonenumbers import (
    NumberParseException,
    PhoneNumberFormat,
    country_code_for_region,
    format_number,
    is_possible_number,
    national_significant_number,
    parse,
)
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..areas.models import Area
from ..clock import utc, utcnow
from ..events import alert_published, alert_retracted, total
from ..extensions import db
from ..identifiers.normalise import default_region
from .models import Alert

MASK = "•"
# A publish commits a moment after it stamps published_at, so a feed read in between
# does not see the alert yet. `since` therefore looks back this far: a device may get an
# alert twice (it stores them by id) but never misses one.
SYNC_OVERLAP = timedelta(minutes=2)


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
    """Publish: the alert goes live and `alert_published` is sent, in the caller's
    transaction (push queues one delivery per matching subscription there). Returns the
    number of deliveries queued.

    The draft is claimed with a conditional UPDATE, so two moderators pressing Publish at
    once publish it once (on PostgreSQL the second waits for the first and finds it taken)."""
    db.session.flush()  # a draft made in this transaction must exist for the UPDATE to claim
    now = now or utcnow()
    claimed = db.session.execute(
        db.update(Alert)
        .where(Alert.id == alert.id, Alert.published_at.is_(None), Alert.retracted_at.is_(None))
        .values(published_at=now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise ValueError("This alert is already published.")
    set_committed_value(alert, "published_at", now)
    return total(alert_published.send(alert, now=now))


def retract(alert, now=None):
    """Retract: the alert leaves the feed and `alert_retracted` is sent (push stops the
    deliveries not yet sent). Returns the number of deliveries stopped."""
    alert.retracted_at = now or utcnow()
    return total(alert_retracted.send(alert, reason="alert retracted"))


def is_live(alert, now=None):
    now = now or utcnow()
    return (alert.published_at is not None and alert.retracted_at is None
            and (alert.expires_at is None or utc(alert.expires_at) > now))


def undeliverable(alert, now):
    """Why an alert must no longer be delivered to anyone (a delivery's last_error), or
    None. `alert` is an Alert or any object with its published_at, retracted_at and
    expires_at; None counts as not published."""
    if alert is None or alert.published_at is None:
        return "alert not published"
    if alert.retracted_at is not None:
        return "alert retracted"
    if alert.expires_at is not None and utc(alert.expires_at) <= now:
        return "alert expired"
    return None


def status_of(alert, now=None):
    """draft | published | expired | retracted: what staff screens show."""
    if alert.retracted_at is not None:
        return "retracted"
    if alert.published_at is None:
        return "draft"
    return "published" if is_live(alert, now) else "expired"


# --- Identifiers as members see them -----------------------------------------------------

def display_phone(value, region="GB"):
    """A phone number as people of the deployment's region write it: national for a
    number of that region ("+44 7700 900123" -> "07700 900123" in GB), international for
    any other ("+1 415-555-0132"). Full and masked numbers read alike. A short code or an
    odd number stays as written (it would gain a country code nobody wrote)."""
    try:
        number = parse(value, region)
        if is_possible_number(number) and len(national_significant_number(number)) >= 7:
            home = number.country_code == country_code_for_region(region)
            style = PhoneNumberFormat.NATIONAL if home else PhoneNumberFormat.INTERNATIONAL
            return format_number(number, style)
    except NumberParseException:
        pass
    return value


def _mask_phone(value, region):
    """Keep the last 3 digits and, on long numbers, the first few (trunk and network),
    with at least 5 digits masked, in display_phone's format: "+44 7700 900123" ->
    "077•• •••123" in GB."""
    value = display_phone(value, region)
    digits = sum(c.isdigit() for c in value)
    if not digits:
        return _mask_start(value)
    keep_end = min(3, max(digits - 5, 0))
    keep_start = max(0, min(4, digits - keep_end - 5))
    out, seen = [], 0
    for char in value:
        if char.isdigit():
            seen += 1
            out.append(char if seen <= keep_start or seen > digits - keep_end else MASK)
        else:
            out.append(char)
    return "".join(out)


def _mask_email(value):
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return _mask_start(value)
    return f"{local[:1]}{MASK * 3}@{domain}"


def _mask_plate(value):
    """First 2 and last 1 letters or digits; spacing kept: "AB12 CDE" -> "AB•• ••E"."""
    text = value.strip().upper()
    positions = [i for i, c in enumerate(text) if c.isalnum()]
    if len(positions) <= 3:
        keep = set(positions[:1])
    else:
        keep = set(positions[:2] + positions[-1:])
    return "".join(c if (i in keep or not c.isalnum()) else MASK for i, c in enumerate(text))


def _mask_start(value, keep=2):
    """Handles and names: the first 2 letters (fewer for a short one), then a fixed mask
    so the length is not given away: "@dave_ldn" -> "@da•••", "Dave" -> "Da•••"."""
    text = value.strip()
    prefix = "@" if text.startswith("@") else ""
    body = text[len(prefix):]
    keep = min(keep, max(len(body) - 1, 1))
    return f"{prefix}{body[:keep]}{MASK * 3}"


def mask(kind, value, region=None):
    """Enough of an identifier to act on, not all of it."""
    if kind == "phone":
        return _mask_phone(value, region or default_region())
    if kind == "email":
        return _mask_email(value)
    if kind == "plate":
        return _mask_plate(value)
    return _mask_start(value)


def shown_as(item, region=None):
    """The value members see for one stored identifier, or None when it is hidden."""
    display = item.get("display", "full")
    if display == "full":
        if item["kind"] == "phone":
            return display_phone(item["value"], region or default_region())
        return item["value"]
    if display == "masked":
        return mask(item["kind"], item["value"], region)
    return None


def member_identifiers(alert):
    """(identifiers members may see as [{"kind", "value"}], how many are withheld).
    A hidden identifier never leaves the server through the members' API."""
    region = default_region()
    shown, withheld = [], 0
    for item in alert.identifiers or []:
        value = shown_as(item, region)
        if value is None:
            withheld += 1
        else:
            shown.append({"kind": item["kind"], "value": value})
    return shown, withheld


# --- The members' feed -------------------------------------------------------------------

def live_clause(now):
    return db.and_(Alert.published_at.is_not(None), Alert.retracted_at.is_(None),
                   db.or_(Alert.expires_at.is_(None), Alert.expires_at > now))


def feed(area_slugs=(), since=None, now=None, limit=None, before=None):
    """What a member device needs: live alerts (newest first), optionally only those in
    some areas and only those published since its last sync; and the ids of alerts
    retracted since then, so the device can drop them.

    limit: at most this many alerts (a page); before: (published_at, id) of the last
    alert of the previous page (keyset paging: each page is one index range, however
    deep). Returns (alerts, retracted_ids, next) where next is the (published_at, id)
    to pass as `before` for the following page, or None after the last one. The areas
    of every alert on the page are loaded by one more query, not one per alert."""
    now = now or utcnow()
    query = db.select(Alert).where(live_clause(now)).options(selectinload(Alert.areas))
    if area_slugs:
        query = query.where(Alert.areas.any(Area.slug.in_(list(area_slugs))))
    retracted = []
    if since is not None:
        after = utc(since) - SYNC_OVERLAP
        query = query.where(Alert.published_at > after)
        # Every area: a device may hold an alert from an area it has since left.
        retracted = list(db.session.execute(
            db.select(Alert.id).where(Alert.published_at.is_not(None),
                                      Alert.retracted_at > after)
            .order_by(Alert.retracted_at)).scalars())
    if before is not None:
        published_at, alert_id = utc(before[0]), before[1]
        query = query.where(db.or_(
            Alert.published_at < published_at,
            db.and_(Alert.published_at == published_at, Alert.id < alert_id)))
    query = query.order_by(Alert.published_at.desc(), Alert.id.desc())
    if limit is not None:
        query = query.limit(limit + 1)
    alerts = db.session.execute(query).scalars().all()
    following = None
    if limit is not None and len(alerts) > limit:
        alerts = alerts[:limit]
        following = (alerts[-1].published_at, alerts[-1].id)
    return alerts, retracted, following


def live_alert(alert_id, now=None):
    """A live alert by id, or None (unknown, draft, retracted or expired alike)."""
    return db.session.execute(
        db.select(Alert).where(Alert.id == alert_id, live_clause(now or utcnow()))
    ).scalar_one_or_none()
