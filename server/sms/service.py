"""Text members: enrolment at a drop-in, alert texts queued on publish, commands by text.

Plain functions that views, the sender, the CLI and tests call. The number is stored
encrypted (server/crypto.py) and found by a keyed hash; nothing about alerts is ever
queued for a number that is not a live, un-stopped text member.
"""
from types import SimpleNamespace

import phonenumbers
import sqlalchemy as sa
from flask import current_app
from limits import parse_many

from .. import ratelimits
from ..accounts.models import Member
from ..accounts.service import record, role_at_least
from ..alerts import service as alerts
from ..alerts.models import Alert, alert_area
from ..areas.service import UnknownAreas, areas_by_slugs
from ..checks import service as checks
from ..clock import utcnow
from ..crypto import contact_cipher
from ..errors import Forbidden, Invalid, Refused
from ..events import alert_published, alert_retracted
from ..extensions import db
from ..push.wake import announce
from ..security import hash_token, keyed_digest, new_token
from . import texts
from .models import SMS_STATUSES, SmsDelivery, SmsMember, sms_member_area

UNKNOWN_SENDER_LIMIT = "1 per day"
# The sender's wake-up channel (server/push/wake.py): queued texts wake it on commit.
CHANNEL = "sms_deliveries"
# Delivery reports that a later one may replace (the others are final).
PROVISIONAL_REPORTS = ("queued", "accepted")


class Conflict(Refused):
    """A request that clashes with what is stored (409)."""


class NotYours(Forbidden):
    """An outreach worker acting on a text member someone else enrolled (403)."""
    code = "sms_member_not_yours"


def _check_may_manage(staff, sms_member, action):
    """As for app members (accounts.service.may_revoke): outreach manage the text members
    they enrolled, moderators and admins any. A refusal is audited, then raised."""
    if staff is None or role_at_least(staff.role, "moderator") or sms_member.enrolled_by_id == staff.id:
        return
    record(staff, f"sms_member_{action}_refused", "sms_member", sms_member.id)
    db.session.commit()
    raise NotYours("Only a moderator can change a text member someone else enrolled.")


# --- Numbers ------------------------------------------------------------------------------

def normalise_number(raw, region=None):
    """A phone number as typed or as a gateway gives it ("07700 900123", "447700900123",
    "+44 7700 900123") -> E.164 ("+447700900123"), or None when it cannot be one."""
    region = region or current_app.config["DEFAULT_PHONE_REGION"]
    text = (raw or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    # Gateways often drop the "+": "447700900123" is then tried as international too.
    for candidate in ([text] if text.startswith("+") else [text, "+" + text]):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def number_hash(e164):
    return keyed_digest(current_app.config["SECRET_KEY"], "sms-number", e164).hex()


def encrypt(text):
    return contact_cipher().encrypt(text.encode("utf-8"))


def decrypt(token):
    return contact_cipher().decrypt(bytes(token)).decode("utf-8")


def number_of(sms_member):
    """The member's number (E.164), or None once wiped."""
    return decrypt(sms_member.number_encrypted) if sms_member.number_encrypted else None


def find_member(e164):
    """The live text member with this number, or None (unknown, wiped or revoked)."""
    found = db.session.execute(
        db.select(SmsMember).join(Member, Member.id == SmsMember.member_id)
        .where(SmsMember.number_hash == number_hash(e164), Member.revoked_at.is_(None))
    ).scalar_one_or_none()
    return found


# --- Enrolment, changes, wipe (staff) -----------------------------------------------------

def _areas(slugs):
    try:
        return areas_by_slugs(slugs)
    except UnknownAreas:
        raise Invalid({"areas": ["unknown_area"]}) from None


def enrol(staff, phone, areas, language, style="neutral", note=None):
    """Enrol a person by phone number, with their consent (the form asks for it).
    -> SmsMember. Invalid for a number that cannot be one or an unknown area; Conflict
    when the number is already a text member. Commits."""
    e164 = normalise_number(phone)
    if e164 is None:
        raise Invalid({"phone": ["phone_not_one_number"]})
    chosen = _areas(areas)
    digest = number_hash(e164)
    if db.session.execute(db.select(SmsMember.id).filter_by(number_hash=digest)).first():
        raise Conflict("This number is already enrolled for texts.", code="sms_number_enrolled")
    # A Member row, so revocation, the check limit and counts work as for app members;
    # its token is random and thrown away: no device can use it.
    member = Member(token_hash=hash_token(new_token()), note=note or "text member")
    sms_member = SmsMember(member=member, number_hash=digest, number_encrypted=encrypt(e164),
                           language=language, style=style, areas=chosen,
                           enrolled_by_id=staff.id if staff else None)
    db.session.add(sms_member)
    db.session.flush()
    record(staff, "sms_member_enrolled", "sms_member", sms_member.id)
    db.session.commit()
    return sms_member


def change_member(staff, sms_member, changes):
    """Change areas (slugs), language or style. Commits."""
    _check_may_manage(staff, sms_member, "change")
    if sms_member.wiped_at is not None:
        raise Conflict("This text member was wiped.", code="sms_member_wiped")
    if "areas" in changes:
        sms_member.areas = _areas(changes["areas"])
    for name in ("language", "style"):
        if name in changes:
            setattr(sms_member, name, changes[name])
    record(staff, "sms_member_changed", "sms_member", sms_member.id)
    db.session.commit()
    return sms_member


def wipe_member(staff, sms_member, now=None):
    """Forget the number and the areas, revoke the member, stop texts not yet sent.
    The empty row stays so counts still add up. Commits."""
    _check_may_manage(staff, sms_member, "wipe")
    forget_member(sms_member, now)
    record(staff, "sms_member_wiped", "sms_member", sms_member.id)
    db.session.commit()
    return sms_member


def forget_member(sms_member, now=None):
    """Wipe's work without the audit row or the commit (retention counts its own):
    number and areas erased, member revoked, texts not yet sent stopped."""
    now = now or utcnow()
    sms_member.number_hash = None
    sms_member.number_encrypted = None
    sms_member.areas = []
    sms_member.wiped_at = now
    if sms_member.member.revoked_at is None:
        sms_member.member.revoked_at = now
    _stop_queued(sms_member.id, "member wiped", replies_too=True)


def _stop_queued(sms_member_id, reason, replies_too=False):
    d = SmsDelivery.__table__
    where = [d.c.sms_member_id == sms_member_id, d.c.status == "queued"]
    if not replies_too:
        where.append(d.c.kind == "alert")
    db.session.execute(d.update().where(*where).values(
        status="gone", last_error=reason, text_encrypted=None, to_encrypted=None))


def list_members():
    return db.session.execute(
        db.select(SmsMember).order_by(SmsMember.created_at.desc(), SmsMember.id.desc())
    ).scalars().all()


def masked_number(sms_member):
    number = number_of(sms_member)
    return alerts.mask("phone", number) if number else None


# --- Alerts -> texts ----------------------------------------------------------------------

def alert_ref(alert_id):
    """The alert's number (READ <number>): alert.number, given when it was published."""
    return db.session.execute(db.select(Alert.number).filter_by(id=alert_id)).scalar_one()


def _matching_members(area_ids):
    """SELECT id, language, style of every live, un-stopped text member with one of
    `area_ids` (a list, or a SELECT of area ids)."""
    sa_ = sms_member_area
    return (sa.select(SmsMember.id, SmsMember.language, SmsMember.style)
            .select_from(sa_)
            .join(SmsMember, SmsMember.id == sa_.c.sms_member_id)
            .join(Member, Member.id == SmsMember.member_id)
            .where(sa_.c.area_id.in_(area_ids), Member.revoked_at.is_(None),
                   SmsMember.stopped_at.is_(None), SmsMember.number_hash.is_not(None))
            .group_by(SmsMember.id, SmsMember.language, SmsMember.style))


@alert_published.connect
def _text_on_publish(alert, now=None, **_):
    enqueue_alert(alert, now)  # texts are counted apart from push deliveries


@alert_retracted.connect
def _stop_texts_on_retract(alert, **_):
    cancel_alert(alert)


def enqueue_alert(alert, now=None):
    """Queue one alert text per text member in the alert's areas, in the caller's
    transaction (publishing calls it beside the push deliveries). Calling it twice adds
    nothing. Returns the number queued."""
    now = now or utcnow()
    db.session.flush()
    d = SmsDelivery.__table__
    members = _matching_members(
        sa.select(alert_area.c.area_id).where(alert_area.c.alert_id == alert.id)).subquery()
    already = sa.exists().where(d.c.alert_id == alert.id, d.c.sms_member_id == members.c.id)
    rows = sa.select(
        sa.literal("alert", sa.String()), sa.literal(alert.id, sa.Uuid()), members.c.id,
        sa.literal("queued", sa.String()), sa.literal(0, sa.Integer()),
        sa.literal(now, sa.DateTime(timezone=True)),
        sa.literal(now, sa.DateTime(timezone=True))).where(~already)
    insert = d.insert().from_select(
        ["kind", "alert_id", "sms_member_id", "status", "attempts", "next_attempt_at",
         "created_at"], rows, include_defaults=False)
    queued = db.session.execute(insert.execution_options(preserve_rowcount=True)).rowcount
    if queued:
        announce(db.session, CHANNEL)
    return queued


def cancel_alert(alert, reason="alert retracted"):
    """Stop the alert's texts not yet sent (retraction). Does not commit."""
    d = SmsDelivery.__table__
    return db.session.execute(
        d.update().where(d.c.alert_id == alert.id, d.c.status == "queued")
        .values(status="failed", last_error=reason)).rowcount


def area_names(alert):
    return [area.name for area in alert.areas]


def preview(title="", severity="risky", incident_types=(), areas=(), identifiers=()):
    """What publishing an alert like this would text, for the moderator before publishing:
    {"texts": n, "segments": total, "by_text": [{"language", "style", "texts", "encoding",
    "segments", "text"}]}. `areas`: slugs. The alert's areas are named (a member's own
    text names only those that match, so it is never longer)."""
    chosen = _areas(areas)
    counts = db.session.execute(
        sa.select(sa.literal_column("language"), sa.literal_column("style"), sa.func.count())
        .select_from(_matching_members([area.id for area in chosen]).subquery())
        .group_by(sa.literal_column("language"), sa.literal_column("style"))
        .order_by(sa.literal_column("language"), sa.literal_column("style"))).all()
    # The next alert number: the real one is as long or shorter.
    ref = (db.session.execute(db.select(sa.func.max(Alert.number))).scalar() or 0) + 1
    # A draft never stored: only what the texts are made of.
    alert = SimpleNamespace(title=title or "", severity=severity or "risky",
                            incident_types=list(incident_types or ()),
                            identifiers=list(identifiers or ()))
    shown, withheld = alerts.member_identifiers(alert)
    project = current_app.config["SMS_PROJECT_NAME"]
    by_text = []
    for language, style, n in counts:
        text = texts.alert_text(language, style, project, ref, alert,
                                [area.name for area in chosen], shown, withheld)
        encoding, parts = texts.segments(text)
        by_text.append({"language": language, "style": style, "texts": n,
                        "encoding": encoding, "segments": parts, "text": text})
    return {"texts": sum(row["texts"] for row in by_text),
            "segments": sum(row["texts"] * row["segments"] for row in by_text),
            "by_text": by_text}


def delivery_counts(alert_id):
    rows = db.session.execute(
        db.select(SmsDelivery.status, sa.func.count())
        .where(SmsDelivery.alert_id == alert_id).group_by(SmsDelivery.status))
    counts = dict.fromkeys(SMS_STATUSES, 0)
    counts.update({status: n for status, n in rows})
    return counts


# --- Texts that come in -------------------------------------------------------------------

def queue_reply(sms_member, text, to=None):
    """Queue a reply: to a member, or (to, E.164) to a number that is not one."""
    reply = SmsDelivery(kind="reply", sms_member_id=sms_member.id if sms_member else None,
                        text_encrypted=encrypt(text), to_encrypted=encrypt(to) if to else None,
                        status="queued", next_attempt_at=utcnow())
    db.session.add(reply)
    announce(db.session, CHANNEL)
    return reply


def _allowed(limit, *keys):
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    return all(ratelimits.counted("hit", item, *keys) for item in parse_many(limit))


def receive(sender, text, now=None):
    """Answer one text that came in, in the sender's language: the reply is queued (the
    sender hands it over). Returns the reply queued, or None. Commits.

    A number that is not a live member gets nothing about alerts: at most one neutral
    reply a day, and only with SMS_REPLY_TO_UNKNOWN on. A member gets at most
    SMS_MEMBER_REPLY_LIMIT replies (READ, HELP, AREAS... all count; CHECK also has the
    member's check limit)."""
    now = now or utcnow()
    config = current_app.config
    e164 = normalise_number(sender)
    sms_member = find_member(e164) if e164 else None
    if sms_member is None:
        reply = None
        if (e164 and config["SMS_REPLY_TO_UNKNOWN"]
                and _allowed(UNKNOWN_SENDER_LIMIT, "sms-unknown", number_hash(e164))):
            reply = texts.t(config["SMS_DEFAULT_LANGUAGE"], "unknown_sender")
            queue_reply(None, reply, to=e164)
        db.session.commit()
        return reply
    # A text in counts as being seen, as a request with an app token does (retention
    # revokes and wipes members not seen for RETENTION_MEMBER_IDLE_DAYS).
    sms_member.member.last_seen_at = now
    command, argument = texts.parse_command(text, sms_member.language)
    # Every reply is a text the project pays for and the phone may be charged to read:
    # past SMS_MEMBER_REPLY_LIMIT a member gets no answer until the window moves on, but
    # STOP and START still take effect.
    answered = _allowed(config["SMS_MEMBER_REPLY_LIMIT"], "sms-replies",
                        f"member-{sms_member.member_id}")
    reply = None
    if answered or command in ("stop", "start"):
        reply = COMMANDS[command](sms_member, argument, now)
    if answered:
        queue_reply(sms_member, reply)
    else:
        reply = None
    db.session.commit()
    return reply


def _check(sms_member, value, now):
    language = sms_member.language
    if not value:
        return texts.t(language, "check.invalid")
    if not _allowed(current_app.config["CHECK_RATE_LIMIT"], "sms-check",
                    f"member-{sms_member.member_id}"):
        return texts.t(language, "check.limited")
    try:
        result = checks.check_identifier(sms_member.member, "phone", value)
    except checks.NotAnIdentifier:
        return texts.t(language, "check.invalid")
    found = result["alerts"]
    if found:
        titles = "; ".join(alert.title.strip().rstrip(".") for alert in found[:2])
        return texts.fit(texts.t(language, "check.found", value=value, titles=titles,
                                 ref=found[0].number), 2)
    if result["withheld"]:
        return texts.t(language, "check.withheld", value=value)
    return texts.t(language, "check.none", value=value)


def _read(sms_member, argument, now):
    language = sms_member.language
    if not argument.strip().isdigit():
        return texts.t(language, "read.how")
    ref = int(argument.strip())
    alert = alerts.live_alert(number=ref, now=now) if ref < 2**31 else None
    if alert is None:
        return texts.t(language, "read.unknown", ref=ref)
    shown, withheld = alerts.member_identifiers(alert)
    return texts.full_text(language, alert, area_names(alert), shown, withheld)


def _areas_reply(sms_member, argument, now):
    names = [area.name for area in sms_member.areas]
    if not names:
        return texts.t(sms_member.language, "areas.none")
    return texts.fit(texts.t(sms_member.language, "areas", areas=", ".join(names)), 2)


def _stop(sms_member, argument, now):
    if sms_member.stopped_at is None:
        sms_member.stopped_at = now
    _stop_queued(sms_member.id, "member sent STOP")
    return texts.t(sms_member.language, "stop")


def _start(sms_member, argument, now):
    sms_member.stopped_at = None
    return texts.t(sms_member.language, "start")


def _help(sms_member, argument, now):
    return texts.t(sms_member.language, "help")


def _unknown(sms_member, argument, now):
    return texts.t(sms_member.language, "unknown_command")


COMMANDS = {"check": _check, "read": _read, "areas": _areas_reply, "stop": _stop,
            "start": _start, "help": _help, "unknown": _unknown}


def record_report(ref, outcome, now=None):
    """A delivery report from the gateway: what happened to text `ref` (its id).
    Returns False when there is no such text. Commits."""
    if not ref.isdigit() or int(ref) >= 2**62:
        return False
    values = {"report": outcome, "report_at": now or utcnow()}
    if outcome in ("undelivered", "rejected"):
        values["last_error"] = f"gateway report: {outcome}"
    d = SmsDelivery.__table__
    where = [d.c.id == int(ref)]
    if outcome in PROVISIONAL_REPORTS:
        # Reports can arrive out of order: "accepted" never overwrites "delivered".
        where.append(sa.or_(d.c.report.is_(None), d.c.report.in_(PROVISIONAL_REPORTS)))
    db.session.execute(d.update().where(*where).values(**values))
    db.session.commit()
    return db.session.execute(sa.select(d.c.id).where(d.c.id == int(ref))).first() is not None

