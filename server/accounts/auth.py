"""Who is asking: a member (bearer token) or a staff member (session cookie).

Views call these; the accounts service owns how tokens and sessions are made.
"""
from flask import g, request
from flask_smorest import abort

from ..extensions import db
from ..security import hash_token
from .models import Member


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def member_from_request():
    """The member whose token came with the request, or None when none came.
    A token that is unknown or revoked is a 401 at once, never a silent fallback."""
    if "member" in g:
        return g.member
    token = bearer_token()
    member = None
    if token is not None:
        member = db.session.execute(
            db.select(Member).filter_by(token_hash=hash_token(token))).scalar_one_or_none()
        if member is None or member.revoked_at is not None:
            abort(401, message="This device is not (or no longer) a member.")
    g.member = member
    return member


def require_member():
    member = member_from_request()
    if member is None:
        abort(401, message="Members only: redeem an invite code first.")
    return member
