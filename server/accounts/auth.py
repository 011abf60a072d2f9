"""Who is asking: a member (bearer token) or a staff member (session cookie).

Views call these; the accounts service owns how tokens and sessions are made.
"""
import functools
from datetime import timedelta

from flask import current_app, g, request

from ..clock import utc, utcnow
from ..errors import Forbidden, Unauthorized
from ..extensions import db
from ..security import CSRF_HEADER, UNSAFE_METHODS, csrf_ok, hash_token
from . import service
from .models import ROLES, Member

STAFF_COOKIE = "redflag_staff"
# Every route under these prefixes is for staff: denied unless its view says who may use
# it (staff_required, or public_staff_route for the login itself).
STAFF_PREFIXES = ("/api/v1/staff/", "/staff/print/")
SEEN_EVERY = timedelta(days=1)


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def member_from_request():
    """The member whose token came with the request, or None when none came.
    A token that is unknown or revoked is a 401 at once, never a silent fallback."""
    # Cached on the request, not on g: g lives as long as the app context, which a test
    # (or a CLI command) may share across several requests.
    if hasattr(request, "redflag_member"):
        return request.redflag_member
    token = bearer_token()
    member = None
    if token is not None:
        member = db.session.execute(
            db.select(Member).filter_by(token_hash=hash_token(token))).scalar_one_or_none()
        if member is None or member.revoked_at is not None:
            raise Unauthorized(code="member_token_invalid")
        _seen(member)
    request.redflag_member = member
    g.member = member
    return member


def _seen(member):
    """Note the day a member was last seen (retention revokes members idle for a year).
    At most one write a day per member, committed at once on its own: this runs before
    the view has changed anything."""
    now = utcnow()
    if member.last_seen_at is not None and utc(member.last_seen_at) > now - SEEN_EVERY:
        return
    db.session.execute(db.update(Member).where(Member.id == member.id).values(last_seen_at=now)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    member.last_seen_at = now


def require_member():
    member = member_from_request()
    if member is None:
        raise Unauthorized(code="member_required")
    return member


def member_required(view):
    """401 for anyone but a member, before the body or query is read (so a non-member
    learns nothing from validation) and before any per-member rate limit. Put it right
    under @blp.route; the view calls require_member() for the (cached) member."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        require_member()
        return view(*args, **kwargs)
    return wrapper


def current_session():
    """The live StaffSession behind the request's staff cookie, or None (no cookie, or
    unknown, revoked, expired, or its staff member disabled). Reads only: no CSRF check
    and no last_seen_at refresh; views use staff_required for that."""
    if not hasattr(request, "redflag_staff_session"):
        request.redflag_staff_session = service.session_for_token(
            request.cookies.get(STAFF_COOKIE))
    return request.redflag_staff_session


def current_staff():
    """The logged-in Staff for this request, or None."""
    session = current_session()
    return session.staff if session is not None else None


def staff_required(role="outreach"):
    """Decorate a view for staff of at least `role` (outreach < moderator < admin).

    No live session -> 401; on POST/PUT/PATCH/DELETE an X-CSRF-Token header that is
    missing or not the session's token -> 403; a lower role -> 403. Otherwise it
    refreshes the session's last_seen_at at most once a minute (the idle timeout counts
    from there), sets g.staff and g.staff_session for the view, and runs it. Put it right
    under @blp.route so it runs before argument parsing. Usable as @staff_required or
    @staff_required("admin").
    """
    if callable(role):  # used bare: @staff_required
        return staff_required()(role)
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            session = current_session()
            if session is None:
                raise Unauthorized(code="staff_login_required")
            if request.method in UNSAFE_METHODS and not csrf_ok(
                    session.csrf_token, request.headers.get(CSRF_HEADER)):
                raise Forbidden(code="csrf_failed")
            if not service.role_at_least(session.staff.role, role):
                raise Forbidden(f"This needs the {role} role or higher.", code="role_required")
            service.touch_session(session)
            g.staff = session.staff
            g.staff_session = session
            return view(*args, **kwargs)
        wrapper.staff_role = role
        return wrapper
    return decorator


def public_staff_route(view):
    """Mark a view under STAFF_PREFIXES that anyone may call (the login). Put it right
    under @blp.route."""
    view.staff_public = True
    return view


def deny_undeclared_staff_routes():
    """before_request: a route under STAFF_PREFIXES whose view declares no rule (someone
    forgot @staff_required) is refused to everyone: deny by default."""
    rule = request.url_rule
    if rule is None or not rule.rule.startswith(STAFF_PREFIXES):
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "staff_role", None) is None and not getattr(view, "staff_public", False):
        raise Forbidden(code="staff_route_undeclared")
