"""Staff login, sessions and second factor; invite codes; members."""
from flask import after_this_request, current_app, g, request
from flask_smorest import Blueprint

from ..errors import DomainError, NotFound, Unauthorized
from ..extensions import limiter
from . import service, throttle
from .auth import (
    STAFF_COOKIE,
    deny_undeclared_staff_routes,
    public_staff_route,
    require_member,
    staff_required,
)
from .schemas import (
    InviteRequestSchema,
    InviteSchema,
    LoginSchema,
    MemberMeSchema,
    MemberSchema,
    OtpSchema,
    RedeemSchema,
    StaffSchema,
    TokenSchema,
    TotpSetupSchema,
)

staff_blp = Blueprint("staff", __name__, url_prefix="/api/v1/staff",
                      description="Staff login, invites and members")
members_blp = Blueprint("members", __name__, url_prefix="/api/v1/members",
                        description="Members: redeem an invite for a device token")
blueprints = [staff_blp, members_blp]
# Deny by default, for every blueprint's staff routes (auth.STAFF_PREFIXES).
staff_blp.before_app_request(deny_undeclared_staff_routes)


def _staff_body(session):
    staff = session.staff
    return {"username": staff.username, "role": staff.role, "csrf_token": session.csrf_token,
            "totp_enabled": bool(staff.totp_secret)}


@staff_blp.route("/login", methods=["POST"])
@public_staff_route
@staff_blp.arguments(LoginSchema)
@staff_blp.response(200, StaffSchema)
@staff_blp.alt_response(401, description="Wrong username or password (one answer for both), "
                        "or a second-factor code is needed (errors.json.otp)")
@staff_blp.alt_response(429, description="Too many attempts from this address, or at this "
                        "account from this address (Retry-After); the right password with a "
                        "right second-factor code still logs in")
def login(credentials):
    """Log in; sets the session cookie and returns the CSRF token for later requests.

    The body must be JSON: a cross-site form cannot send that, and the cookie is
    SameSite=Strict, so login needs no CSRF token of its own. Throttled as
    accounts/throttle.py says."""
    try:
        staff = throttle.login(credentials["username"], credentials["password"],
                               credentials.get("otp"))
    except throttle.LoginThrottled as refused:
        raise DomainError(code="login_throttled",
                          headers={"Retry-After": str(refused.retry_after)}) from None
    except service.LoginFailed as failure:
        if failure.otp_required:
            raise Unauthorized(code="login_otp_required",
                               errors={"otp": ["Required for this account."]}) from None
        raise Unauthorized(code="login_failed") from None
    token, session = service.start_session(staff)

    @after_this_request
    def set_cookie(response):
        # A browser-session cookie (no Max-Age): it goes when the browser closes; the
        # server enforces the idle and absolute timeouts whatever the browser keeps.
        response.set_cookie(STAFF_COOKIE, token, httponly=True, samesite="Strict", path="/",
                            secure=_secure_cookie())
        return response
    return _staff_body(session)


def _secure_cookie():
    return request.is_secure or current_app.config["SESSION_COOKIE_SECURE"]


@staff_blp.route("/logout", methods=["POST"])
@staff_required
@staff_blp.response(204)
def logout():
    """End this session (it is revoked on the server, not just forgotten by the browser)."""
    service.end_session(g.staff_session)

    @after_this_request
    def clear_cookie(response):
        response.delete_cookie(STAFF_COOKIE, path="/", httponly=True, samesite="Strict",
                               secure=_secure_cookie())
        return response


@staff_blp.route("/me")
@staff_required
@staff_blp.response(200, StaffSchema)
def me():
    """Who is logged in, and the session's CSRF token (after a page reload)."""
    return _staff_body(g.staff_session)


@staff_blp.route("/totp/setup", methods=["POST"])
@staff_required
@staff_blp.response(200, TotpSetupSchema)
def totp_setup():
    """A new TOTP secret for an authenticator app; not active until /totp/enable."""
    secret, uri = service.begin_totp(g.staff)
    return {"secret": secret, "provisioning_uri": uri}


@staff_blp.route("/totp/enable", methods=["POST"])
@staff_required
@staff_blp.arguments(OtpSchema)
@staff_blp.response(200, StaffSchema)
def totp_enable(body):
    """Turn the second factor on with a code from the app; from now on login needs one."""
    service.enable_totp(g.staff, body["otp"])
    return _staff_body(g.staff_session)


@staff_blp.route("/invites", methods=["POST"])
@staff_required
@staff_blp.arguments(InviteRequestSchema)
@staff_blp.response(201, InviteSchema)
def create_invite(body):
    """A single-use invite code to read out or show as a QR code."""
    code, invite = service.create_invite(g.staff, note=body.get("note"))
    return {"code": code, "expires_at": invite.expires_at, "join_url": f"/join#{code}"}


@staff_blp.route("/members")
@staff_required
@staff_blp.response(200, MemberSchema(many=True))
def list_members():
    """Every member device: when it joined, whether it is revoked, the staff note."""
    return service.list_members()


@staff_blp.route("/members/<int:member_id>/revoke", methods=["POST"])
@staff_required
@staff_blp.response(200, MemberSchema)
def revoke_member(member_id):
    """Revoke a member: its token gets 401 from the next request on. Outreach may revoke
    only members who joined with their own invites (403 otherwise); every attempt is
    audited."""
    member = service.revoke_member(g.staff, member_id)
    if member is None:
        raise NotFound(code="member_not_found")
    return member


@members_blp.route("/redeem", methods=["POST"])
@limiter.limit(lambda: current_app.config["REDEEM_RATE_LIMIT"], scope="member-redeem")
@members_blp.arguments(RedeemSchema)
@members_blp.response(201, TokenSchema)
@members_blp.alt_response(404, description="Unknown, used or expired code")
def redeem(body):
    """Swap an invite code for this device's member token (shown once, never again)."""
    redeemed = service.redeem_invite(body["code"])
    if redeemed is None:
        raise NotFound(code="invite_not_valid")
    return {"token": redeemed[0]}


@members_blp.route("/me")
@members_blp.response(200, MemberMeSchema)
def member_me():
    """Whether the bearer token is a live member token (401 if not)."""
    require_member()
    return {"member": True}
