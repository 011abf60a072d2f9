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
from sqlalchemy import event
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..areas.models import Area
from ..clock import utc, utcnow
from ..events import alert_published, alert_retracted, total
from ..extensions import db
from ..identifiers.normalise import default_region
from .models import Alert, alert_area

MASK = "•"
# A publish commits a moment after it stamps published_at, so a feed read in between
# does not see the alert yet. `since` therefore looks back this far: a device may get an
# alert twice (it stores them by id) but never misses one.
SYNC_OVERLAP = timedelta(minutes=2)
# pg_advisory_xact_lock key of publish(): alert numbers are given one at a time.
NUMBER_LOCK = 0x7265645F6E756D62  # "red_numb"


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
    if db.session.get_bind().dialect.name == "postgresql":
        # One publication numbers at a time, to its commit: the next reads the number it
        # gave (SQLite has one writer at a time anyway).
        db.session.execute(db.text("SELECT pg_advisory_xact_lock(:key)"), {"key": NUMBER_LOCK})
    numbered = Alert.__table__.alias("numbered")
    number = db.session.execute(
        db.update(Alert)
        .where(Alert.id == alert.id, Alert.published_at.is_(None), Alert.retracted_at.is_(None))
        .values(published_at=now, changed_at=now, number=db.select(
            db.func.coalesce(db.func.max(numbered.c.number), 0) + 1).scalar_subquery())
        .returning(Alert.number)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if number is None:
        raise ValueError("This alert is already published.")
    set_committed_value(alert, "published_at", now)
    set_committed_value(alert, "changed_at", now)
    set_committed_value(alert, "number", number)
    # In the region of the moment it goes out (a draft may be older than a region change).
    alert.shown_identifiers = members_view(alert.identifiers)
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


def members_view(identifiers, region=None):
    """What members see of an alert's stored identifiers, as stored in
    alert.shown_identifiers: {"region": the phone region it was worked out in,
    "shown": [[kind, value], ...] (full or masked), "withheld": how many are hidden}.
    A hidden identifier's value and kind are not in it."""
    region = region or default_region()
    shown, withheld = [], 0
    for item in identifiers or []:
        value = shown_as(item, region)
        if value is None:
            withheld += 1
        else:
            shown.append([item["kind"], value])
    return {"region": region, "shown": shown, "withheld": withheld}


def shown_view(shown_identifiers, identifiers, region=None):
    """alert.shown_identifiers when it was worked out in the deployment's region, else
    members_view(identifiers) (an alert from before it was stored, or a region change)."""
    region = region or default_region()
    if shown_identifiers and shown_identifiers.get("region") == region:
        return shown_identifiers
    return members_view(identifiers, region)


@event.listens_for(Alert.identifiers, "set")
def _identifiers_set(alert, identifiers, old, initiator):
    """Whoever sets an alert's identifiers (a draft made or edited, one taken out after a
    dispute), shown_identifiers follows, so it can never show a withdrawn one; and a
    published alert counts as changed, so devices get it again at their next sync."""
    alert.shown_identifiers = members_view(identifiers)
    if alert.published_at is not None:
        alert.changed_at = utcnow()


def member_identifiers(alert):
    """(identifiers members may see as [{"kind", "value"}], how many are withheld).
    A hidden identifier never leaves the server through the members' API."""
    # `alert` may be any object with `identifiers` (the SMS preview passes a draft that is
    # never stored): no shown_identifiers then, so they are masked here.
    view = shown_view(getattr(alert, "shown_identifiers", None), alert.identifiers)
    return [{"kind": kind, "value": value} for kind, value in view["shown"]], view["withheld"]


# --- The members' feed -------------------------------------------------------------------

def live_clause(now):
    return db.and_(Alert.published_at.is_not(None), Alert.retracted_at.is_(None),
                   db.or_(Alert.expires_at.is_(None), Alert.expires_at > now))


def _live_page(query, area_slugs, since, now, limit, before, key=Alert.id):
    """`query` (a select of Alert or of its columns) narrowed to the live alerts a device
    asks for, newest first, and the keys (`key`: Alert.id or Alert.number) of the alerts
    retracted since `since` (see feed)."""
    query = query.where(live_clause(now))
    if area_slugs:
        query = query.where(Alert.areas.any(Area.slug.in_(list(area_slugs))))
    retracted = []
    if since is not None:
        after = utc(since) - SYNC_OVERLAP
        # Changed, not only published: an identifier taken out after a dispute must
        # leave the phones that hold the alert too.
        query = query.where(Alert.changed_at > after)
        # Every area: a device may hold an alert from an area it has since left.
        retracted = list(db.session.execute(
            db.select(key).where(Alert.published_at.is_not(None),
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
    return query, retracted


def _split_page(rows, limit):
    """(the page, the (published_at, id) key of its last row when more follow, or None)."""
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        return rows, (rows[-1].published_at, rows[-1].id)
    return rows, None


def feed(area_slugs=(), since=None, now=None, limit=None, before=None):
    """What a member device needs: live alerts (newest first), optionally only those in
    some areas and only those changed (published, or an identifier taken out) since its
    last sync; and the ids of alerts retracted since then, so the device can drop them.

    limit: at most this many alerts (a page); before: (published_at, id) of the last
    alert of the previous page (keyset paging: each page is one index range, however
    deep). Returns (alerts, retracted_ids, next) where next is the (published_at, id)
    to pass as `before` for the following page, or None after the last one. The areas
    of every alert on the page are loaded by one more query, not one per alert."""
    now = now or utcnow()
    query, retracted = _live_page(db.select(Alert).options(selectinload(Alert.areas)),
                                  area_slugs, since, now, limit, before)
    alerts, following = _split_page(db.session.execute(query).scalars().all(), limit)
    return alerts, retracted, following


def _epoch_ms(moment):
    """Milliseconds since 1970 (UTC), as JavaScript's Date counts them: the device sorts
    by it, so alerts a moment apart keep their order."""
    moment = utc(moment)
    return int(moment.replace(microsecond=0).timestamp()) * 1000 + moment.microsecond // 1000


def compact_feed(area_slugs=(), since=None, now=None, limit=None, before=None, by_number=False):
    """feed() in columns: one list per field, one entry per alert, newest first, and each
    code (severity, incident type, area slug, identifier kind) written once per page in
    `codes` and referred to by its index; dates in milliseconds, each publication as the
    time since the one before; alert numbers likewise, each as the one above it minus
    itself (1 when none between them left the feed). No ORM objects and no masking per
    request: identifiers come from alert.shown_identifiers. by_number: no `id` column,
    and `retracted` lists numbers (the app of this version keys alerts by number; ids
    are ~16 bytes an alert after compression, numbers in order almost nothing). Returns
    (page, next) where page is {"codes": {...}, "alerts": {...}, "retracted": [...]} as
    CompactFeedSchema documents it and next as in feed()."""
    now = now or utcnow()
    columns = db.select(Alert.id, Alert.number, Alert.title, Alert.summary, Alert.severity,
                        Alert.incident_types, Alert.shown_identifiers,
                        Alert.published_at, Alert.expires_at)
    query, retracted = _live_page(columns, area_slugs, since, now, limit, before,
                                  Alert.number if by_number else Alert.id)
    rows, following = _split_page(db.session.execute(query).all(), limit)
    region = default_region()
    # Alerts published before shown_identifiers was stored, or in another region: their
    # stored identifiers are read (one query) and masked here.
    stale = [row.id for row in rows
             if not row.shown_identifiers or row.shown_identifiers.get("region") != region]
    stored = dict(db.session.execute(
        db.select(Alert.id, Alert.identifiers).where(Alert.id.in_(stale))).all()) if stale else {}
    areas_of = {}
    if rows:
        for alert_id, slug in db.session.execute(
                db.select(alert_area.c.alert_id, Area.slug)
                .join(Area, Area.id == alert_area.c.area_id)
                .where(alert_area.c.alert_id.in_([row.id for row in rows]))
                .order_by(Area.slug)):
            areas_of.setdefault(alert_id, []).append(slug)
    codes = {"severity": {}, "incident_types": {}, "areas": {}, "identifier_kinds": {}}

    def code(name, value):
        return codes[name].setdefault(value, len(codes[name]))

    out = {name: [] for name in ("id", "number", "title", "summary", "severity", "incident_types",
                                 "areas", "identifier_kinds", "identifier_values",
                                 "withheld_identifiers", "published", "expires")}
    previous = above = None
    for row in rows:
        view = shown_view(row.shown_identifiers, stored.get(row.id), region)
        published = _epoch_ms(row.published_at)
        out["id"].append(str(row.id))
        out["number"].append(row.number if above is None else above - row.number)
        above = row.number
        out["title"].append(row.title)
        out["summary"].append(row.summary)
        out["severity"].append(code("severity", row.severity))
        out["incident_types"].append([code("incident_types", t) for t in row.incident_types or ()])
        out["areas"].append([code("areas", slug) for slug in areas_of.get(row.id, ())])
        out["identifier_kinds"].append([code("identifier_kinds", kind) for kind, _ in view["shown"]])
        out["identifier_values"].append([value for _, value in view["shown"]])
        out["withheld_identifiers"].append(view["withheld"])
        out["published"].append(published if previous is None else previous - published)
        out["expires"].append(None if row.expires_at is None else _epoch_ms(row.expires_at))
        previous = published
    if by_number:
        del out["id"]
    else:
        retracted = [str(alert_id) for alert_id in retracted]
    return {"codes": {name: list(found) for name, found in codes.items()}, "alerts": out,
            "retracted": retracted}, following


def live_alert(alert_id=None, now=None, number=None):
    """A live alert by id or by number, or None (unknown, draft, retracted or expired
    alike)."""
    key = Alert.id == alert_id if number is None else Alert.number == number
    return db.session.execute(
        db.select(Alert).where(key, live_clause(now or utcnow()))).scalar_one_or_none()
