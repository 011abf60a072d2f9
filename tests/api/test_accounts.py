"""Accounts: staff login sessions, CSRF, throttles, second factor, invites, members, audit."""
import threading
from datetime import timedelta

import pyotp
import sqlalchemy as sa

from server.accounts import service
from server.accounts.auth import STAFF_COOKIE, staff_required
from server.accounts.models import AuditEvent, Invite, Member, Staff, StaffSession
from server.clock import utc, utcnow
from server.demo import DEMO_INVITE, DEMO_MODERATOR, DEMO_PASSWORD
from server.extensions import db
from server.security import hash_password, hash_token

PASSWORD = "a long staff passphrase"


def make_staff(username="mod", role="moderator", password=PASSWORD):
    return service.create_staff(username, password, role)


def login(client, username="mod", password=PASSWORD, otp=None, extra=None, **request):
    body = {"username": username, "password": password, **(extra or {})}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/staff/login", json=body, **request)


def csrf(response):
    return {"X-CSRF-Token": response.get_json()["csrf_token"]}


def logged_in(client, username="mod", role="moderator"):
    make_staff(username, role)
    response = login(client, username)
    assert response.status_code == 200
    return csrf(response)


def new_invite(client, headers, **body):
    response = client.post("/api/v1/staff/invites", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def redeem(client, code, **kw):
    return client.post("/api/v1/members/redeem", json={"code": code}, **kw)


def audit_actions():
    return [(e.action, e.target_type) for e in
            db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def set_cookie_header(response):
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(STAFF_COOKIE))


# --- Members ----------------------------------------------------------------------------

def test_invite_redeem_and_member_token(client):
    headers = logged_in(client, "outreach1", "outreach")
    invite = new_invite(client, headers, note="drop-in tuesday")
    code = invite["code"]
    assert len(code) == 9 and code[4] == "-"
    assert set(code.replace("-", "")) <= set(service.CODE_ALPHABET)
    assert invite["join_url"] == f"/join#{code}"
    assert invite["expires_at"].endswith("+00:00")

    # Read out loud and typed by hand: lower case, no dash.
    response = redeem(client, code.lower().replace("-", ""))
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert len(token) >= 22  # >= 128 bits, URL-safe base64

    assert client.get("/api/v1/members/me",
                      headers={"Authorization": f"Bearer {token}"}).get_json() == {"member": True}
    assert client.get("/api/v1/members/me").status_code == 401
    assert client.get("/api/v1/members/me", headers={"Authorization": "Bearer nope"}).status_code == 401

    # Stored only as hashes.
    member = db.session.execute(db.select(Member)).scalar_one()
    assert member.token_hash == hash_token(token) and member.note == "drop-in tuesday"
    stored = db.session.execute(db.select(Invite)).scalar_one()
    assert code not in stored.code_hash and code.replace("-", "") not in stored.code_hash
    assert stored.used_at is not None
    assert ("invite_created", "invite") in audit_actions()


def test_code_read_with_confusable_letters():
    assert service.normalise_code("abcd-efgh") == "ABCDEFGH"
    assert service.normalise_code(" ABCD EFGH ") == "ABCDEFGH"
    assert service.normalise_code("OOII-LL00") == "00111100"
    assert service.normalise_code("ABCD-EFGU") is None  # U is not in the alphabet
    assert service.normalise_code("ABCD-EFG") is None
    assert service.normalise_code("") is None


def test_code_with_confusions_redeems(client):
    headers = logged_in(client)
    code = new_invite(client, headers)["code"]
    typed = code.replace("0", "O").replace("1", "I").lower()
    assert redeem(client, typed).status_code == 201


def test_code_is_single_use(client):
    code = new_invite(client, logged_in(client))["code"]
    assert redeem(client, code).status_code == 201
    again = redeem(client, code)
    assert again.status_code == 404
    assert "used" in again.get_json()["message"]
    assert db.session.execute(db.select(sa.func.count(Member.id))).scalar() == 1


def test_one_code_redeemed_concurrently_makes_one_member(app):
    code, _ = service.create_invite(None)
    barrier = threading.Barrier(8)
    statuses = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        statuses.append(redeem(client, code).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [404] * 7
    assert db.session.execute(db.select(sa.func.count(Member.id))).scalar() == 1


def test_expired_and_unknown_codes_refused(client):
    code, invite = service.create_invite(None)
    db.session.execute(sa.update(Invite).where(Invite.id == invite.id)
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    expired = redeem(client, code)
    unknown = redeem(client, "ZZZZ-ZZZZ")
    assert expired.status_code == unknown.status_code == 404
    assert expired.get_json() == unknown.get_json()
    assert redeem(client, "not a code at all").status_code == 404
    assert db.session.execute(db.select(sa.func.count(Member.id))).scalar() == 0


def test_redeem_rejects_bad_bodies(client):
    assert redeem(client, "").status_code == 422
    assert redeem(client, "A" * 21).status_code == 422
    response = client.post("/api/v1/members/redeem", json={"code": "ABCD-EFGH", "extra": 1})
    assert response.status_code == 422
    assert "extra" in response.get_json()["errors"]["json"]


def test_revoked_member_gets_401_at_once(client):
    headers = logged_in(client)
    token = redeem(client, new_invite(client, headers)["code"]).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/members/me", headers=bearer).status_code == 200

    listed = client.get("/api/v1/staff/members").get_json()
    assert len(listed) == 1
    assert set(listed[0]) == {"id", "created_at", "revoked_at", "note", "revocable"}
    member_id = listed[0]["id"]

    assert client.post(f"/api/v1/staff/members/{member_id}/revoke").status_code == 403  # no CSRF
    response = client.post(f"/api/v1/staff/members/{member_id}/revoke", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["revoked_at"] is not None
    assert client.get("/api/v1/members/me", headers=bearer).status_code == 401
    assert ("member_revoked", "member") in audit_actions()
    assert client.post("/api/v1/staff/members/99999/revoke", headers=headers).status_code == 404
    assert client.post("/api/v1/staff/members/x/revoke", headers=headers).status_code == 404


def test_members_endpoints_need_staff(client):
    assert client.get("/api/v1/staff/members").status_code == 401
    assert client.post("/api/v1/staff/invites", json={}).status_code == 401


def test_redeem_throttled_per_address(app, client):
    app.config["REDEEM_RATE_LIMIT"] = "3 per minute"
    statuses = [redeem(client, "ZZZZ-ZZZZ").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    other = redeem(client, "ZZZZ-ZZZZ", environ_overrides={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 404


# --- Staff sessions ---------------------------------------------------------------------

def test_login_me_logout(client):
    make_staff("Mod")
    response = login(client, "mod")
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "mod" and body["role"] == "moderator"
    assert len(body["csrf_token"]) >= 32
    cookie = client.get_cookie(STAFF_COOKIE).value
    session = db.session.execute(db.select(StaffSession)).scalar_one()
    assert session.token_hash == hash_token(cookie) and cookie not in session.token_hash

    me = client.get("/api/v1/staff/me")
    assert me.status_code == 200
    assert me.get_json()["csrf_token"] == body["csrf_token"]

    out = client.post("/api/v1/staff/logout", headers=csrf(response))
    assert out.status_code == 204
    assert client.get_cookie(STAFF_COOKIE) is None
    assert client.get("/api/v1/staff/me").status_code == 401
    # The server revoked it: the old cookie, sent again, is dead.
    client.set_cookie(STAFF_COOKIE, cookie)
    assert client.get("/api/v1/staff/me").status_code == 401
    assert [a for a, _ in audit_actions()] == ["staff_created", "login", "logout"]


def test_idle_session_expires(app, client):
    logged_in(client)
    assert client.get("/api/v1/staff/me").status_code == 200
    idle = app.config["SESSION_IDLE_MINUTES"]
    db.session.execute(sa.update(StaffSession).values(
        last_seen_at=utcnow() - timedelta(minutes=idle - 1)))
    db.session.commit()
    assert client.get("/api/v1/staff/me").status_code == 200  # and that refreshed it
    db.session.execute(sa.update(StaffSession).values(
        last_seen_at=utcnow() - timedelta(minutes=idle + 1)))
    db.session.commit()
    assert client.get("/api/v1/staff/me").status_code == 401


def test_session_has_an_absolute_limit(app, client):
    logged_in(client)
    db.session.execute(sa.update(StaffSession).values(
        created_at=utcnow() - timedelta(hours=app.config["SESSION_MAX_HOURS"], minutes=1)))
    db.session.commit()
    # Active a moment ago, yet too old.
    assert client.get("/api/v1/staff/me").status_code == 401


def test_requests_refresh_last_seen(client):
    logged_in(client)
    old = utcnow() - timedelta(minutes=5)
    db.session.execute(sa.update(StaffSession).values(last_seen_at=old))
    db.session.commit()
    client.get("/api/v1/staff/me")
    db.session.expire_all()
    seen = utc(db.session.execute(db.select(StaffSession)).scalar_one().last_seen_at)
    assert seen > old + timedelta(minutes=4)


def test_a_session_seen_a_moment_ago_is_not_written_again(client):
    """The idle clock moves at most once a minute: requests in between write nothing."""
    logged_in(client)
    recent = utcnow() - service.TOUCH_EVERY + timedelta(seconds=20)
    db.session.execute(sa.update(StaffSession).values(last_seen_at=recent))
    db.session.commit()
    assert client.get("/api/v1/staff/me").status_code == 200
    db.session.expire_all()
    seen = utc(db.session.execute(db.select(StaffSession)).scalar_one().last_seen_at)
    assert abs(seen - recent) < timedelta(milliseconds=1)


def test_wrong_password_unknown_and_disabled_users_answer_alike(client):
    make_staff("mod")
    make_staff("gone", "outreach")
    service.disable_staff(service.get_staff("gone"))
    answers = [login(client, "mod", "wrong password here"),
               login(client, "nobody", PASSWORD),
               login(client, "gone", PASSWORD)]
    assert {a.status_code for a in answers} == {401}
    assert len({a.get_data() for a in answers}) == 1
    assert all(not a.headers.getlist("Set-Cookie") for a in answers)
    assert db.session.execute(db.select(sa.func.count(StaffSession.id))).scalar() == 0
    assert [a for a, _ in audit_actions()].count("login_failed") == 3


def test_login_needs_json(client):
    make_staff()
    response = client.post("/api/v1/staff/login", data={"username": "mod", "password": PASSWORD})
    assert response.status_code == 415  # a form is not read as credentials
    assert response.get_json()["error"] == "unsupported_media_type"
    assert client.get_cookie(STAFF_COOKIE) is None
    response = login(client, extra={"extra": "field"})
    assert response.status_code == 422
    assert login(client, password="x" * 1025).status_code == 422


def test_csrf_header_guards_state_changes(client):
    headers = logged_in(client)
    assert client.post("/api/v1/staff/invites", json={}).status_code == 403
    wrong = client.post("/api/v1/staff/invites", json={}, headers={"X-CSRF-Token": "wrong"})
    assert wrong.status_code == 403
    assert db.session.execute(db.select(sa.func.count(Invite.id))).scalar() == 0
    assert client.post("/api/v1/staff/invites", json={}, headers=headers).status_code == 201
    # Logout is a state change too.
    assert client.post("/api/v1/staff/logout").status_code == 403
    assert client.get("/api/v1/staff/me").status_code == 200


def test_csrf_token_belongs_to_its_session(app):
    first, second = app.test_client(), app.test_client()
    make_staff("ann", "moderator")
    make_staff("ben", "moderator")
    token_a = csrf(login(first, "ann"))
    login(second, "ben")
    assert second.post("/api/v1/staff/invites", json={}, headers=token_a).status_code == 403


def test_cookie_flags(app):
    make_staff()
    plain = set_cookie_header(login(app.test_client()))
    assert "HttpOnly" in plain and "SameSite=Strict" in plain and "Path=/" in plain
    assert "Secure" not in plain
    over_https = set_cookie_header(login(app.test_client(), base_url="https://localhost"))
    assert "Secure" in over_https and "HttpOnly" in over_https and "SameSite=Strict" in over_https
    app.config["SESSION_COOKIE_SECURE"] = True
    assert "Secure" in set_cookie_header(login(app.test_client()))


def test_login_throttled_per_address(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    make_staff()
    statuses = [login(client, password="wrong password!").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    throttled = login(client)  # even the right password, from this address
    assert throttled.status_code == 429
    assert throttled.get_json()["code"] == 429
    assert login(client, environ_overrides={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200


def from_address(n):
    return {"environ_overrides": {"REMOTE_ADDR": f"192.0.2.{n}"}}


def test_guessing_is_throttled_per_account_and_address(app, client):
    make_staff("mod")
    tries = [login(client, "mod", "wrong password!", **from_address(1)) for _ in range(8)]
    assert [r.status_code for r in tries] == [401] * 5 + [429] * 3
    assert 1 <= int(tries[-1].headers["Retry-After"]) <= 60
    assert tries[-1].get_json()["code"] == 429
    # From this address even the right password waits (no second factor on this account) ...
    assert login(client, "mod", **from_address(1)).status_code == 429
    # ... but the guesser there cannot stop anyone elsewhere.
    assert login(client, "MOD", **from_address(2)).status_code == 200
    # A name that does not exist is throttled just the same: a 429 reveals nothing.
    statuses = [login(client, "nobody", "wrong password!", **from_address(3)).status_code
                for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_a_login_clears_the_account_and_address_count(app, client):
    make_staff("mod")
    assert [login(client, "mod", "wrong password!", **from_address(1)).status_code
            for _ in range(4)] == [401] * 4
    assert login(client, "mod", **from_address(1)).status_code == 200
    assert [login(client, "mod", "wrong password!", **from_address(1)).status_code
            for _ in range(5)] == [401] * 5


def test_strangers_everywhere_cannot_lock_an_account_and_it_is_flagged(app, client):
    staff = make_staff("mod")
    # 200 wrong passwords from 50 addresses, 4 each: none over a limit of its own ...
    statuses = [login(client, "mod", "wrong password!", **from_address(n % 50 + 10)).status_code
                for n in range(200)]
    assert statuses == [401] * 200
    # ... the owner, from an address of their own, logs in ...
    assert login(client, "mod", **from_address(99)).status_code == 200
    # ... and the account was flagged once in the audit log (LOGIN_ATTACK_THRESHOLD 20 an hour).
    flagged = db.session.execute(db.select(AuditEvent).filter_by(action="login_under_attack")).scalars().all()
    assert [(e.target_type, e.target_id, e.staff_id) for e in flagged] == [("staff", str(staff.id), None)]


def test_the_right_password_and_code_get_in_past_every_limit(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client_with_totp = app.test_client()
    headers = logged_in(client_with_totp)
    secret = client_with_totp.post("/api/v1/staff/totp/setup", headers=headers).get_json()["secret"]
    totp = pyotp.TOTP(secret)
    assert client_with_totp.post("/api/v1/staff/totp/enable", json={"otp": totp.now()},
                                 headers=headers).status_code == 200
    db.session.execute(db.update(Staff).values(totp_last_step=None))  # the enable code again
    db.session.commit()
    # A stranger who shares the address fills both limits.
    statuses = [login(client, "mod", "wrong password!", **from_address(5)).status_code
                for _ in range(6)]
    assert statuses[-1] == 429
    code = totp.now()
    wrong_code = str((int(code) + 1) % 1_000_000).zfill(6)
    assert login(client, "mod", otp=wrong_code, **from_address(5)).status_code == 429
    assert login(client, "mod", "wrong password!", otp=code, **from_address(5)).status_code == 429
    assert login(client, "mod", **from_address(5)).status_code == 429  # no code, no way past
    assert login(client, "mod", otp=code, **from_address(5)).status_code == 200
    # A code works once, past the limit too.
    assert login(client, "mod", otp=code, **from_address(5)).status_code == 429


def test_roles_are_ordered(app):
    @staff_required("moderator")
    def moderators_only():
        return {"ok": True}

    app.add_url_rule("/api/v1/test-moderators", view_func=moderators_only, methods=["GET", "POST"])
    for username, role, status in [("olu", "outreach", 403), ("mia", "moderator", 200),
                                   ("ada", "admin", 200)]:
        client = app.test_client()
        headers = logged_in(client, username, role)
        assert client.get("/api/v1/test-moderators").status_code == status
        assert client.post("/api/v1/test-moderators", headers=headers).status_code == status
    assert app.test_client().get("/api/v1/test-moderators").status_code == 401


def test_disabled_staff_session_stops_working(client, runner):
    logged_in(client)
    assert client.get("/api/v1/staff/me").status_code == 200
    result = runner.invoke(args=["staff", "disable", "mod"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/staff/me").status_code == 401
    assert login(client).status_code == 401


def test_revoke_sessions_command(app, client, runner):
    logged_in(client)
    other = app.test_client()
    assert login(other).status_code == 200
    result = runner.invoke(args=["staff", "revoke-sessions", "mod"])
    assert result.exit_code == 0 and "Revoked 2 session(s)" in result.output
    assert client.get("/api/v1/staff/me").status_code == 401
    assert other.get("/api/v1/staff/me").status_code == 401
    assert login(client).status_code == 200  # the account itself still works
    assert runner.invoke(args=["staff", "revoke-sessions", "ghost"]).exit_code != 0


# --- Second factor ----------------------------------------------------------------------

def test_totp_setup_enable_and_login(client):
    headers = logged_in(client)
    setup = client.post("/api/v1/staff/totp/setup", headers=headers)
    assert setup.status_code == 200
    secret = setup.get_json()["secret"]
    assert setup.get_json()["provisioning_uri"].startswith("otpauth://totp/Redflag:mod?")
    totp = pyotp.TOTP(secret)

    # Offered, not active: login still needs no code.
    assert login(client).status_code == 200
    headers = csrf(client.get("/api/v1/staff/me"))
    wrong = str((int(totp.now()) + 1) % 1000000).zfill(6)
    assert client.post("/api/v1/staff/totp/enable", json={"otp": wrong},
                       headers=headers).status_code == 400
    assert client.post("/api/v1/staff/totp/enable", json={"otp": "12"},
                       headers=headers).status_code == 422
    enabled = client.post("/api/v1/staff/totp/enable", json={"otp": totp.now()}, headers=headers)
    assert enabled.status_code == 200 and enabled.get_json()["totp_enabled"] is True
    assert client.post("/api/v1/staff/totp/setup", headers=headers).status_code == 409

    missing = login(client)
    assert missing.status_code == 401
    assert "otp" in missing.get_json()["errors"]["json"]
    wrong_code = login(client, otp=wrong)
    assert wrong_code.status_code == 401
    assert wrong_code.get_data() == login(client, password="wrong password!").get_data()
    # The code used to enable cannot log in (no replay); the next one (clock drift) can.
    next_code = totp.at(utcnow() + timedelta(seconds=30))
    assert login(client, otp=next_code).status_code == 200
    assert login(client, otp=next_code).status_code == 401  # replayed
    assert ("totp_enabled", "staff") in audit_actions()


def test_reset_totp_command(client, runner):
    headers = logged_in(client)
    secret = client.post("/api/v1/staff/totp/setup", headers=headers).get_json()["secret"]
    client.post("/api/v1/staff/totp/enable", json={"otp": pyotp.TOTP(secret).now()}, headers=headers)
    assert login(client).status_code == 401
    assert runner.invoke(args=["staff", "reset-totp", "mod"]).exit_code == 0
    assert login(client).status_code == 200


# --- Staff accounts from the command line -----------------------------------------------

def test_staff_create_command(runner, client):
    result = runner.invoke(args=["staff", "create", "Alice", "--role", "admin"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    alice = service.get_staff("alice")
    assert alice.role == "admin" and alice.password_hash.startswith("$argon2id$")
    assert PASSWORD not in alice.password_hash
    assert login(client, "alice").get_json()["role"] == "admin"

    scripted = runner.invoke(args=["staff", "create", "bob", "--role", "outreach",
                                   "--password-stdin"], input=f"{PASSWORD}\n")
    assert scripted.exit_code == 0, scripted.output
    assert service.get_staff("bob").role == "outreach"

    for args, given, why in [
        (["carol", "--role", "moderator", "--password-stdin"], "short pass\n", "at least 12"),
        (["carol", "--role", "moderator", "--password-stdin"], "password1234\n", "too common"),
        (["carol", "--role", "moderator", "--password-stdin"], "aaaaaaaaaaaaaaa\n", "too common"),
        (["alice", "--role", "moderator", "--password-stdin"], f"{PASSWORD}\n", "already"),
        (["c d", "--role", "moderator", "--password-stdin"], f"{PASSWORD}\n", "username"),
    ]:
        refused = runner.invoke(args=["staff", "create", *args], input=given)
        assert refused.exit_code != 0 and why in refused.output, refused.output
    mismatch = runner.invoke(args=["staff", "create", "dave", "--role", "admin"],
                             input=f"{PASSWORD}\nsomething else entirely\n")
    assert mismatch.exit_code != 0
    assert runner.invoke(args=["staff", "create", "erin", "--role", "boss", "--password-stdin"],
                         input=f"{PASSWORD}\n").exit_code != 0
    assert service.get_staff("carol") is None and service.get_staff("dave") is None
    assert "alice\tadmin\tactive" in runner.invoke(args=["staff", "list"]).output


def test_production_hash_parameters():
    # Outside tests the hasher is argon2id with RFC 9106 low-memory parameters.
    assert hash_password(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


# --- Demo accounts ----------------------------------------------------------------------

def test_demo_load_creates_demo_accounts_once(areas, client, runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert DEMO_MODERATOR in first.output and DEMO_PASSWORD in first.output
    assert DEMO_INVITE in first.output
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and DEMO_PASSWORD not in again.output
    assert db.session.execute(db.select(sa.func.count(Staff.id))).scalar() == 1
    assert db.session.execute(db.select(sa.func.count(Invite.id))).scalar() == 1

    response = login(client, DEMO_MODERATOR, DEMO_PASSWORD)
    assert response.status_code == 200 and response.get_json()["role"] == "moderator"
    assert redeem(client, "demo-2026").status_code == 201
    assert redeem(client, DEMO_INVITE).status_code == 404  # single use, like any invite
    invite = db.session.execute(db.select(Invite)).scalar_one()
    days = (utc(invite.expires_at) - utc(invite.created_at)).days
    assert days in (29, 30)


def test_demo_content_lets_a_member_check_the_demo_number(areas, client, runner):
    """The issue's try-out: after `make run`, a member checks a number from the demo data
    and sees the warning; the moderator finds a repeat offender in the queue."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    token = redeem(client, DEMO_INVITE).get_json()["token"]
    answer = client.post("/api/v1/checks", json={"kind": "phone", "value": "+44 7700 900123"},
                         headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [a["severity"] for a in answer["alerts"]] == ["dangerous"]
    assert answer["alerts"][0]["areas"] == [{"slug": "hackney", "name": "Hackney"}]
    headers = csrf(login(client, DEMO_MODERATOR, DEMO_PASSWORD))
    queue = client.get("/api/v1/staff/reports", headers=headers).get_json()["reports"]
    assert {r["status"] for r in queue} == {"received", "published"}
    waiting = next(r for r in queue if r["status"] == "received")
    detail = client.get(f"/api/v1/staff/reports/{waiting['id']}", headers=headers).get_json()
    assert detail["times_reported"] == 2


def test_demo_load_without_content(areas, runner):
    assert runner.invoke(args=["demo", "load", "--no-content"]).exit_code == 0
    assert db.session.execute(sa.text("SELECT count(*) FROM report")).scalar() == 0


def test_demo_accounts_not_made_when_staff_exist(runner):
    make_staff("real-admin", "admin")
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0 and DEMO_PASSWORD not in result.output
    assert service.get_staff(DEMO_MODERATOR) is None


def test_demo_load_refused_in_production(app, runner):
    app.config["PRODUCTION"] = True
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert db.session.execute(db.select(sa.func.count(Staff.id))).scalar() == 0


# --- Audit ------------------------------------------------------------------------------

def test_audit_trail(client):
    headers = logged_in(client)
    new_invite(client, headers)
    client.post("/api/v1/staff/logout", headers=headers)
    events = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    mod = service.get_staff("mod")
    assert [(e.action, e.staff_id) for e in events] == [
        ("staff_created", None), ("login", mod.id), ("invite_created", mod.id), ("logout", mod.id)]
    assert all(e.at is not None for e in events)
    assert events[2].target_type == "invite" and events[2].target_id.isdigit()
