"""Test data and logged-in clients, shared by tests/api and tests/push.

Plain functions and classes (fixtures are in the conftest.py files): reports as a phone
sends them, members, alerts straight through the alerts service, a logged-in staff
client, and the check every printable page must pass.
"""
import re
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from server.accounts import service as accounts
from server.accounts.models import Member
from server.alerts import service as alerts
from server.areas.service import areas_by_slugs
from server.clock import utcnow
from server.extensions import db
from server.reports.models import Report
from server.security import hash_token

PASSWORD = "a long staff passphrase"
STAFF = "/api/v1/staff"
REPORTS = "/api/v1/reports"

CONTACT = {"name": "Roxy", "phone": "07700 900999", "email": "roxy@example.org",
           "note": "Text first, never call after 10pm"}


def new_report(**changes):
    """The minimal report the issue says must be accepted, with a fresh id."""
    report = {
        "id": str(uuid.uuid4()),
        "occurred_on": (date.today() - timedelta(days=2)).isoformat(),
        "area": "hackney",
        "incident_types": ["physical_assault"],
        "description": "Punched me and took the money back.",
        "offender": {"phones": ["07700 900123"]},
    }
    report.update(changes)
    return report


def full_report():
    return new_report(
        part_of_day="night",
        incident_types=["robbery", "threats", "condom_removal"],
        description="Met at the station.\nSaid he was police, then took my phone.  ",
        offender={
            "gender": "man", "age_range": "40-50", "height": "tall", "build": "heavy",
            "skin": "white", "hair": "grey, short", "accent": "Scottish",
            "marks": "Tattoo of a swallow on his left hand",
            "names": ["Dave", "D."], "phones": ["07700 900123", "+44 7700 900456"],
            "emails": ["Dave.S@example.com"], "handles": ["@dave_ldn"],
            "vehicle": {"make": "Ford", "model": "Focus", "colour": "silver", "plate": "AB12 CDE"},
            "contact_method": "online_ad",
        },
        consent={"publish": False, "police": "full_report"},
        support={"requested": True, "contact": CONTACT},
        perpetrator="client",
        targeted_because=["sex_work", "gender_identity"],
        on_behalf=True,
    )


def send_report(client, report=None, **changes):
    """POST one report as a phone sends it (new_report() unless `report` is given, with
    `changes` over it); it must be stored. Returns (id, receipt)."""
    report = {**(report or new_report()), **changes}
    response = client.post(REPORTS, json=report)
    assert response.status_code == 201, response.get_json()
    return report["id"], response.get_json()["receipt"]


def stored_reports():
    return db.session.execute(sa.select(Report)).scalars().all()


def row_count():
    return db.session.execute(sa.select(sa.func.count()).select_from(Report)).scalar()


def send_full_report(client, **changes):
    """POST full_report() with `changes` over it; it must be stored. Returns the report."""
    report = {**full_report(), **changes}
    send_report(client, report)
    return report


def make_member(token=None, revoked=False):
    """A member device: (member, {"Authorization": "Bearer <token>"})."""
    token = token or f"member-token-{uuid.uuid4().hex}"
    member = Member(token_hash=hash_token(token), revoked_at=utcnow() if revoked else None)
    db.session.add(member)
    db.session.commit()
    return member, {"Authorization": f"Bearer {token}"}


def make_alert(title="Man posing as police", areas=("hackney",), *, summary=None,
               severity="risky", incident_types=("robbery",), identifiers=(),
               expires_at=None, state="live", now=None):
    """An alert straight through the alerts service, as moderators make them (a committed
    draft first): "draft", "live", "retracted" or "expired". Returns (alert, deliveries
    queued when it was published)."""
    alert = alerts.new_alert(
        title=title, summary=summary or f"Summary of {title}.", severity=severity,
        areas=areas_by_slugs(areas), incident_types=list(incident_types),
        identifiers=list(identifiers), expires_at=expires_at)
    db.session.commit()
    queued = 0
    if state != "draft":
        queued = alerts.publish(alert, now=now)
    if state == "retracted":
        alerts.retract(alert)
    if state == "expired":
        alert.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return alert, queued


class StaffClient:
    """A logged-in staff member's browser: the session cookie, and the CSRF header on
    every request that changes something."""

    def __init__(self, app, username, role):
        self.staff = accounts.create_staff(username, PASSWORD, role)
        self.client = app.test_client()
        response = self.client.post(f"{STAFF}/login",
                                    json={"username": username, "password": PASSWORD})
        assert response.status_code == 200
        self.csrf = {"X-CSRF-Token": response.get_json()["csrf_token"]}

    @staticmethod
    def url(path):
        # Paths under /api/v1/staff may be given relative ("/alerts"); absolute ones
        # (/api/..., /staff/print/...) are used as given.
        return path if path.startswith(("/api/", "/staff/")) else STAFF + path

    def get(self, path, **kwargs):
        return self.client.get(self.url(path), **kwargs)

    def post(self, path, json=None, csrf=True):
        return self.client.post(self.url(path), json=json, headers=self.csrf if csrf else {})

    def patch(self, path, json=None, csrf=True):
        return self.client.patch(self.url(path), json=json, headers=self.csrf if csrf else {})

    def delete(self, path, csrf=True):
        return self.client.delete(self.url(path), headers=self.csrf if csrf else {})


# --- Moderation through the staff API ----------------------------------------------------

def draft_body(report_ids, **changes):
    body = {
        "reports": list(report_ids),
        "title": "Man posing as police, Hackney",
        "summary": "Says he is police, then takes money back. Tall, grey hair.",
        "severity": "dangerous",
        "incident_types": ["posing_as_police", "robbery"],
        "areas": ["hackney"],
        "identifiers": [
            {"kind": "phone", "value": "+44 7700 900123", "display": "masked"},
            {"kind": "plate", "value": "AB12 CDE", "display": "full"},
            {"kind": "name", "value": "Dave Secretname", "display": "hidden"},
        ],
    }
    body.update(changes)
    return body


def make_draft(staff, report_ids, **changes):
    response = staff.post("/alerts", json=draft_body(report_ids, **changes))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def publish(staff, alert_id):
    response = staff.post(f"/alerts/{alert_id}/publish")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assert_print_page(response, status=200):
    """A printable page: HTML with the security headers, never cached, styled by the one
    print stylesheet, with no script, no inline style and nothing from another origin."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert not re.search(r"https?://", html), "a URL of another origin"
    assert "<script" not in html and "<style" not in html and "style=" not in html
    assert re.search(r"<[^>]*\son[a-z]+=", html) is None, "an inline event handler"
    assert '<link rel="stylesheet" href="/static/print.css">' in html
    return html


# --- Cases: support asked for, and the reporter's side through the receipt --------------

def asks_support(client, **changes):
    """A report that asks for support, with contact details. Returns (id, receipt)."""
    return send_report(client, support={"requested": True, "contact": CONTACT}, **changes)


def case_of(report_id):
    """The report's case (server.cases), or None."""
    from server.cases.models import Case
    return db.session.execute(
        sa.select(Case).where(Case.report_id == uuid.UUID(str(report_id)))).scalar_one_or_none()


def read_messages(client, report_id, receipt):
    """GET the reporter's conversation with the receipt (the response)."""
    return client.get(f"{REPORTS}/{report_id}/messages", headers={"X-Receipt": receipt})


def empty_tables():
    """Empty every table, row by row, on both engines: the statistics summary last, since
    deleting reports and tallies appends their changes to it. (A TRUNCATE of every table
    took PostgreSQL ten times as long as deleting the few rows a test leaves: it makes new
    files for each table.) PostgreSQL's id sequences then start again at 1, as SQLite's
    ids do in an empty table."""
    for table in sorted(reversed(db.metadata.sorted_tables), key=lambda t: t.name.startswith("report_count")):
        db.session.execute(table.delete())
    if db.engine.dialect.name == "postgresql":
        sequences = db.session.execute(sa.text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")).scalars().all()
        if sequences:
            db.session.execute(sa.text("SELECT " + ", ".join(
                f"setval('\"{name}\"', 1, false)" for name in sequences)))
    db.session.commit()


def app_on(database_url):
    """The app on `database_url` with nothing migrated (for migration tests: the test
    upgrades and downgrades it itself)."""
    from server import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                       "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789"})


def insert_report_as_0001_made_it(consent):
    """A report row in the table as revision 0001 made it (for data migration tests); returns its id."""
    report_id = uuid.uuid4()
    db.session.execute(sa.text(
        "INSERT INTO region (id, slug, name) SELECT 1, 'r', 'R' "
        "WHERE NOT EXISTS (SELECT 1 FROM region WHERE id = 1)"))
    db.session.execute(sa.text(
        "INSERT INTO area (id, slug, name, region_id) SELECT 1, 'a', 'A', 1 "
        "WHERE NOT EXISTS (SELECT 1 FROM area WHERE id = 1)"))
    # The table as revision 0001 made it (not the model, which is newer).
    report = sa.table(
        "report", sa.column("id", sa.Uuid), sa.column("content_hash"),
        sa.column("receipt_hash"), sa.column("status"), sa.column("received_at"),
        sa.column("updated_at"), sa.column("occurred_on", sa.Date),
        sa.column("area_id", sa.Integer), sa.column("incident_types", sa.JSON),
        sa.column("description"), sa.column("offender", sa.JSON),
        sa.column("consent_publish", sa.Boolean), sa.column("consent_police"),
        sa.column("support_requested", sa.Boolean), sa.column("on_behalf", sa.Boolean))
    now = sa.func.now()
    db.session.execute(report.insert().values(
        id=report_id, content_hash="0" * 64, receipt_hash=uuid.uuid4().hex * 2,
        status="received", received_at=now, updated_at=now, occurred_on=date(2026, 1, 1),
        area_id=1, incident_types=["theft"], description="x", offender={},
        consent_publish=True, consent_police=consent, support_requested=False,
        on_behalf=False))
    db.session.commit()
    return report_id
