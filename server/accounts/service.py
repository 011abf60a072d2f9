"""Accounts: staff, their login sessions and second factor, invite codes, members, audit.

Plain functions that views, CLI commands and tests call. Secrets (session tokens, member
tokens, invite codes) are returned once to the caller and stored only as hashes.
"""
import re
import secrets
from datetime import timedelta

import pyotp
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..clock import utc, utcnow
from ..crypto import decrypt_text, encrypt_text
from ..errors import DomainError
from ..extensions import db
from ..security import (
    hash_password,
    hash_token,
    keyed_digest,
    new_csrf_token,
    new_token,
    password_problem,
    same,
    verify_password,
)
from .models import ROLES, AuditEvent, Invite, Member, Staff, StaffSession

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
# Crockford base32: no I, L, O or U, so a code read out loud or copied by hand survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
_CODE_CONFUSIONS = str.maketrans({"O": "0", "I": "1", "L": "1"})
TOTP_ISSUER = "Redflag"


class AccountError(DomainError):
    """A request the accounts service refuses; the code says which (server/errors.py)."""
    code = "account_invalid"


class LoginFailed(Exception):
    """Wrong username, password or code. otp_required: the password was right but the
    account has a second factor and no code came with it."""

    def __init__(self, otp_required=False):
        super().__init__("otp required" if otp_required else "login failed")
        self.otp_required = otp_required


# --- Audit ------------------------------------------------------------------------------

def record(staff, action, target_type=None, target_id=None):
    """Add an audit event (who, what, which record, when) to the current transaction.

    The caller commits, so the event stands or falls with the action it describes.
    `staff` may be None (a CLI command, a failed login for an unknown name). Never pass
    report text or anything a person typed: only ids.
    """
    event = AuditEvent(staff_id=staff.id if staff is not None else None, action=action,
                       target_type=target_type,
                       target_id=None if target_id is None else str(target_id))
    db.session.add(event)
    return event


# --- Staff ------------------------------------------------------------------------------

def normalise_username(username):
    return (username or "").strip().lower()


def role_at_least(role, minimum):
    return ROLES.index(role) >= ROLES.index(minimum)


def get_staff(username):
    return db.session.execute(
        db.select(Staff).filter_by(username=normalise_username(username))).scalar_one_or_none()


def create_staff(username, password, role):
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise AccountError("A username is 2-80 characters: letters, digits, dot, dash, underscore.")
    if role not in ROLES:
        raise AccountError(f"The role is one of: {', '.join(ROLES)}.")
    problem = password_problem(password, username)
    if problem:
        raise AccountError(problem)
    if get_staff(username) is not None:
        raise AccountError(f"There is already a staff account called {username}.",
                           code="account_exists")
    staff = Staff(username=username, password_hash=hash_password(password), role=role, active=True)
    db.session.add(staff)
    db.session.flush()
    record(None, "staff_created", "staff", staff.id)
    db.session.commit()
    return staff


def revoke_sessions(staff, by=None):
    """End every open session of this staff member. Returns how many were open."""
    now = utcnow()
    result = db.session.execute(
        db.update(StaffSession)
        .where(StaffSession.staff_id == staff.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False))
    record(by, "sessions_revoked", "staff", staff.id)
    db.session.commit()
    return result.rowcount


def disable_staff(staff, by=None):
    staff.active = False
    record(by, "staff_disabled", "staff", staff.id)
    db.session.commit()
    revoke_sessions(staff, by)


# --- Login sessions ---------------------------------------------------------------------

def authenticate(username, password, otp=None):
    """The staff member these credentials belong to; LoginFailed otherwise.

    An unknown name, a disabled account and a wrong password fail alike, after the same
    argon2 work, so neither the answer nor its timing tells whether the name exists.
    """
    staff = get_staff(username)
    password_ok = verify_password(staff.password_hash if staff else None, password)
    if staff is None or not password_ok or not staff.active:
        _login_failed(staff)
    if staff.totp_secret:
        if not otp:
            raise LoginFailed(otp_required=True)
        if not accept_totp(staff, decrypt_text(staff.totp_secret), otp):
            _login_failed(staff)
    return staff


def _login_failed(staff):
    record(staff, "login_failed", "staff", staff.id if staff else None)
    db.session.commit()
    raise LoginFailed()


def start_session(staff):
    """A new session for a staff member who has just proved who they are.
    Returns (cookie token, session); only the token's hash is stored."""
    token = new_token()
    session = StaffSession(token_hash=hash_token(token), csrf_token=new_csrf_token(),
                           staff_id=staff.id)
    db.session.add(session)
    db.session.flush()
    record(staff, "login", "staff_session", session.id)
    db.session.commit()
    return token, session


def session_for_token(token):
    """The live session behind a cookie token, or None: unknown, revoked, idle too long,
    too old, or its staff member disabled."""
    if not token:
        return None
    session = db.session.execute(
        db.select(StaffSession).filter_by(token_hash=hash_token(token))).scalar_one_or_none()
    if session is None or session.revoked_at is not None or not session.staff.active:
        return None
    config = current_app.config
    now = utcnow()
    if utc(session.last_seen_at) + timedelta(minutes=config["SESSION_IDLE_MINUTES"]) <= now:
        return None
    if utc(session.created_at) + timedelta(hours=config["SESSION_MAX_HOURS"]) <= now:
        return None
    return session


# A session's last_seen_at is rewritten at most this often: a staff page's every request
# otherwise paid for a write and a commit (~15 % of a queue page). The idle timeout then
# ends a session up to this much before SESSION_IDLE_MINUTES after the last request,
# never later.
TOUCH_EVERY = timedelta(seconds=60)


def touch_session(session):
    """Note that `session` was used now, unless it was noted less than TOUCH_EVERY ago."""
    now = utcnow()
    if utc(session.last_seen_at) + TOUCH_EVERY <= now:
        session.last_seen_at = now
        db.session.commit()


def end_session(session):
    session.revoked_at = utcnow()
    record(session.staff, "logout", "staff_session", session.id)
    db.session.commit()


# --- Second factor (TOTP) ---------------------------------------------------------------

def begin_totp(staff):
    """Offer a new TOTP secret; it becomes active only once enable_totp sees a code from it."""
    if staff.totp_secret:
        raise AccountError(code="totp_already_on")
    secret = pyotp.random_base32()
    staff.totp_pending_secret = encrypt_text(secret)
    db.session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=staff.username, issuer_name=TOTP_ISSUER)
    return secret, uri


def enable_totp(staff, otp):
    if staff.totp_secret:
        raise AccountError(code="totp_already_on")
    if not staff.totp_pending_secret:
        raise AccountError(code="totp_not_started")
    if not accept_totp(staff, decrypt_text(staff.totp_pending_secret), otp):
        raise AccountError(code="totp_code_wrong")
    staff.totp_secret = staff.totp_pending_secret
    staff.totp_pending_secret = None
    record(staff, "totp_enabled", "staff", staff.id)
    db.session.commit()


def reset_totp(staff, by=None):
    """Turn the second factor off (a lost phone); the staff member can set it up again."""
    staff.totp_secret = None
    staff.totp_pending_secret = None
    staff.totp_last_step = None
    record(by, "totp_reset", "staff", staff.id)
    db.session.commit()


def totp_matches(secret, otp):
    """The 30 s step whose code `otp` is (the current one or one either side, for clock
    drift), or None. Claims nothing: accept_totp does."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(utcnow())
    for step in (current - 1, current, current + 1):
        if same(totp.generate_otp(step).encode(), str(otp).encode()):
            return step
    return None


def accept_totp(staff, secret, otp):
    """A code from this secret for the current 30 s step (or one either side, for clock
    drift), never one already used: the step is claimed with a conditional UPDATE, so
    the same code cannot log in twice, even concurrently."""
    step = totp_matches(secret, otp)
    if step is None:
        return False
    claimed = db.session.execute(
        db.update(Staff)
        .where(Staff.id == staff.id,
               db.or_(Staff.totp_last_step.is_(None), Staff.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return claimed.rowcount == 1


# --- Invites and members ----------------------------------------------------------------

def normalise_code(text):
    """An invite code as typed (any case, with or without the dash, O for 0, I or L for 1)
    in its stored form, or None when it cannot be a code."""
    code = re.sub(r"[\s-]", "", text or "").upper().translate(_CODE_CONFUSIONS)
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def format_code(code):
    return f"{code[:4]}-{code[4:]}"


def _invite_hash(code):
    # Keyed with the app secret: 40 bits would fall to brute force from a leaked table
    # if they were hashed without a key.
    return keyed_digest(current_app.config["SECRET_KEY"], "invite", code).hex()


def create_invite(staff, note=None, valid_hours=None, code=None):
    """A single-use invite. Returns (code as XXXX-XXXX, invite); only the hash is stored."""
    hours = valid_hours or current_app.config["INVITE_VALID_HOURS"]
    for _ in range(5):
        plain = normalise_code(code) if code else "".join(
            secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        invite = Invite(code_hash=_invite_hash(plain), created_by_id=staff.id if staff else None,
                        expires_at=utcnow() + timedelta(hours=hours), note=note)
        db.session.add(invite)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            if code:
                raise AccountError(code="invite_code_taken") from None
            continue  # a 1 in 10^12 clash with an earlier code: draw again
        record(staff, "invite_created", "invite", invite.id)
        db.session.commit()
        return format_code(plain), invite
    raise AccountError("Could not make a unique invite code; try again.", code="conflict")


def redeem_invite(code_text):
    """Use an invite once: returns (member token, member), or None for a code that is
    unknown, used or expired. Marking the invite used is a conditional UPDATE in the same
    transaction as the new member, so two devices racing with one code get one member."""
    code = normalise_code(code_text)
    if code is None:
        return None
    now = utcnow()
    used = db.session.execute(
        db.update(Invite)
        .where(Invite.code_hash == _invite_hash(code), Invite.used_at.is_(None),
               Invite.expires_at > now)
        .values(used_at=now)
        .returning(Invite.id, Invite.note)
        .execution_options(synchronize_session=False)).first()
    if used is None:
        db.session.rollback()
        return None
    token = new_token()
    member = Member(token_hash=hash_token(token), invite_id=used.id, note=used.note)
    db.session.add(member)
    db.session.commit()
    return token, member


def list_members():
    return db.session.execute(
        db.select(Member).order_by(Member.created_at.desc(), Member.id.desc())).scalars().all()


class NotYourMember(AccountError):
    """An outreach worker may revoke only the members who joined with their invites (403)."""
    code = "member_not_yours"


def invites_made_by(staff):
    """The ids of the invites this staff member made."""
    return set(db.session.execute(
        db.select(Invite.id).where(Invite.created_by_id == staff.id)).scalars())


def may_revoke(staff, member):
    """Moderators and admins may revoke any member; outreach only those who joined with
    an invite they made (an outreach worker who vets someone can undo it, but cannot
    cut off every member of the project)."""
    if role_at_least(staff.role, "moderator"):
        return True
    invite = db.session.get(Invite, member.invite_id) if member.invite_id else None
    return invite is not None and invite.created_by_id == staff.id


def revoke_member(staff, member_id):
    """Revoke a member's token at once. Returns the member, or None if there is none.
    Every attempt is audited: member_revoked, or member_revoke_refused (and then
    NotYourMember is raised) when `staff` may not revoke this member."""
    member = db.session.get(Member, member_id)
    if member is None:
        return None
    if not may_revoke(staff, member):
        record(staff, "member_revoke_refused", "member", member.id)
        db.session.commit()
        raise NotYourMember("Only a moderator can revoke a member who joined with "
                            "someone else's invite.")
    if member.revoked_at is None:
        member.revoked_at = utcnow()
        record(staff, "member_revoked", "member", member.id)
        db.session.commit()
    return member
