"""The authorisation matrix (issue 9): every route in the URL map, with every method,
for every kind of caller, on both engines.

POLICY below is the rule each route must keep, written out by hand: a route added to
the app and not to POLICY fails this test, and so does a route that keeps another rule.
Staff routes are denied unless the route says otherwise: a staff route whose view
declares no rule is refused to everyone, admins included (deny by default).
"""
import uuid
from datetime import timedelta

import pytest
from flask import Blueprint

from server.accounts import service as accounts
from server.accounts.models import StaffSession
from server.clock import utcnow
from server.extensions import db
from server.push.vapid import create_key

from factories import PASSWORD, empty_tables

# Who may use a route:
#   public       anyone (a revoked member token sent along may still get 401)
#   member       a live member token
#   outreach, moderator, admin: a staff session of at least that role (and the
#                CSRF header on a method that changes something)
#   gateway      the configured SMS gateway, with its secret (no caller below)
POLICY = {
    ("GET", "/"): "public", ("GET", "/alerts"): "public", ("GET", "/check"): "public",
    ("GET", "/join"): "public", ("GET", "/report"): "public", ("GET", "/reports"): "public",
    ("GET", "/settings"): "public", ("GET", "/manifest.json"): "public",
    ("GET", "/service-worker.js"): "public", ("GET", "/static/<path:name>"): "public",
    ("GET", "/healthz"): "public",
    # The staff screens are the app shell: they carry no data, the API behind them does.
    ("GET", "/staff"): "public", ("GET", "/staff/alert"): "public",
    ("GET", "/staff/alerts"): "public", ("GET", "/staff/dropin"): "public",
    ("GET", "/staff/invites"): "public", ("GET", "/staff/queue"): "public",
    ("GET", "/staff/report"): "public", ("GET", "/staff/texts"): "public",
    ("GET", "/staff/support"): "public", ("GET", "/staff/case"): "public",
    ("GET", "/staff/disputes"): "public", ("GET", "/dispute"): "public",
    ("GET", "/api/v1/openapi.json"): "public",
    ("GET", "/api/v1/areas"): "public",
    ("POST", "/api/v1/reports"): "public",
    ("POST", "/api/v1/sync"): "public",
    ("GET", "/api/v1/reports/<report_id>/status"): "public",
    # The reporter's conversation and a dispute's outcome: the receipt is the key.
    ("GET", "/api/v1/reports/<report_id>/messages"): "public",
    ("POST", "/api/v1/reports/<report_id>/messages"): "public",
    ("POST", "/api/v1/disputes"): "public",
    ("GET", "/api/v1/disputes/<int:dispute_id>"): "public",
    ("GET", "/api/v1/push/key"): "public",
    ("POST", "/api/v1/members/redeem"): "public",
    ("POST", "/api/v1/staff/login"): "public",
    ("GET", "/api/v1/members/me"): "member",
    ("GET", "/api/v1/alerts"): "member", ("GET", "/api/v1/alerts/compact"): "member",
    ("GET", "/api/v1/alerts/<uuid:alert_id>"): "member", ("GET", "/api/v1/alerts/<int:number>"): "member",
    ("POST", "/api/v1/checks"): "member",
    ("GET", "/api/v1/push/subscriptions"): "member",
    ("POST", "/api/v1/push/subscriptions"): "member",
    ("PUT", "/api/v1/push/subscriptions/<uuid:subscription_id>"): "member",
    ("DELETE", "/api/v1/push/subscriptions/<uuid:subscription_id>"): "member",
    ("POST", "/api/v1/staff/logout"): "outreach",
    ("GET", "/api/v1/staff/me"): "outreach",
    ("POST", "/api/v1/staff/totp/setup"): "outreach",
    ("POST", "/api/v1/staff/totp/enable"): "outreach",
    ("POST", "/api/v1/staff/invites"): "outreach",
    ("GET", "/api/v1/staff/members"): "outreach",
    ("POST", "/api/v1/staff/members/<int:member_id>/revoke"): "outreach",
    ("GET", "/api/v1/staff/reports"): "outreach",
    ("GET", "/api/v1/staff/reports/<uuid:report_id>"): "outreach",
    ("GET", "/staff/print/bulletin"): "outreach",
    ("GET", "/api/v1/staff/alerts"): "outreach",
    ("GET", "/api/v1/staff/alerts/<uuid:alert_id>"): "outreach",
    ("GET", "/api/v1/staff/cases"): "outreach",
    ("GET", "/api/v1/staff/cases/<int:case_id>"): "outreach",
    ("PATCH", "/api/v1/staff/cases/<int:case_id>"): "outreach",
    ("POST", "/api/v1/staff/cases/<int:case_id>/assign"): "outreach",
    ("POST", "/api/v1/staff/cases/<int:case_id>/notes"): "outreach",
    ("POST", "/api/v1/staff/cases/<int:case_id>/messages"): "outreach",
    ("POST", "/api/v1/staff/police-requests"): "moderator",
    ("GET", "/api/v1/staff/disputes"): "moderator",
    ("GET", "/api/v1/staff/disputes/<int:dispute_id>"): "moderator",
    ("POST", "/api/v1/staff/disputes/<int:dispute_id>/decide"): "moderator",
    ("POST", "/api/v1/staff/reports/<uuid:report_id>/review"): "moderator",
    ("POST", "/api/v1/staff/reports/<uuid:report_id>/reject"): "moderator",
    ("POST", "/api/v1/staff/reports/<uuid:report_id>/link"): "moderator",
    ("POST", "/api/v1/staff/reports/<uuid:report_id>/unlink"): "moderator",
    ("PUT", "/api/v1/staff/reports/<uuid:report_id>/police-handling"): "moderator",
    ("POST", "/api/v1/staff/alerts"): "moderator",
    ("PATCH", "/api/v1/staff/alerts/<uuid:alert_id>"): "moderator",
    ("DELETE", "/api/v1/staff/alerts/<uuid:alert_id>"): "moderator",
    ("POST", "/api/v1/staff/alerts/<uuid:alert_id>/publish"): "moderator",
    ("POST", "/api/v1/staff/alerts/<uuid:alert_id>/retract"): "moderator",
    ("GET", "/api/v1/staff/police-pack.csv"): "moderator",
    ("GET", "/staff/print/police-pack"): "moderator",
    ("GET", "/api/v1/staff/stats"): "moderator",
    ("GET", "/api/v1/staff/stats.csv"): "moderator",
    ("GET", "/staff/print/stats"): "moderator",
    ("GET", "/api/v1/staff/sms/languages"): "outreach",
    ("GET", "/api/v1/staff/sms/members"): "outreach",
    ("POST", "/api/v1/staff/sms/members"): "outreach",
    ("PATCH", "/api/v1/staff/sms/members/<int:sms_member_id>"): "outreach",
    ("POST", "/api/v1/staff/sms/members/<int:sms_member_id>/wipe"): "outreach",
    ("POST", "/api/v1/staff/sms/preview"): "moderator",
    # The SMS gateway's callbacks: only with SMS_GATEWAY_SECRET, which no caller here has.
    ("GET", "/api/v1/sms/<name>/incoming"): "gateway",
    ("POST", "/api/v1/sms/<name>/incoming"): "gateway",
    ("GET", "/api/v1/sms/<name>/report"): "gateway",
    ("POST", "/api/v1/sms/<name>/report"): "gateway",
}
CALLERS = ["anonymous", "member", "revoked_member", "outreach", "moderator", "admin",
           "staff_without_csrf", "expired_session"]
ROLES = ("outreach", "moderator", "admin")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def app_config(tmp_path):
    # Rate limits are not authorisation: this test sends many requests from one address.
    key = tmp_path / "vapid_private.pem"
    create_key(key)
    return {"PASSWORD_HASH_FAST": True, "RATELIMIT_ENABLED": False,
            "VAPID_PRIVATE_KEY_FILE": str(key), "SMS_GATEWAY": "kannel",
            "SMS_GATEWAY_SECRET": "matrix-gateway-secret-0123456789"}


def _login(app, username, role):
    accounts.create_staff(username, PASSWORD, role)
    db.session.commit()
    client = app.test_client()
    reply = client.post("/api/v1/staff/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.get_json()
    return client, {"X-CSRF-Token": reply.get_json()["csrf_token"]}


def _member(revoked=False):
    code, _ = accounts.create_invite(None)
    token, member = accounts.redeem_invite(code)
    if revoked:
        member.revoked_at = utcnow()
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def caller(app, kind):
    """(test client, headers) for one kind of caller."""
    if kind == "anonymous":
        return app.test_client(), {}
    if kind in ("member", "revoked_member"):
        return app.test_client(), _member(revoked=kind == "revoked_member")
    if kind in ROLES:
        return _login(app, f"matrix-{kind}", kind)
    if kind == "staff_without_csrf":
        return _login(app, "matrix-nocsrf", "admin")[0], {}
    if kind == "expired_session":
        client, headers = _login(app, "matrix-expired", "admin")
        long_ago = utcnow() - timedelta(days=2)
        db.session.execute(db.update(StaffSession).values(created_at=long_ago,
                                                          last_seen_at=long_ago))
        db.session.commit()
        return client, headers
    raise ValueError(kind)


def concrete(rule):
    """A URL for a rule: every path variable filled with something well-formed."""
    path = rule
    for name, value in (("<uuid:alert_id>", uuid.uuid4()), ("<uuid:report_id>", uuid.uuid4()),
                        ("<uuid:subscription_id>", uuid.uuid4()), ("<report_id>", uuid.uuid4()),
                        ("<int:member_id>", 1), ("<int:sms_member_id>", 1), ("<int:case_id>", 1),
                        ("<int:dispute_id>", 1), ("<int:number>", 1),
                        ("<path:name>", "app.js"), ("<name>", "kannel")):
        path = path.replace(name, str(value))
    return path


def allowed(policy, kind, method):
    if policy == "public":
        return True
    if policy == "member":
        return kind == "member"
    if policy == "gateway":
        return False
    if kind == "staff_without_csrf":
        return method not in UNSAFE  # an admin's session without the header
    if kind not in ROLES:
        return False
    return ROLES.index(kind) >= ROLES.index(policy)


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule.rule


@pytest.mark.parametrize("kind", CALLERS)
def test_every_route_for_every_caller(app, kind):
    # Logging out last: it ends the session the other staff routes need.
    table = sorted(routes(app), key=lambda route: (route[1].endswith("/logout"), route))
    assert set(table) == set(POLICY), (
        "routes without a rule in POLICY: " + str(sorted(set(table) - set(POLICY)))
        + "; rules without a route: " + str(sorted(set(POLICY) - set(table))))
    client, headers = caller(app, kind)
    wrong = []
    for method, rule in table:
        policy = POLICY[(method, rule)]
        response = client.open(concrete(rule), method=method, headers=headers, json={}
                               if method in UNSAFE else None)
        status = response.status_code
        if status >= 500:
            wrong.append(f"{method} {rule}: {status}")
        elif allowed(policy, kind, method):
            # Let in: whatever the answer (404 for a made-up id, 422 for an empty body),
            # it is not a refusal of the caller...
            refused = status in (401, 403)
            if policy == "public" and kind == "revoked_member" and status == 401:
                refused = False  # a public route that reads the token refuses a dead one
            if refused:
                wrong.append(f"{method} {rule}: {policy} route refused {kind} ({status})")
        elif status not in (401, 403):
            wrong.append(f"{method} {rule}: {policy} route let {kind} in ({status})")
    assert not wrong, "\n".join(wrong)


def test_a_staff_route_that_declares_no_rule_is_denied_to_everyone(database_url):
    # Deny by default: a view under the staff prefixes without staff_required (someone
    # forgot it) answers nobody, not even an admin.
    from server import create_app
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
                      "PASSWORD_HASH_FAST": True, "RATELIMIT_ENABLED": False})
    forgotten = Blueprint("forgotten", __name__)

    @forgotten.get("/api/v1/staff/forgotten")
    def api_view():
        return {"secret": "everything"}

    @forgotten.get("/staff/print/forgotten")
    def page_view():
        return "everything"

    app.register_blueprint(forgotten)
    with app.app_context():
        try:
            for kind in ("anonymous", "member", "admin"):
                client, headers = caller(app, kind)
                for url in ("/api/v1/staff/forgotten", "/staff/print/forgotten"):
                    response = client.get(url, headers=headers)
                    assert response.status_code in (401, 403), (kind, url, response.status_code)
                    assert b"everything" not in response.data
        finally:
            db.session.remove()
            empty_tables()
            db.session.remove()
            db.engine.dispose()
