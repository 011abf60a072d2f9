"""Permissions and files (issue 9, kind 8): outreach revokes only the members they
invited, every revocation is audited; TOTP secrets are encrypted at rest (with a
migration for stored ones); the instance folder and the SQLite files are private."""
import os
import stat
import subprocess
import sys
from pathlib import Path

import pyotp
from flask_migrate import downgrade, upgrade

from server.accounts import service as accounts
from server.accounts.models import AuditEvent, Member, Staff
from server.crypto import decrypt_text
from server.extensions import db

from factories import StaffClient

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _member_invited_by(staff_client):
    code = staff_client.post("/invites", json={}).get_json()["code"]
    token = staff_client.client.post("/api/v1/members/redeem", json={"code": code}).get_json()["token"]
    return db.session.execute(db.select(Member).order_by(Member.id.desc())).scalars().first(), token


def _audit(action, member):
    return db.session.execute(db.select(AuditEvent).filter_by(
        action=action, target_type="member", target_id=str(member.id))).scalars().all()


def test_outreach_revokes_only_the_members_they_invited(app, client):
    van = StaffClient(app, "van", "outreach")
    bus = StaffClient(app, "bus", "outreach")
    moderator = StaffClient(app, "mod", "moderator")
    mine, my_token = _member_invited_by(van)
    theirs, their_token = _member_invited_by(bus)
    by_cli = accounts.redeem_invite(accounts.create_invite(None)[0])[1]  # `flask` CLI invite

    listed = {m["id"]: m["revocable"] for m in van.get("/members").get_json()}
    assert listed == {mine.id: True, theirs.id: False, by_cli.id: False}
    assert all(m["revocable"] for m in moderator.get("/members").get_json())

    for member in (theirs, by_cli):
        refused = van.post(f"/members/{member.id}/revoke")
        assert refused.status_code == 403
        assert "moderator" in refused.get_json()["message"]
        assert len(_audit("member_revoke_refused", member)) == 1
    assert client.get("/api/v1/members/me",
                      headers={"Authorization": f"Bearer {their_token}"}).status_code == 200

    assert van.post(f"/members/{mine.id}/revoke").status_code == 200
    assert client.get("/api/v1/members/me",
                      headers={"Authorization": f"Bearer {my_token}"}).status_code == 401
    assert moderator.post(f"/members/{theirs.id}/revoke").status_code == 200
    for member in (mine, theirs):
        (event,) = _audit("member_revoked", member)
        assert event.staff_id is not None


def test_totp_secrets_are_encrypted_at_rest(app, client):
    staff_client = StaffClient(app, "mod", "moderator")
    setup = staff_client.post("/totp/setup").get_json()
    secret = setup["secret"]
    row = db.session.execute(db.select(Staff).filter_by(username="mod")).scalar_one()
    assert secret not in row.totp_pending_secret and decrypt_text(row.totp_pending_secret) == secret
    assert staff_client.post("/totp/enable", json={"otp": pyotp.TOTP(secret).now()}).status_code == 200
    db.session.expire_all()
    row = db.session.get(Staff, row.id)
    assert row.totp_pending_secret is None
    assert secret not in row.totp_secret and decrypt_text(row.totp_secret) == secret
    # Raw SQL sees only the token.
    stored = db.session.execute(db.text("SELECT totp_secret FROM staff WHERE id = :id"),
                                {"id": row.id}).scalar_one()
    assert stored.startswith("gAAAAA") and secret not in stored


def test_the_migration_encrypts_stored_secrets_and_decrypts_them_back(app):
    accounts.create_staff("old", "a long staff passphrase", "moderator")
    db.session.commit()
    db.session.remove()
    downgrade(revision="0002")
    secret = pyotp.random_base32()
    db.session.execute(db.text("UPDATE staff SET totp_secret = :s WHERE username = 'old'"),
                       {"s": secret})
    db.session.commit()
    db.session.remove()
    upgrade()
    stored = db.session.execute(db.text("SELECT totp_secret FROM staff WHERE username = 'old'")).scalar_one()
    assert stored != secret and decrypt_text(stored) == secret
    # Login with a code from the secret still works after the migration.
    code = pyotp.TOTP(secret).now()
    assert accounts.authenticate("old", "a long staff passphrase", code).username == "old"
    db.session.commit()
    db.session.remove()
    downgrade(revision="0002")
    plain = db.session.execute(db.text("SELECT totp_secret FROM staff WHERE username = 'old'")).scalar_one()
    assert plain == secret
    db.session.remove()
    upgrade()


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_instance_folder_and_database_are_private(tmp_path):
    instance = tmp_path / "instance"
    env = dict(os.environ, REDFLAG_INSTANCE=str(instance), FLASK_APP="server",
               SECRET_KEY="instance-test-secret-key-0123456789abcdef")
    env.pop("DATABASE_URL", None)
    run = lambda *args: subprocess.run([BIN / "flask", *args], env=env, cwd=ROOT,  # noqa: E731
                                       check=True, capture_output=True)
    run("db", "upgrade")
    database = instance / "redflag.db"
    assert _mode(instance) == 0o700
    assert _mode(database) == 0o600
    # While the app writes, SQLite's -wal and -shm files take the database's mode.
    script = ("from server import create_app; from server.extensions import db\n"
              "app = create_app()\n"
              "with app.app_context():\n"
              "    conn = db.engine.connect(); conn.execute(db.text('CREATE TABLE t (x int)'))\n"
              "    conn.commit()\n"
              "    import os, stat, sys\n"
              "    d = os.path.dirname(db.engine.url.database)\n"
              "    print({n: oct(stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode)) "
              "for n in os.listdir(d)})\n")
    modes = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout
    assert "'redflag.db-wal': '0o600'" in modes and "'redflag.db-shm': '0o600'" in modes, modes
    # An older install (made world-readable) is put right at the next start.
    os.chmod(instance, 0o755)
    os.chmod(database, 0o644)
    run("db", "upgrade")
    assert (_mode(instance), _mode(database)) == (0o700, 0o600)
