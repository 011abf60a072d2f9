"""Arbitrary Unicode in every text field of every schema never gets a 5xx, on both
engines (issue 9, the hypothesis property test; kinds 1 to 3 by example).

Each operation starts from a valid body (tests/api/hostile.py) with every optional text
field present, so the fuzzed field is the only thing wrong: the request gets as far as
the database. Every field first gets the texts no engine can store or that upset
software (NUL, unpaired surrogates, non-characters, bidirectional overrides), then
hypothesis draws arbitrary text for fields it picks.
"""
import uuid
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.extensions import db

from .hostile import bodies, full_report, make_world, queries, replaced, text_paths

SPECIALS = [  # one of each kind; hypothesis below draws the rest
    "a\x00b", "\ud800", "x\udfffy", "\ufffe\uffff", "\U0010ffff", "\u202eevil\u202c",
    "\u200f\u200b\ufeff", "\x1b[31m\r\n", " ", "", "\U0001f600" * 300 + "a" * 6000,
    "%_\\'; DROP TABLE report; --",
]
ARBITRARY = st.text(st.characters(exclude_categories=()), max_size=64)


@pytest.fixture
def app_config():
    return {"PASSWORD_HASH_FAST": True, "RATELIMIT_ENABLED": False}


@pytest.fixture
def world(app):
    return make_world(app)


def _fresh(body):
    # A new report id per request, so each one is a new report (not a duplicate).
    if isinstance(body, dict) and "occurred_on" in body:
        body = {**body, "id": str(uuid.uuid4())}
    if isinstance(body, dict) and isinstance(body.get("reports"), list) and body["reports"] \
            and isinstance(body["reports"][0], dict):
        body = {**body, "reports": [{**body["reports"][0], "id": str(uuid.uuid4())}]}
    return body


class Sender:
    def __init__(self, app, world):
        self.member_client = app.test_client()
        self.world = world
        self.failures = []

    def client_for(self, path):
        if path.startswith(("/api/v1/staff", "/staff")):
            return self.world.staff_client, self.world.moderator
        return self.member_client, self.world.member

    def open(self, path, **kwargs):
        client, headers = self.client_for(path)
        try:
            return client.open(path, headers=headers, **kwargs)
        finally:
            # Each request of a real server has its own session; the test's app context
            # would otherwise carry one failed request's session into the next.
            db.session.remove()

    def body(self, method, path, make, field, text):
        path = path() if callable(path) else path
        body = _fresh(make())
        if field != ("id",) or "occurred_on" not in body:
            body = replaced(body, field, text)
        response = self.open(path, method=method, json=body)
        self.judge(f"{method} {path} {'.'.join(map(str, field))}={text[:20]!r}", response,
                   sync=path == "/api/v1/sync")

    def query(self, path, params, name, text):
        values = dict(params, **{name: text})
        raw = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
                       for k, v in values.items())
        response = self.open(f"{path}?{raw}", method="GET")
        self.judge(f"GET {path} {name}={text[:20]!r}", response)

    def judge(self, what, response, sync=False):
        if response.status_code >= 500:
            self.failures.append(f"{what}: {response.status_code}")
        elif sync and response.status_code == 200:
            for result in response.get_json()["results"]:
                # Text no engine can store is the item's fault: invalid, never a
                # retryable error that a phone would send again forever.
                if result["result"] == "error":
                    self.failures.append(f"{what}: sync item {result}")


def _summary(failures):
    # One line per operation and text: the same fault in twenty fields is one fault.
    seen = {}
    for failure in failures:
        what, _, status = failure.rpartition(": ")
        operation, _, rest = what.partition(" ")
        path, _, assignment = rest.partition(" ")
        text = assignment.partition("=")[2]
        seen.setdefault((operation, path, text, status), []).append(assignment.partition("=")[0])
    return "\n".join(f"{op} {path} {text} -> {status} in {', '.join(names[:4])}"
                     f"{' ...' if len(names) > 4 else ''}"
                     for (op, path, text, status), names in seen.items())


def test_every_text_field_refuses_or_keeps_what_it_is_given(app, world):
    sender = Sender(app, world)
    # The valid requests get through (no 401 or 403): the fuzzed field alone is wrong.
    expected = {"/api/v1/members/redeem": 404, "/api/v1/staff/login": 401,
                "/api/v1/staff/totp/enable": 400}
    for method, path, make in bodies(world):
        path = path() if callable(path) else path
        status = sender.open(path, method=method, json=_fresh(make())).status_code
        assert status == expected.get(path, status) and (path in expected or status < 300), (
            path, status)
    for path, params in queries(world):
        assert sender.open(path, method="GET", query_string=params).status_code == 200, path
    for method, path, make in bodies(world):
        for field in text_paths(make()):
            for text in SPECIALS:
                sender.body(method, path, make, field, text)
    for path, params in queries(world):
        for name in params:
            for text in SPECIALS:
                sender.query(path, params, name, text)
    assert not sender.failures, _summary(sender.failures)


def test_arbitrary_unicode_anywhere(app, world):
    sender = Sender(app, world)
    fields = [("body", method, path, make, field) for method, path, make in bodies(world)
              for field in text_paths(make())]
    fields += [("query", path, params, name) for path, params in queries(world) for name in params]

    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(fields), ARBITRARY)
    def run(target, text):
        if target[0] == "body":
            sender.body(*target[1:], text)
        else:
            sender.query(*target[1:], text)

    run()
    assert not sender.failures, _summary(sender.failures)


def test_the_world_covers_every_text_field_of_the_report():
    # The report body is the richest: every text field of its schema is in the example,
    # so the fuzzing above reaches each one.
    from marshmallow import fields as mf

    from server.reports.schemas import ReportSchema

    def schema_paths(schema, path=()):
        for name, f in schema.fields.items():
            yield from field_paths(f, path + (f.data_key or name,))

    def field_paths(f, path):
        if isinstance(f, mf.Nested):
            yield from schema_paths(f.schema, path)
        elif isinstance(f, mf.List):
            yield from field_paths(f.inner, path + (0,))
        elif isinstance(f, mf.String):
            yield path

    assert set(schema_paths(ReportSchema())) <= set(text_paths(full_report()))


# --- The examples, kind by kind ------------------------------------------------------

def _errors(response):
    body = response.get_json()
    return body.get("errors", {}).get("json") or body.get("errors", {}).get("query") or {}


@pytest.mark.parametrize("text", ["bad\x00guy@example.com", "bad\ud800guy@example.com"])
def test_kind_1_text_no_engine_can_store_is_a_422_with_a_field_message(app, world, text):
    member = app.test_client()
    staff = world.staff_client
    cases = [
        (member.post("/api/v1/checks", json={"kind": "email", "value": text}, headers=world.member),
         "value"),
        (app.test_client().post("/api/v1/staff/login",
                                json={"username": text, "password": "whatever it is"}), "username"),
        (staff.post("/api/v1/staff/invites", json={"note": text}, headers=world.moderator), "note"),
        (member.post("/api/v1/reports", json=full_report(description=text)), "description"),
        (staff.post("/api/v1/staff/alerts", headers=world.moderator,
                    json={**_alert(world), "title": text}), "title"),
    ]
    for response, field in cases:
        assert response.status_code == 422, (field, response.status_code, response.get_json())
        assert field in _errors(response), (field, response.get_json())
    search = staff.get("/api/v1/staff/reports?identifier_kind=email&identifier="
                       + quote(text.encode("utf-8", "surrogatepass"), safe=""))
    assert search.status_code in (200, 422)  # a NUL: 422; a surrogate is U+FFFD once decoded
    if "\x00" in text:
        assert search.status_code == 422 and "identifier" in _errors(search)


def _alert(world):
    from .hostile import draft_alert
    return draft_alert([world.report_id])


@pytest.mark.parametrize("text", ["\x00", "\ud800", "a\udfffb"])
def test_kind_1_a_sync_item_with_such_text_is_invalid_never_retryable(app, world, text):
    good, bad = full_report(), full_report(description=f"Punched me {text}")
    client = app.test_client()
    for _ in range(2):  # and the same on every resend
        results = client.post("/api/v1/sync", json={"reports": [good, bad]}).get_json()["results"]
        assert results[0]["result"] in ("created", "duplicate")
        assert (results[1]["result"], results[1]["retryable"]) == ("invalid", False)
        assert "description" in results[1]["errors"]


def test_kind_2_values_outside_what_the_engines_hold(app, world):
    staff = world.staff_client
    reply = staff.post("/api/v1/staff/alerts", headers=world.moderator,
                       json={**_alert(world), "expires_at": "9999-12-31T23:59:59-14:00"})
    assert reply.status_code == 422 and "expires_at" in _errors(reply)
    assert staff.get("/api/v1/staff/alerts").status_code == 200
    since = app.test_client().get("/api/v1/alerts?since=0001-01-01T00:00:00Z", headers=world.member)
    assert since.status_code == 422 and "since" in _errors(since)
    reply = app.test_client().post("/api/v1/staff/members/99999999999999999999/revoke")
    assert reply.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/sync", "/api/v1/members/redeem",
                                  "/api/v1/staff/login", "/api/v1/checks"])
def test_kind_2_json_nested_5000_deep_is_a_400_everywhere(client, path):
    reply = client.post(path, data="[" * 5000 + "]" * 5000, content_type="application/json")
    assert reply.status_code == 400
    assert "nested" in reply.get_json()["message"]


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/sync", "/api/v1/members/redeem",
                                  "/api/v1/staff/login", "/api/v1/checks"])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_kind_2_a_json_body_sent_as_something_else_is_a_415_that_says_so(client, path,
                                                                          content_type):
    """Read as no body, it got a 422 naming every required field as missing."""
    headers = {"Content-Type": content_type} if content_type else {}
    reply = client.post(path, data='{"id": "x"}', headers=headers)
    assert reply.status_code == 415
    assert reply.get_json()["error"] == "unsupported_media_type"
    assert "application/json" in reply.get_json()["message"]


def test_kind_2_the_sms_gateways_callbacks_still_take_their_own_bodies(client):
    """Kannel's callbacks are the one API whose bodies are not JSON: never a 415."""
    reply = client.post("/api/v1/sms/kannel/incoming", data="STOP", content_type="text/plain")
    assert reply.status_code != 415


def test_kind_2_an_instant_with_an_offset_is_the_same_instant_on_both_engines(app, world):
    staff = world.staff_client
    reply = staff.post("/api/v1/staff/alerts", headers=world.moderator,
                       json={**_alert(world), "expires_at": "2099-06-01T12:00:00+05:00"})
    assert reply.status_code == 201, reply.get_json()
    db.session.remove()
    stored = staff.get(f"/api/v1/staff/alerts/{reply.get_json()['id']}").get_json()["expires_at"]
    assert stored in ("2099-06-01T07:00:00+00:00", "2099-06-01T07:00:00Z")


def test_kind_3_a_list_mixing_malformed_and_unknown_areas_is_a_422(app, world):
    member, staff = app.test_client(), world.staff_client
    from .hostile import AUTH, P256DH
    replies = {
        "member feed": member.get("/api/v1/alerts?area=&area=nope", headers=world.member),
        "staff queue": staff.get("/api/v1/staff/reports?area=&area=nope"),
        "subscribe": member.post("/api/v1/push/subscriptions", headers=world.member, json={
            "areas": ["", "nope"], "subscription": {"endpoint": "https://push.example.net/k",
                                                    "keys": {"p256dh": P256DH, "auth": AUTH}}}),
        "change areas": member.put(f"/api/v1/push/subscriptions/{world.subscription_id}",
                                   headers=world.member, json={"areas": ["", "nope"]}),
        "alert create": staff.post("/api/v1/staff/alerts", headers=world.moderator,
                                   json={**_alert(world), "areas": ["", "nope"]}),
        "alert edit": staff.patch(f"/api/v1/staff/alerts/{world.alert_id}",
                                  headers=world.moderator, json={"areas": ["", "nope"]}),
    }
    for where, reply in replies.items():
        assert reply.status_code == 422, (where, reply.status_code)
        assert "area" in str(reply.get_json()["errors"]), where


def test_every_schema_that_takes_input_is_on_the_kits_base(app):
    # The kit's StrictSchema refuses text no database stores in every field; a schema
    # on another base would let it through to a 500. Every argument schema of every
    # route, found in the URL map (a new route is checked without anyone listing it).
    from server.schemas import StrictSchema
    found, off_base = 0, []
    for endpoint, view in app.view_functions.items():
        for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
            schema = parameter["schema"]
            schema = schema() if isinstance(schema, type) else schema
            found += 1
            if not isinstance(schema, StrictSchema):
                off_base.append(f"{endpoint}: {type(schema).__name__}")
    assert found >= 20 and off_base == []
