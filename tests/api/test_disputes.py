"""Disputes: anyone may object to an alert without an account; filing says nothing about
whether an alert carries the identifier; moderators decide with a reason, audited; an
upheld dispute withdraws the identifier from checks and from its alerts; the objector
follows the outcome with a receipt; rate-limited; statement and contact encrypted."""
import uuid

import pytest
import sqlalchemy as sa

from server.accounts.models import AuditEvent
from server.alerts.models import Alert
from server.disputes import service
from server.disputes.models import Dispute
from server.extensions import db

from factories import StaffClient, make_draft, make_member, publish, send_report

DISPUTES = "/api/v1/disputes"
PHONE = "+44 7700 900123"  # in the demo alert body (masked)


@pytest.fixture
def live_alert(client, areas, moderator):
    report_id, _ = send_report(client)
    alert = make_draft(moderator, [report_id])
    publish(moderator, alert["id"])
    return alert["id"]


def file(client, identifier="07700 900123", kind="phone", **extra):
    body = {"identifier_kind": kind, "identifier": identifier,
            "statement": "This is my work phone; I have never met anyone from that site.",
            **extra}
    return client.post(DISPUTES, json=body)


def follow(client, dispute_id, receipt):
    return client.get(f"{DISPUTES}/{dispute_id}", headers={"X-Receipt": receipt})


def check(client, headers, value="07700 900123"):
    response = client.post("/api/v1/checks", json={"kind": "phone", "value": value},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_filing_answers_alike_whether_or_not_an_alert_carries_it(client, live_alert):
    carried = file(client, contact="dispute-me@example.org")
    unknown = file(client, identifier="07700 900999")
    assert carried.status_code == unknown.status_code == 201
    assert set(carried.get_json()) == set(unknown.get_json()) == {"id", "receipt"}
    dispute = db.session.get(Dispute, carried.get_json()["id"])
    assert dispute.identifier_kind == "phone" and dispute.status == "open"
    # Encrypted, and the receipt kept only as a hash.
    assert "never met" not in dispute.statement_encrypted
    assert "dispute-me" not in dispute.contact_encrypted
    assert carried.get_json()["receipt"] not in repr(
        db.session.execute(sa.text("SELECT * FROM dispute")).all())


def test_the_objector_follows_with_the_receipt_only(client, areas):
    body = file(client).get_json()
    response = follow(client, body["id"], body["receipt"])
    assert response.status_code == 200
    view = response.get_json()
    assert view["status"] == "open" and view["reason"] is None
    assert set(view) == {"id", "status", "filed_at", "decided_at", "reason"}
    for dispute_id, receipt in ((body["id"], "WRONG"), (body["id"] + 1, body["receipt"]),
                                (body["id"], "")):
        response = follow(client, dispute_id, receipt)
        assert response.status_code == 404
        assert response.get_json()["error"] == "dispute_not_found"


def test_upheld_withdraws_the_identifier_from_checks_and_alerts(client, live_alert, moderator):
    _, member = make_member()
    assert [a["id"] for a in check(client, member)["alerts"]] == [live_alert]
    body = file(client, identifier=PHONE, contact="call 07000 000000").get_json()

    # Moderators only.
    outreach = StaffClient(client.application, "van", "outreach")
    assert outreach.get("/disputes").status_code == 403
    (row,) = moderator.get("/disputes").get_json()["disputes"]
    assert row["status"] == "open" and row["identifier_kind"] == "phone"
    detail = moderator.get(f"/disputes/{body['id']}").get_json()
    assert detail["statement"].startswith("This is my work phone")
    assert detail["contact"] == "call 07000 000000"
    assert [a["id"] for a in detail["alerts"]] == [live_alert]

    reason = "The number was written down wrongly; we removed it."
    response = moderator.post(f"/disputes/{body['id']}/decide",
                              json={"outcome": "upheld", "reason": reason})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["withdrawn"] is True
    # Checks no longer match it, written any way; the alert no longer carries it.
    assert check(client, member)["alerts"] == [] and check(client, member, PHONE)["alerts"] == []
    alert = db.session.get(Alert, uuid.UUID(live_alert), populate_existing=True)
    assert [i["kind"] for i in alert.identifiers] == ["plate", "name"]
    assert alert.retracted_at is None
    feed = client.get("/api/v1/alerts", headers=member).get_json()
    assert "900123" not in repr(feed)
    # The objector reads the outcome and the reason, nothing else.
    view = follow(client, body["id"], body["receipt"]).get_json()
    assert view["status"] == "upheld" and view["reason"] == reason
    # Audited, without the statement.
    actions = [(e.action, e.target_id) for e in db.session.execute(
        sa.select(AuditEvent).order_by(AuditEvent.id)).scalars()]
    assert ("dispute_upheld", str(body["id"])) in actions
    assert ("alert_amended", live_alert) in actions
    assert ("dispute_viewed", str(body["id"])) in actions
    assert "work phone" not in repr(actions)
    # Decided once.
    again = moderator.post(f"/disputes/{body['id']}/decide",
                           json={"outcome": "not_upheld", "reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"] == "dispute_decided"
    # A new alert carrying it is not indexed under it either.
    report_id, _ = send_report(client)
    publish(moderator, make_draft(moderator, [report_id], title="Another")["id"])
    assert check(client, member)["alerts"] == []


def test_upheld_with_retract_takes_the_alert_back(client, live_alert, moderator):
    body = file(client, identifier=PHONE).get_json()
    response = moderator.post(f"/disputes/{body['id']}/decide", json={
        "outcome": "upheld", "reason": "Wrong person.", "retract": True})
    assert response.status_code == 200
    assert db.session.get(Alert, uuid.UUID(live_alert), populate_existing=True).retracted_at


def test_not_upheld_changes_nothing_but_the_dispute(client, live_alert, moderator):
    _, member = make_member()
    body = file(client, identifier=PHONE).get_json()
    reason = "Several independent reports name this number."
    assert moderator.post(f"/disputes/{body['id']}/decide", json={
        "outcome": "not_upheld", "reason": reason}).status_code == 200
    assert [a["id"] for a in check(client, member)["alerts"]] == [live_alert]
    view = follow(client, body["id"], body["receipt"]).get_json()
    assert view["status"] == "not_upheld" and view["reason"] == reason
    assert moderator.get("/disputes?status=open").get_json()["total"] == 0


@pytest.mark.parametrize("body", [
    {"identifier_kind": "name", "identifier": "Dave", "statement": "x"},
    {"identifier_kind": "phone", "identifier": "07700 900123", "statement": "   "},
    {"identifier_kind": "phone", "identifier": "07700 900123", "statement": "x", "ip": "1"},
    {"identifier_kind": "phone", "identifier": "not a phone", "statement": "x"},
    {"identifier_kind": "phone", "identifier": "07700 900123", "statement": "x" * 5001},
    {"identifier_kind": "phone", "statement": "x"},
])
def test_bad_disputes_are_422(client, areas, body):
    response = client.post(DISPUTES, json=body)
    assert response.status_code == 422, response.get_json()
    assert db.session.execute(sa.select(sa.func.count(Dispute.id))).scalar_one() == 0


def test_bad_decisions_are_422_and_unknown_404(client, areas, moderator):
    body = file(client).get_json()
    url = f"/disputes/{body['id']}/decide"
    assert moderator.post(url, json={"outcome": "maybe", "reason": "x"}).status_code == 422
    assert moderator.post(url, json={"outcome": "upheld"}).status_code == 422
    assert moderator.post("/disputes/999/decide", json={
        "outcome": "upheld", "reason": "x"}).status_code == 404
    assert moderator.post(url, json={"outcome": "upheld", "reason": "x"},
                          csrf=False).status_code == 403


def test_filing_is_rate_limited_per_address(app, client, areas):
    app.config["DISPUTE_RATE_LIMIT"] = "2 per hour"
    codes = [file(client).status_code for _ in range(4)]
    assert codes == [201, 201, 429, 429]
    assert db.session.execute(sa.select(sa.func.count(Dispute.id))).scalar_one() == 2


def test_service_directly(client, live_alert, app):
    from server.accounts import service as accounts
    staff = accounts.create_staff("direct", "a long staff passphrase", "moderator")
    dispute, receipt = service.file_dispute("phone", PHONE, "Not me.")
    assert service.dispute_for_receipt(dispute.id, receipt) is dispute
    assert service.dispute_for_receipt(dispute.id, "nope") is None
    assert service.still_indexed(dispute) == 1
    service.decide(staff, dispute, "upheld", "Removed.")
    assert service.still_indexed(dispute) == 0
    with pytest.raises(service.Refused):
        service.decide(staff, dispute, "upheld", "Again.")
