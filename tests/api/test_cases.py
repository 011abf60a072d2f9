"""Cases: a report that asks for support lands in the Support queue; caseworkers assign,
note and write; the reporter reads and replies with the receipt alone; police requests go
through the case. Notes, messages and requests are encrypted at rest and never audited
as text."""
import uuid

import pytest
import sqlalchemy as sa

from server.accounts.models import AuditEvent
from server.cases import service
from server.cases.models import Case, CaseMessage, CaseNote, PoliceRequest
from server.extensions import db
from server.police.service import reference
from server.reports.models import Report

from factories import CONTACT, StaffClient, asks_support, case_of, new_report, read_messages

REPORTS = "/api/v1/reports"


@pytest.fixture
def caseworker(outreach):
    return outreach


def send(client, **changes):
    report = new_report(**changes)
    response = client.post(REPORTS, json=report)
    assert response.status_code == 201, response.get_json()
    return report["id"], response.get_json()["receipt"]


def status(client, report_id, receipt):
    return client.get(f"{REPORTS}/{report_id}/status", headers={"X-Receipt": receipt})


read = read_messages


def reply(client, report_id, receipt, body):
    return client.post(f"{REPORTS}/{report_id}/messages", json={"body": body},
                       headers={"X-Receipt": receipt})


def audit_text():
    return repr([(e.action, e.target_type, e.target_id) for e in db.session.execute(
        sa.select(AuditEvent)).scalars()])


# --- A report becomes a case ----------------------------------------------------------------

def test_a_report_asking_for_support_becomes_a_new_case(client, areas, caseworker):
    report_id, _ = asks_support(client)
    plain_id, _ = send(client)
    assert case_of(plain_id) is None
    case = case_of(report_id)
    assert case.status == "new" and case.come_back is False and case.assigned_to_id is None
    # Sent again (a lost answer): still one report, one case.
    report = db.session.get(Report, uuid.UUID(report_id))
    assert report is not None
    body = caseworker.get("/cases").get_json()
    assert body["total"] == 1
    (row,) = body["cases"]
    assert row["report_id"] == report_id and row["status"] == "new" and row["has_contact"]
    assert row["area"]["slug"] == "hackney" and row["reporter_wrote"] is False


def test_a_resend_or_a_sync_opens_exactly_one_case(client, areas):
    report = new_report(support={"requested": True})
    assert client.post(REPORTS, json=report).status_code == 201
    assert client.post(REPORTS, json=report).status_code == 200
    synced = new_report(support={"requested": True})
    for _ in range(2):
        results = client.post("/api/v1/sync", json={"reports": [synced, report]}).get_json()
    assert [r["result"] for r in results["results"]] == ["duplicate", "duplicate"]
    assert db.session.execute(sa.select(sa.func.count(Case.id))).scalar_one() == 2
    assert case_of(synced["id"]) is not None


def test_drop_in_will_come_back_opens_a_case_without_contact_details(client, areas, caseworker):
    report_id, _ = send(client, on_behalf=True, support={"come_back": True})
    case = case_of(report_id)
    assert case.come_back is True
    (row,) = caseworker.get("/cases").get_json()["cases"]
    assert row["come_back"] is True and row["has_contact"] is False and row["on_behalf"] is True
    # Left out and false are the same report: a resend in the other shape is a duplicate.
    report = new_report(support={"requested": True})
    client.post(REPORTS, json=report)
    report["support"]["come_back"] = False
    assert client.post(REPORTS, json=report).status_code == 200


def test_come_back_must_be_a_boolean(client, areas):
    response = client.post(REPORTS, json=new_report(support={"come_back": "yes"}))
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["support"]["come_back"]


# --- The caseworker -------------------------------------------------------------------------

def test_assign_note_and_status_are_audited_without_text(client, areas, caseworker):
    report_id, _ = asks_support(client)
    case_id = case_of(report_id).id
    assert caseworker.post(f"/cases/{case_id}/assign").get_json()["assigned_to"] == "van"
    secret = "Spoke at the van; prefers texts after 6pm"
    assert caseworker.post(f"/cases/{case_id}/notes", json={"body": secret}).status_code == 201
    assert caseworker.patch(f"/cases/{case_id}", json={"status": "contacted"}).status_code == 200
    detail = caseworker.get(f"/cases/{case_id}").get_json()
    assert [n["body"] for n in detail["notes"]] == [secret]
    assert detail["notes"][0]["staff"] == "van"
    assert detail["status"] == "contacted" and detail["assigned_to"] == "van"
    # Encrypted at rest; never in the audit trail.
    raw = db.session.execute(sa.select(CaseNote.body_encrypted)).scalar_one()
    assert secret not in raw
    assert secret not in audit_text()
    actions = [e.action for e in db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.target_type == "case")).scalars()]
    assert actions == ["case_assigned", "case_note_added", "case_contacted", "case_viewed",
                       "case_contact_viewed"]


def test_contact_details_for_the_assigned_caseworker_and_moderators(app, client, areas,
                                                                   caseworker, moderator):
    report_id, _ = asks_support(client)
    case_id = case_of(report_id).id
    other = StaffClient(app, "other", "outreach")
    assert other.get(f"/cases/{case_id}").get_json()["contact"] is None
    assert moderator.get(f"/cases/{case_id}").get_json()["contact"] == CONTACT
    caseworker.post(f"/cases/{case_id}/assign")
    assert caseworker.get(f"/cases/{case_id}").get_json()["contact"] == CONTACT
    assert other.get(f"/cases/{case_id}").get_json()["contact"] is None


def test_queue_filters_and_order(client, areas, caseworker, moderator):
    ids = [case_of(asks_support(client)[0]).id for _ in range(3)]
    caseworker.patch(f"/cases/{ids[0]}", json={"status": "closed"})
    caseworker.post(f"/cases/{ids[2]}/assign")
    moderator.post(f"/cases/{ids[1]}/assign")
    assert [c["id"] for c in caseworker.get("/cases").get_json()["cases"]] == [ids[1], ids[2],
                                                                             ids[0]]
    assert [c["id"] for c in caseworker.get("/cases?mine=true").get_json()["cases"]] == [ids[2]]
    closed = caseworker.get("/cases?status=closed").get_json()
    assert [c["id"] for c in closed["cases"]] == [ids[0]] and closed["total"] == 1
    assert case_of(str(db.session.get(Case, ids[0]).report_id)).closed_at is not None
    caseworker.patch(f"/cases/{ids[0]}", json={"status": "contacted"})
    assert db.session.get(Case, ids[0]).closed_at is None


@pytest.mark.parametrize("path, body", [
    ("/cases/{id}/notes", {"body": "   "}),
    ("/cases/{id}/notes", {"body": "a\x00b"}),
    ("/cases/{id}/notes", {"body": "x" * 5001}),
    ("/cases/{id}/notes", {"body": "ok", "extra": 1}),
    ("/cases/{id}/messages", {"body": ""}),
    ("/cases/{id}/messages", {"body": "x" * 2001}),
    ("/cases/{id}/messages", {}),
])
def test_bad_input_is_422(client, areas, caseworker, path, body):
    case_id = case_of(asks_support(client)[0]).id
    response = caseworker.post(path.format(id=case_id), json=body)
    assert response.status_code == 422, response.get_json()
    assert caseworker.patch(f"/cases/{case_id}", json={"status": "done"}).status_code == 422


def test_unknown_case_and_no_session(client, areas, caseworker):
    assert caseworker.get("/cases/999").status_code == 404
    assert caseworker.get("/cases/999").get_json()["error"] == "case_not_found"
    assert caseworker.post("/cases/999/notes", json={"body": "x"}).status_code == 404
    assert client.get("/api/v1/staff/cases").status_code == 401
    case_id = case_of(asks_support(client)[0]).id
    assert caseworker.post(f"/cases/{case_id}/assign", csrf=False).status_code == 403


# --- Two-way messages through the receipt ------------------------------------------------------

def test_the_reporter_reads_and_replies_with_the_receipt_alone(client, areas, caseworker):
    report_id, receipt = asks_support(client)
    case_id = case_of(report_id).id
    assert status(client, report_id, receipt).get_json()["new_messages"] == 0
    words = "Hello, this is Sam from the project. Are you safe now?"
    assert caseworker.post(f"/cases/{case_id}/messages", json={"body": words}).status_code == 201
    assert db.session.get(Case, case_id).status == "contacted"  # writing is contacting
    assert status(client, report_id, receipt).get_json()["new_messages"] == 1

    conversation = read(client, report_id, receipt).get_json()
    assert conversation["case"] == "contacted" and conversation["can_reply"] is True
    (message,) = conversation["messages"]
    assert message["sender"] == "project" and message["body"] == words
    assert set(message) == {"id", "sender", "at", "body"}  # not who wrote it
    assert status(client, report_id, receipt).get_json()["new_messages"] == 0

    answer = "Yes, thank you. Can we meet on Tuesday?"
    response = reply(client, report_id, receipt, answer)
    assert response.status_code == 201
    assert [m["sender"] for m in response.get_json()["messages"]] == ["project", "reporter"]
    (row,) = caseworker.get("/cases").get_json()["cases"]
    assert row["reporter_wrote"] is True
    detail = caseworker.get(f"/cases/{case_id}").get_json()
    assert [(m["sender"], m["body"]) for m in detail["messages"]] == [
        ("project", words), ("reporter", answer)]
    assert detail["messages"][0]["staff"] == "van"
    assert caseworker.get("/cases").get_json()["cases"][0]["reporter_wrote"] is False
    for raw in db.session.execute(sa.select(CaseMessage.body_encrypted)).scalars():
        assert words not in raw and answer not in raw
    assert words not in audit_text() and answer not in audit_text()


def test_a_wrong_receipt_is_the_same_404_as_an_unknown_report(client, areas):
    report_id, receipt = asks_support(client)
    for rid, rc in ((report_id, "WRONG"), (str(uuid.uuid4()), receipt), ("not-a-uuid", receipt),
                    (report_id, "")):
        for response in (read(client, rid, rc), reply(client, rid, rc, "hi")):
            assert response.status_code == 404
            assert response.get_json()["error"] == "receipt_not_found"
    assert db.session.execute(sa.select(sa.func.count(CaseMessage.id))).scalar_one() == 0


def test_no_case_or_a_closed_case_cannot_be_replied_to(client, areas, caseworker):
    plain_id, plain_receipt = send(client)
    assert read(client, plain_id, plain_receipt).get_json() == {
        "case": None, "can_reply": False, "messages": []}
    response = reply(client, plain_id, plain_receipt, "hello?")
    assert response.status_code == 409 and response.get_json()["error"] == "case_not_open"
    report_id, receipt = asks_support(client)
    case_id = case_of(report_id).id
    caseworker.patch(f"/cases/{case_id}", json={"status": "closed"})
    assert read(client, report_id, receipt).get_json()["can_reply"] is False
    response = reply(client, report_id, receipt, "hello?")
    assert response.status_code == 409 and response.get_json()["error"] == "case_closed"
    response = caseworker.post(f"/cases/{case_id}/messages", json={"body": "x"})
    assert response.status_code == 409 and response.get_json()["error"] == "case_closed"


@pytest.mark.parametrize("body", [{"body": " "}, {"body": "x" * 2001}, {"text": "hi"}, []])
def test_bad_replies_are_422(client, areas, body):
    report_id, receipt = asks_support(client)
    response = client.post(f"{REPORTS}/{report_id}/messages", json=body,
                           headers={"X-Receipt": receipt})
    assert response.status_code == 422


def test_replies_are_rate_limited(app, client, areas):
    app.config["REPLY_RATE_LIMIT"] = "3 per hour"
    report_id, receipt = asks_support(client)
    case_of(report_id)
    codes = [reply(client, report_id, receipt, f"message {n}").status_code for n in range(5)]
    assert codes == [201, 201, 201, 429, 429]


def test_messages_and_notes_go_with_the_case_and_the_report(client, areas, caseworker):
    report_id, receipt = asks_support(client)
    case_id = case_of(report_id).id
    caseworker.post(f"/cases/{case_id}/notes", json={"body": "note"})
    caseworker.post(f"/cases/{case_id}/messages", json={"body": "message"})
    reply(client, report_id, receipt, "reply")
    db.session.execute(sa.delete(Report).where(Report.id == uuid.UUID(report_id)))
    db.session.commit()
    for model in (Case, CaseNote, CaseMessage):
        assert db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one() == 0


# --- Police requests go through the case ------------------------------------------------------

def test_a_police_request_is_recorded_and_the_reporter_asked_through_the_case(
        client, areas, caseworker, moderator):
    report_id, receipt = send(client, consent={"publish": True, "police": "contact_via_project"})
    assert case_of(report_id) is None
    ref = reference(uuid.UUID(report_id))
    request_text = "DC Smith, op ref 77/2026: would the reporter give a statement?"
    question = "The police asked if you would talk to them. It is your choice."
    body = {"reference": ref.lower(), "request": request_text, "message": question}
    assert caseworker.post("/police-requests", json=body).status_code == 403
    response = moderator.post("/police-requests", json=body)
    assert response.status_code == 201, response.get_json()
    case = case_of(report_id)
    assert response.get_json()["id"] == case.id and case.status == "contacted"
    assert status(client, report_id, receipt).get_json()["new_messages"] == 1
    (message,) = read(client, report_id, receipt).get_json()["messages"]
    assert message["body"] == question
    assert request_text not in read(client, report_id, receipt).get_data(as_text=True)
    detail = moderator.get(f"/cases/{case.id}").get_json()
    assert [r["body"] for r in detail["police_requests"]] == [request_text]
    raw = db.session.execute(sa.select(PoliceRequest.body_encrypted)).scalar_one()
    assert request_text not in raw
    assert request_text not in audit_text()
    assert db.session.execute(sa.select(AuditEvent).filter_by(
        action="police_request", target_id=str(case.id))).scalar_one()


def test_a_police_request_needs_a_shareable_reference(client, areas, moderator):
    report_id, _ = send(client, consent={"publish": True, "police": "none"})
    for ref in (reference(uuid.UUID(report_id)), "AAAAA-AAAAA"):
        response = moderator.post("/police-requests", json={
            "reference": ref, "request": "who?", "message": "hello"})
        assert response.status_code == 404
        assert response.get_json()["error"] == "reference_not_found"
    assert case_of(report_id) is None


def test_service_functions_directly(client, areas, app):
    from server.accounts import service as accounts
    staff = accounts.create_staff("direct", "a long staff passphrase", "outreach")
    report_id, _ = asks_support(client)
    case = case_of(report_id)
    service.send_message(staff, case, "hi")
    report = db.session.get(Report, uuid.UUID(report_id))
    assert service.unread_for_reporter(report) == 1
    assert service.reporter_messages(report)["messages"][0]["body"] == "hi"
    assert service.unread_for_reporter(report) == 0
    service.set_status(staff, case, "closed")
    with pytest.raises(service.Refused):
        service.reporter_reply(report, "late")
