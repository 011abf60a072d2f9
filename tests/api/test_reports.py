"""POST /api/v1/reports and the status lookup: stored once and only once, exactly as
given, contact details encrypted, invalid input refused with field-level errors."""
import threading
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from server.crypto import check_contact_key, decrypt_contact, encrypt_contact
from server.extensions import db
from server.reports import service
from server.reports.schemas import ReportSchema

from factories import CONTACT, full_report, make_member, new_report, row_count, stored_reports

URL = "/api/v1/reports"
# --- stored once and only once -------------------------------------------------------

def test_minimal_report_is_accepted(client, areas):
    report = new_report()
    response = client.post(URL, json=report)
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"] == report["id"]
    assert body["status"] == "received"
    assert len(body["receipt"]) >= 20
    [row] = stored_reports()
    assert str(row.id) == report["id"]
    assert row.area.slug == "hackney"
    assert row.offender == {"phones": ["07700 900123"]}
    assert (row.consent_publish, row.consent_police) == (True, "none")
    assert row.support_requested is False and row.contact_encrypted is None
    assert row.member_id is None and row.status == "received"
    # Only a hash of the receipt is kept.
    assert row.receipt_hash == service.receipt_hash(body["receipt"])
    assert body["receipt"] not in repr(db.session.execute(sa.text("SELECT * FROM report")).all())


def test_full_report_is_stored_as_given(client, areas):
    report = full_report()
    assert client.post(URL, json=report).status_code == 201
    [row] = stored_reports()
    assert row.part_of_day == "night"
    assert row.incident_types == ["robbery", "threats", "condom_removal"]
    assert row.description == report["description"]  # not trimmed
    assert row.offender == report["offender"]  # not normalised
    assert (row.consent_publish, row.consent_police) == (False, "full_report")
    assert row.perpetrator == "client"
    assert row.targeted_because == ["sex_work", "gender_identity"]
    assert row.support_requested is True and row.on_behalf is True
    assert decrypt_contact(row.contact_encrypted) == CONTACT


def test_replay_returns_the_same_receipt_and_stores_nothing(client, areas):
    report = new_report()
    first = client.post(URL, json=report)
    [before] = stored_reports()
    received_at = before.received_at
    again = client.post(URL, json=report)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert row_count() == 1
    db.session.expire_all()
    assert stored_reports()[0].received_at == received_at


def test_same_content_in_another_shape_is_a_duplicate(client, areas):
    report = new_report()
    assert client.post(URL, json=report).status_code == 201
    reshaped = dict(reversed(list(report.items())), id=report["id"].upper(),
                    consent={"publish": True, "police": "none"}, part_of_day=None,
                    support={"requested": False}, on_behalf=False)
    response = client.post(URL, json=reshaped)
    assert response.status_code == 200
    assert row_count() == 1


def test_same_id_other_content_is_a_conflict(client, areas):
    report = new_report()
    first = client.post(URL, json=report).get_json()
    [row] = stored_reports()
    stored_hash, stored_description = row.content_hash, row.description
    response = client.post(URL, json=dict(report, description="Something else entirely."))
    assert response.status_code == 409
    assert "receipt" not in response.get_json()
    assert response.get_json()["message"]
    db.session.expire_all()
    [row] = stored_reports()
    assert (row.content_hash, row.description) == (stored_hash, stored_description)
    assert row.receipt_hash == service.receipt_hash(first["receipt"])


def test_fifty_simultaneous_posts_store_one_report(app, areas):
    report = new_report()
    start = threading.Barrier(50)
    answers = []

    def send():
        client = app.test_client()  # each thread: its own client, app context, session
        start.wait()
        try:
            response = client.post(URL, json=report)
            answers.append((response.status_code, response.get_json().get("receipt")))
        except Exception as error:  # pragma: no cover - shown in the assertion below
            answers.append((repr(error), None))

    threads = [threading.Thread(target=send) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(code for code, _ in answers)
    assert codes == [200] * 49 + [201], codes
    assert len({receipt for _, receipt in answers}) == 1
    db.session.expire_all()
    assert row_count() == 1


def test_submit_report_service_outcomes(app, areas):
    data = ReportSchema().load(new_report())
    outcome, report_id, receipt = service.submit_report(data)
    assert outcome == service.CREATED and receipt == service.receipt_for(report_id)
    assert report_id == data["id"]
    assert service.submit_report(data) == (service.DUPLICATE, report_id, receipt)
    other = ReportSchema().load(dict(new_report(id=str(data["id"])), description="Other"))
    outcome, existing_id, receipt = service.submit_report(other)
    assert outcome == service.CONFLICT and receipt is None and existing_id == report_id
    db.session.expire_all()
    assert [r.description for r in stored_reports()] == [data["description"]]


# --- invalid input: a 4xx with field-level errors, nothing stored --------------------

def _set(path, value):
    def change(report):
        target = report
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value
        return report
    return change


def _drop(key):
    def change(report):
        del report[key]
        return report
    return change


INVALID = {
    "unknown top-level field": (_set(["colour"], "red"), ["colour"]),
    "unknown offender field": (_set(["offender", "shoe_size"], "11"), ["offender", "shoe_size"]),
    "unknown vehicle field": (_set(["offender", "vehicle", "wheels"], "4"),
                              ["offender", "vehicle", "wheels"]),
    "unknown consent field": (_set(["consent", "maybe"], True), ["consent", "maybe"]),
    "unknown contact field": (_set(["support", "contact", "address"], "1 High St"),
                              ["support", "contact", "address"]),
    "over-long description": (_set(["description"], "x" * 5001), ["description"]),
    "blank description": (_set(["description"], "   "), ["description"]),
    "missing description": (_drop("description"), ["description"]),
    "malformed id": (_set(["id"], "not-a-uuid"), ["id"]),
    "missing id": (_drop("id"), ["id"]),
    "bad date": (_set(["occurred_on"], "2024-02-30"), ["occurred_on"]),
    "future date": (_set(["occurred_on"], (date.today() + timedelta(days=3)).isoformat()),
                    ["occurred_on"]),
    "date before 2000": (_set(["occurred_on"], "1999-12-31"), ["occurred_on"]),
    "unknown area": (_set(["area"], "atlantis"), ["area"]),
    "empty incident list": (_set(["incident_types"], []), ["incident_types"]),
    "unknown incident type": (_set(["incident_types"], ["jaywalking"]), ["incident_types"]),
    "repeated incident type": (_set(["incident_types"], ["theft", "theft"]), ["incident_types"]),
    "unknown part of day": (_set(["part_of_day"], "teatime"), ["part_of_day"]),
    "over-long offender field": (_set(["offender", "hair"], "h" * 81), ["offender", "hair"]),
    "too many phones": (_set(["offender", "phones"], ["07700 900000"] * 11),
                        ["offender", "phones"]),
    "over-long phone": (_set(["offender", "phones"], ["1" * 41]), ["offender", "phones"]),
    "bad offender email": (_set(["offender", "emails"], ["not an email"]),
                           ["offender", "emails"]),
    "bad contact email": (_set(["support", "contact", "email"], "nope"),
                          ["support", "contact", "email"]),
    "over-long plate": (_set(["offender", "vehicle", "plate"], "P" * 41),
                        ["offender", "vehicle", "plate"]),
    "unknown contact method": (_set(["offender", "contact_method"], "pigeon"),
                               ["offender", "contact_method"]),
    "unknown police consent": (_set(["consent", "police"], "all"), ["consent", "police"]),
    "publish not a boolean": (_set(["consent", "publish"], "yes"), ["consent", "publish"]),
    "unknown perpetrator": (_set(["perpetrator"], "neighbour"), ["perpetrator"]),
    "unknown hate-crime reason": (_set(["targeted_because"], ["shoes"]), ["targeted_because"]),
    "repeated hate-crime reason": (_set(["targeted_because"], ["sex_work", "sex_work"]),
                                   ["targeted_because"]),
    "hate-crime reasons not a list": (_set(["targeted_because"], "sex_work"),
                                      ["targeted_because"]),
    "NUL in text": (_set(["description"], "before\x00after"), ["description"]),
    "offender not an object": (_set(["offender"], "tall man"), ["offender"]),
}


@pytest.mark.parametrize("change, error_path", INVALID.values(), ids=INVALID.keys())
def test_invalid_report_is_refused_with_field_errors(client, areas, change, error_path):
    response = client.post(URL, json=change(new_report()))
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    for key in error_path:
        errors = errors[key]
    assert errors  # a message at the field itself
    assert row_count() == 0


def test_malformed_json_is_400(client, areas):
    response = client.post(URL, data='{"id": ', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["errors"]
    assert row_count() == 0


def test_not_an_object_is_422(client, areas):
    assert client.post(URL, json=[new_report()]).status_code == 422
    assert row_count() == 0


def test_body_over_the_limit_is_413(app, client, areas):
    report = new_report(description="x" * app.config["MAX_CONTENT_LENGTH"])
    response = client.post(URL, json=report)
    assert response.status_code == 413
    assert response.is_json
    assert row_count() == 0


# --- status with the receipt ---------------------------------------------------------

def test_status_with_the_right_receipt(client, areas):
    report = new_report()
    receipt = client.post(URL, json=report).get_json()["receipt"]
    response = client.get(f"{URL}/{report['id']}/status", headers={"X-Receipt": receipt})
    assert response.status_code == 200
    assert response.get_json() == {"id": report["id"], "status": "received",
                                   "has_case": False, "new_messages": 0}
    row = stored_reports()[0]
    row.status = "published"
    db.session.commit()
    response = client.get(f"{URL}/{report['id']}/status", headers={"X-Receipt": receipt})
    assert response.get_json()["status"] == "published"


def test_wrong_receipt_answers_as_an_unknown_id(client, areas):
    report = new_report()
    receipt = client.post(URL, json=report).get_json()["receipt"]
    other = new_report()
    other_receipt = client.post(URL, json=other).get_json()["receipt"]
    asks = {
        "wrong receipt": (report["id"], {"X-Receipt": "A" * len(receipt)}),
        "another report's receipt": (report["id"], {"X-Receipt": other_receipt}),
        "no receipt": (report["id"], {}),
        "unknown id": (str(uuid.uuid4()), {"X-Receipt": receipt}),
        "malformed id": ("not-a-uuid", {"X-Receipt": receipt}),
    }
    answers = {}
    for name, (report_id, headers) in asks.items():
        response = client.get(f"{URL}/{report_id}/status", headers=headers)
        answers[name] = (response.status_code, response.get_data())
    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values()))[0] == 404


# --- contact details encrypted at rest -----------------------------------------------

def test_contact_details_are_ciphertext_in_the_database(client, areas):
    report = full_report()
    assert client.post(URL, json=report).status_code == 201
    raw = db.session.execute(sa.text("SELECT * FROM report")).one()
    dump = repr(tuple(raw)).encode() + b"".join(
        bytes(v) for v in raw if isinstance(v, (bytes, memoryview)))
    for secret in CONTACT.values():
        assert secret.encode() not in dump, secret
    assert decrypt_contact(raw._mapping["contact_encrypted"]) == CONTACT


def test_contact_key_setting_is_used_and_rotatable(app):
    from cryptography.fernet import Fernet, InvalidToken
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = encrypt_contact(CONTACT, {"CONTACT_KEY": old})
    with pytest.raises(InvalidToken):
        decrypt_contact(token, {"CONTACT_KEY": new})
    with pytest.raises(InvalidToken):  # not the SECRET_KEY-derived key either
        decrypt_contact(token)
    assert decrypt_contact(token, {"CONTACT_KEY": f"{new},{old}"}) == CONTACT
    assert check_contact_key(f"{new},{old}") == []
    assert check_contact_key("too-short")


def test_production_refuses_a_malformed_contact_key(monkeypatch):
    from server.config import ProductionConfig
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CONTACT_KEY", "not-a-fernet-key")
    with pytest.raises(RuntimeError, match="CONTACT_KEY"):
        ProductionConfig().check()
    monkeypatch.delenv("CONTACT_KEY")
    ProductionConfig().check()  # derived from a strong SECRET_KEY


# --- who sends -----------------------------------------------------------------------

def test_member_token_attaches_the_member(client, areas):
    member, headers = make_member()
    assert client.post(URL, json=new_report(), headers=headers).status_code == 201
    assert stored_reports()[0].member_id == member.id


@pytest.mark.parametrize("headers", [None, {"Authorization": "Bearer never-issued"}],
                         ids=["revoked", "unknown"])
def test_revoked_or_unknown_token_is_401(client, areas, headers):
    if headers is None:
        _, headers = make_member(revoked=True)
    response = client.post(URL, json=new_report(), headers=headers)
    assert response.status_code == 401
    assert response.get_json()["message"]
    assert row_count() == 0


@pytest.mark.parametrize("app_config", [{"ANONYMOUS_REPORTS": False}])
def test_members_only_deployment_refuses_anonymous_reports(client, areas):
    response = client.post(URL, json=new_report())
    assert response.status_code == 401
    assert client.post(URL, json={"bad": 1}).status_code == 401  # before validation
    assert row_count() == 0
    _, headers = make_member()
    assert client.post(URL, json=new_report(), headers=headers).status_code == 201


# --- anonymous rate limit (in memory, per address) -----------------------------------

def test_default_limits_let_a_busy_drop_in_through(client, areas):
    """60 requests and 300 reports within the hour from one address, all accepted."""
    batches = [{"reports": [new_report() for _ in range(100)]} for _ in range(3)]
    codes = [client.post("/api/v1/sync", json=batch).status_code for batch in batches]
    codes += [client.post(URL, json=new_report()).status_code for _ in range(57)]
    assert codes == [200] * 3 + [201] * 57
    assert row_count() == 357


@pytest.mark.parametrize("app_config", [{"ANON_REPORT_RATE_LIMIT": "3 per minute"}])
def test_anonymous_requests_are_rate_limited_per_address(client, areas):
    here = {"REMOTE_ADDR": "198.51.100.7"}
    for _ in range(3):
        assert client.post(URL, json=new_report(), environ_base=here).status_code == 201
    response = client.post(URL, json=new_report(), environ_base=here)
    assert response.status_code == 429
    assert response.is_json and response.get_json()["message"]
    assert response.headers["Retry-After"]
    # Another address, and members, are not held back.
    there = {"REMOTE_ADDR": "198.51.100.8"}
    assert client.post(URL, json=new_report(), environ_base=there).status_code == 201
    _, headers = make_member()
    for _ in range(4):
        response = client.post(URL, json=new_report(), headers=headers, environ_base=here)
        assert response.status_code == 201
    assert row_count() == 8


@pytest.mark.parametrize("app_config", [{"ANON_REPORT_RATE_LIMIT": "3 per minute"}])
def test_requests_refused_before_the_limit_do_not_reset_it(client, areas):
    """A refused token (401) between anonymous reports is not counted and leaves the count
    as it was: the limiter must not switch to a second, empty store when its exemption
    check refuses."""
    here = {"REMOTE_ADDR": "198.51.100.9"}
    bad = {"Authorization": "Bearer not-a-token"}
    codes = []
    for _ in range(6):
        codes.append(client.post(URL, json=new_report(), environ_base=here).status_code)
        assert client.post(URL, json=new_report(), headers=bad,
                           environ_base=here).status_code == 401
        assert client.post("/api/v1/sync", json={"reports": [new_report()]}, headers=bad,
                           environ_base=here).status_code == 401
    assert codes == [201] * 3 + [429] * 3
    assert row_count() == 3


@pytest.mark.parametrize("app_config", [{"ANON_REPORT_COUNT_LIMIT": "5 per hour"}])
def test_the_hourly_limit_counts_reports_not_requests(client, areas):
    batch = {"reports": [new_report() for _ in range(3)]}
    assert client.post("/api/v1/sync", json=batch).status_code == 200
    assert client.post(URL, json=new_report()).status_code == 201
    # Four reports used, one left: a third request with two reports is too many.
    batch = {"reports": [new_report() for _ in range(2)]}
    response = client.post("/api/v1/sync", json=batch)
    assert response.status_code == 429
    assert response.get_json()["message"]
    assert row_count() == 4


# --- documented ----------------------------------------------------------------------

def test_openapi_documents_the_report_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/reports", "/api/v1/sync", "/api/v1/reports/{report_id}/status"} <= set(
        spec["paths"])
    report = spec["components"]["schemas"]["Report"]
    assert {"id", "occurred_on", "area", "incident_types", "description"} <= set(
        report["required"])
    sync_body = spec["paths"]["/api/v1/sync"]["post"]["requestBody"]["content"]
    assert sync_body["application/json"]["schema"]["$ref"].endswith("/SyncRequest")
    items = spec["components"]["schemas"]["SyncRequest"]["properties"]["reports"]["items"]
    assert items["allOf"] == [{"$ref": "#/components/schemas/Report"}]


def test_drop_in_report_records_the_outreach_worker(app, client, areas):
    """A report filed on someone's behalf with a staff session names who filed it; the
    same report without a session, or a report not on behalf, names nobody."""
    from server.accounts import service as accounts
    app.config["PASSWORD_HASH_FAST"] = True
    worker = accounts.create_staff("outreach1", "a long staff passphrase", "outreach")
    anonymous = new_report(on_behalf=True)
    assert client.post("/api/v1/sync", json={"reports": [anonymous]}).status_code == 200
    login = client.post("/api/v1/staff/login",
                        json={"username": "outreach1", "password": "a long staff passphrase"})
    assert login.status_code == 200
    on_behalf, own = new_report(on_behalf=True), new_report()
    results = client.post("/api/v1/sync", json={"reports": [on_behalf, own]}).get_json()["results"]
    assert [r["result"] for r in results] == ["created", "created"]
    filed_by = {str(r.id): r.staff_id for r in stored_reports()}
    assert filed_by == {anonymous["id"]: None, on_behalf["id"]: worker.id, own["id"]: None}
