"""A small world for hostile-input tests: the demo areas, a moderator, a member device,
a report, a draft alert and a push subscription; and a valid body for every operation
that takes one, with every optional text field present, so that a fuzzed field is the
only thing wrong with a request (issue 9's property and schemathesis tests)."""
import base64
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.accounts import service as accounts
from server.extensions import db
from server.moderation.schemas import queue_cursor

PASSWORD = "a long staff passphrase"


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# A browser's subscription keys: a real P-256 point and 16 random bytes.
P256DH = _b64(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
AUTH = _b64(os.urandom(16))


def full_report(**changes):
    """A report with every field the schema knows, each text field filled."""
    report = {
        "id": str(uuid.uuid4()),
        "occurred_on": (date.today() - timedelta(days=3)).isoformat(),
        "part_of_day": "evening", "area": "hackney",
        "incident_types": ["physical_assault", "robbery"],
        "description": "Punched me and took the money back.",
        "offender": {"gender": "man", "age_range": "40-50", "height": "tall", "build": "heavy",
                     "skin": "white", "hair": "grey", "accent": "local", "marks": "scar on chin",
                     "names": ["Dave"], "phones": ["07700 900123"], "emails": ["d@example.com"],
                     "handles": ["@dave"], "contact_method": "phone",
                     "vehicle": {"make": "Ford", "model": "Focus", "colour": "blue",
                                 "plate": "AB12 CDE"}},
        "consent": {"publish": True, "police": "full_report"},
        "support": {"requested": True, "contact": {"name": "Ann", "phone": "07700 900999",
                                                   "email": "ann@example.com",
                                                   "note": "text only"}},
        "perpetrator": "client", "targeted_because": ["sex_work"],
    }
    report.update(changes)
    return report


def draft_alert(report_ids, **changes):
    body = {"reports": [str(i) for i in report_ids], "title": "Man posing as police",
            "summary": "Says he is police, then takes the money back.", "severity": "dangerous",
            "incident_types": ["posing_as_police"], "areas": ["hackney"],
            "identifiers": [{"kind": "phone", "value": "07700 900123", "display": "masked"}],
            "expires_at": "2099-01-01T00:00:00Z"}
    body.update(changes)
    return body


@dataclass
class World:
    member_token: str
    staff_client: object  # a test client logged in as a moderator (its cookie jar)
    csrf: str
    report_id: str
    alert_id: str
    subscription_id: str
    member_id: int
    receipt: str
    extra: dict = field(default_factory=dict)

    @property
    def member(self):
        return {"Authorization": f"Bearer {self.member_token}"}

    @property
    def moderator(self):
        return {"X-CSRF-Token": self.csrf}


def make_world(app):
    from server.areas import service as areas
    from server.demo import DEMO_DIR
    areas.import_areas(areas.parse_areas((DEMO_DIR / "london-areas.csv").read_text(), "csv"))
    accounts.create_staff("fuzz-mod", PASSWORD, "moderator")
    db.session.commit()
    client = app.test_client()
    login = client.post("/api/v1/staff/login", json={"username": "fuzz-mod", "password": PASSWORD})
    assert login.status_code == 200, login.get_json()
    csrf = login.get_json()["csrf_token"]
    code, _invite = accounts.create_invite(None)
    token, member = accounts.redeem_invite(code)
    report = full_report()
    sent = client.post("/api/v1/reports", json=report)
    assert sent.status_code == 201, sent.get_json()
    headers = {"X-CSRF-Token": csrf}
    alert = client.post("/api/v1/staff/alerts", json=draft_alert([report["id"]]), headers=headers)
    assert alert.status_code == 201, alert.get_json()
    sub = client.post("/api/v1/push/subscriptions", headers={"Authorization": f"Bearer {token}"},
                      json={"areas": ["hackney"], "subscription": {
                          "endpoint": "https://push.example.net/x",
                          "keys": {"p256dh": P256DH, "auth": AUTH}}})
    subscription_id = sub.get_json()["id"] if sub.status_code == 201 else str(uuid.uuid4())
    return World(token, client, csrf, report["id"], alert.get_json()["id"], subscription_id,
                 member.id, sent.get_json()["receipt"])


def new_report_id(world):
    """A new report, for operations that change a report's state (reject)."""
    report = full_report()
    assert world.staff_client.post("/api/v1/reports", json=report).status_code == 201
    return report["id"]


def bodies(world):
    """(method, path, valid JSON body) for every operation that takes a body. A path
    may be a function (a new path for each request)."""
    r, a = world.report_id, world.alert_id
    return [
        ("POST", "/api/v1/reports", lambda: full_report()),
        ("POST", "/api/v1/sync", lambda: {"reports": [full_report()]}),
        ("POST", "/api/v1/checks", lambda: {"kind": "phone", "value": "07700 900123"}),
        ("POST", "/api/v1/members/redeem", lambda: {"code": "ABCD-EFGH"}),
        ("POST", "/api/v1/push/subscriptions", lambda: {
            "areas": ["hackney"], "subscription": {
                "endpoint": f"https://push.example.net/{uuid.uuid4().hex}",
                "keys": {"p256dh": P256DH, "auth": AUTH}}}),
        ("PUT", f"/api/v1/push/subscriptions/{world.subscription_id}",
         lambda: {"areas": ["hackney"]}),
        ("POST", "/api/v1/staff/login", lambda: {"username": "nobody", "password": "wrong password!",
                                                 "otp": "123456"}),
        ("POST", "/api/v1/staff/invites", lambda: {"note": "van, tuesday"}),
        ("POST", "/api/v1/staff/totp/enable", lambda: {"otp": "123456"}),
        ("POST", lambda: f"/api/v1/staff/reports/{new_report_id(world)}/reject",
         lambda: {"reason": "A duplicate"}),
        ("POST", lambda: f"/api/v1/staff/reports/{new_report_id(world)}/link",
         lambda: {"to": r}),
        ("PUT", f"/api/v1/staff/reports/{r}/police-handling",
         lambda: {"handling": "intelligence_only"}),
        ("POST", "/api/v1/staff/alerts", lambda: draft_alert([r])),
        ("PATCH", f"/api/v1/staff/alerts/{a}", lambda: draft_alert([r])),
    ]


def queries(world):
    """(path, {param: valid value}) for every operation with query parameters."""
    return [
        ("/api/v1/alerts", {"area": "hackney", "since": "2026-01-01T00:00:00Z"}),
        ("/api/v1/staff/reports", {"area": "hackney", "incident_type": "robbery",
                                   "status": "received", "identifier_kind": "phone",
                                   "identifier": "07700 900123", "limit": "5",
                                   "after": queue_cursor().encode(
                                       (datetime(2099, 1, 1, tzinfo=UTC), uuid.UUID(int=1)))}),
        ("/api/v1/staff/alerts", {"status": "draft", "limit": "5", "offset": "0"}),
        ("/api/v1/staff/police-pack.csv", {"from": "2026-01-01", "to": "2026-02-01",
                                           "area": "hackney"}),
        ("/api/v1/staff/stats", {"from": "2026-01-01", "to": "2026-02-01"}),
        ("/api/v1/staff/stats.csv", {"from": "2026-01-01", "to": "2026-02-01"}),
        ("/staff/print/police-pack", {"from": "2026-01-01", "to": "2026-02-01", "area": "hackney"}),
        ("/staff/print/bulletin", {"area": "hackney"}),
        ("/staff/print/stats", {"from": "2026-01-01", "to": "2026-02-01"}),
    ]


def text_paths(value, path=()):
    """Every path to a string leaf of a JSON value (list items by index)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from text_paths(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from text_paths(item, path + (i,))
    elif isinstance(value, str):
        yield path


def replaced(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(copy[head], rest, new)
    return copy
