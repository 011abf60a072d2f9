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
from hypothesis import HealthCheck, given, settings, strategies as st

from server.extensions import db

from .hostile import bodies, full_report, make_world, queries, replaced, text_paths

SPECIALS = [
    "\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83d", "\ufffe", "\uffff", "\U0010ffff",
    "\u202eevil\u202c", "\u200f\u200b\ufeff", "\x1b[31m", "\r\n", " ", "",
    "\U0001f600" * 300, "a" * 6000, "%", "_", "\\", "'; DROP TABLE report; --",
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
