"""Moderation: the report queue, decisions on reports, writing, publishing and retracting
alerts; roles, CSRF and an audit row for every action."""
import base64
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from server.accounts.models import AuditEvent
from server.alerts.models import Alert
from server.clock import utcnow
from server.demo import DEMO_DIR
from server.extensions import db
from server.identifiers.models import Identifier
from server.moderation import publishing, reading
from server.moderation.schemas import queue_cursor
from server.push.models import Delivery, Subscription
from server.reports.models import Report

from factories import CONTACT, STAFF, draft_body, make_draft, make_member, publish, send_report


def receipt_status(client, report_id, receipt):
    response = client.get(f"/api/v1/reports/{report_id}/status", headers={"X-Receipt": receipt})
    assert response.status_code == 200
    return response.get_json()["status"]


def last_audit():
    event = db.session.execute(
        db.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    return event.staff_id, event.action, event.target_type, event.target_id


def subscribe(member, *slugs):
    from server.areas.models import Area
    areas = db.session.execute(db.select(Area).where(Area.slug.in_(slugs))).scalars().all()
    subscription = Subscription(member_id=member.id,
                                endpoint=f"https://push.example.net/{uuid.uuid4().hex}",
                                p256dh="B" + "A" * 86, auth="A" * 22, areas=areas)
    db.session.add(subscription)
    db.session.commit()
    return subscription


# --- The queue ---------------------------------------------------------------------------

def test_queue_is_newest_first_and_filters(client, areas, moderator, outreach):
    a, _ = send_report(client, area="hackney", incident_types=["robbery"])
    b, _ = send_report(client, area="camden", incident_types=["theft", "threats"])
    c, _ = send_report(client, area="hackney", incident_types=["threats"])
    d, _ = send_report(client, area="islington", incident_types=["drugging"])
    moderator.post(f"/reports/{d}/reject", json={"reason": "Duplicate of a phone call"})

    def ids(query="", staff=outreach):
        response = staff.get("/reports" + query)
        assert response.status_code == 200, response.get_json()
        return [r["id"] for r in response.get_json()["reports"]]

    assert ids() == [d, c, b, a]
    assert ids("?area=hackney") == [c, a]
    assert ids("?area=hackney&area=camden") == [c, b, a]
    assert ids("?incident_type=threats") == [c, b]
    assert ids("?incident_type=drugging&incident_type=robbery") == [d, a]
    assert ids("?status=not_published") == [d]
    assert ids("?status=received&area=hackney&incident_type=robbery") == [a]
    # Paged by key: `next` leads to the older page, `previous` back to the newer one.
    first = outreach.get("/reports?limit=2").get_json()
    assert [r["id"] for r in first["reports"]] == [d, c]
    assert first["previous"] is None and first["limit"] == 2 and "total" not in first
    second = outreach.get(f"/reports?limit=2&after={first['next']}").get_json()
    assert [r["id"] for r in second["reports"]] == [b, a] and second["next"] is None
    back = outreach.get(f"/reports?limit=2&before={second['previous']}").get_json()
    assert [r["id"] for r in back["reports"]] == [d, c] and back["previous"] is None
    assert back["next"] == first["next"]

    row = outreach.get("/reports?area=islington").get_json()["reports"][0]
    assert row["area"] == {"slug": "islington", "name": "Islington"}
    assert row["status"] == "not_published" and row["incident_types"] == ["drugging"]
    assert row["consent"] == {"publish": True, "police": "none"}
    # A queue row carries none of the report's text.
    assert "description" not in row and "offender" not in row


def test_staff_search_every_report_by_identifier(client, areas, outreach):
    a, _ = send_report(client, offender={"phones": ["07700 900123"]})
    b, _ = send_report(client, offender={"phones": ["+44 7700 900999"],
                                         "vehicle": {"plate": "AB12 CDE"}})
    c, _ = send_report(client, offender={"phones": ["0044 7700 900123"]})

    def ids(query):
        response = outreach.get("/reports" + query)
        assert response.status_code == 200, response.get_json()
        return [r["id"] for r in response.get_json()["reports"]]

    assert ids("?identifier_kind=phone&identifier=(07700)%20900-123") == [c, a]
    assert ids("?identifier_kind=plate&identifier=ab12cde") == [b]
    assert ids("?identifier_kind=plate&identifier=ab12cde&area=camden") == []
    assert ids("?identifier_kind=email&identifier=nobody@example.com") == []


@pytest.mark.parametrize("query", [
    "?area=atlantis", "?area=Not A Slug", "?incident_type=murder", "?status=deleted",
    "?limit=0", "?limit=201", "?offset=50", "?limit=ten", "?colour=red",
    "?identifier=07700900123", "?identifier_kind=phone", "?identifier_kind=shoe&identifier=x",
])
def test_queue_filters_are_validated(client, areas, outreach, query):
    response = outreach.get("/reports" + query)
    assert response.status_code == 422
    assert response.get_json()["errors"]["query"]


# Each filter, and the reports that match it (made by _queue_world).
QUEUE_FILTERS = {
    "none": "",
    "area": "&area=camden",
    "areas": "&area=camden&area=hackney",
    "incident type": "&incident_type=threats",
    "status": "&status=received",
    "statuses": "&status=received&status=not_published",
    "areas and statuses": "&area=camden&area=islington&status=received&status=not_published",
    # More (area, status) pairs than reading.FAN_OUT: read in the queue's order, filtered.
    "many areas": "".join(f"&area={row.split(',')[0]}" for row in
                          (DEMO_DIR / "london-areas.csv").read_text().splitlines()[1:]),
    "all three": "&area=camden&incident_type=threats&status=received",
    "identifier": "&identifier_kind=phone&identifier=07700%20900321",
}


def _queue_world(client, moderator, n):
    """n reports in turns of area, incident types, phone and status; four of them share
    one received_at (the id breaks the tie). Returns their ids."""
    made = []
    for i in range(n):
        report_id, _ = send_report(
            client, area=("camden", "hackney", "islington")[i % 3],
            incident_types=(["threats"], ["robbery", "threats"], ["theft"])[i % 3 - (i % 2)],
            offender={"phones": ["07700 900321" if i % 4 else "07700 900654"]})
        made.append(report_id)
        if i % 5 == 4:
            moderator.post(f"/reports/{report_id}/reject", json={"reason": "Test"})
    same = utcnow() - timedelta(minutes=5)
    for report_id in made[3:7]:
        db.session.get(Report, uuid.UUID(report_id)).received_at = same
    db.session.commit()
    return made


def _walk(staff, query, way, start=None, arrive=lambda: None):
    """Every page of the queue from `start`, following `next` (way="after") or
    `previous` (way="before"), two reports a page; arrive() runs between pages. Returns
    the ids read, newest first."""
    seen, cursor = [], start
    for _ in range(50):
        position = f"&{way}={cursor}" if cursor else ""
        response = staff.get(f"/reports?limit=2{query}{position}")
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        ids = [r["id"] for r in page["reports"]]
        assert 1 <= len(ids) <= 2
        seen = seen + ids if way == "after" else ids + seen
        cursor = page["next" if way == "after" else "previous"]
        if cursor is None:
            return seen
        arrive()
    raise AssertionError("the walk does not end")


def _cursor_of(report_id):
    return queue_cursor().encode(reading.queue_key(db.session.get(Report, uuid.UUID(report_id))))


# The SQL each engine runs differently is walked on both: the plain queue (the row-value
# range, ties broken by id), the incident-type filter (jsonb @> on PostgreSQL, LIKE on the
# JSON text on SQLite), several (area, status) ranges merged, the filtered queue order past
# FAN_OUT, the identifier search. The other filters are the same index ranges, fewer of
# them (one area or status is a single range; "areas", "statuses" and "all three" are what
# "areas and statuses" and "incident type" already run): they are walked on one engine.
ONE_ENGINE_WALKS = {"area", "areas", "status", "statuses", "all three"}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.engine_independent) if name in ONE_ENGINE_WALKS else name
    for name in QUEUE_FILTERS])
def test_queue_cursor_walks_every_report_once_while_reports_arrive(client, areas, moderator,
                                                                    outreach, name):
    query = QUEUE_FILTERS[name]

    def everything():
        page = outreach.get(f"/reports?limit=200{query}").get_json()
        assert page["next"] is None
        return [r["id"] for r in page["reports"]]

    _queue_world(client, moderator, 16)
    expected = everything()
    assert len(expected) >= 3 and len(set(expected)) == len(expected)
    reports = [db.session.get(Report, uuid.UUID(i)) for i in expected]
    assert reports == sorted(reports, key=lambda r: (r.received_at, r.id), reverse=True)

    # Reports (some matching the filter) arrive between pages: they are newer than the
    # pages being read, so the walk neither repeats nor misses a row.
    arrived = []

    def arrive(most=10):
        if len(arrived) < most:
            arrived.extend(_queue_world(client, moderator, 2))
    assert _walk(outreach, query, "after", arrive=arrive) == expected
    assert arrived

    # Back from the oldest towards the newest while more arrive: the walk reads every
    # report newer than the oldest, up to the newest there is when it ends.
    oldest = everything()[-1]
    back = _walk(outreach, query, "before", start=_cursor_of(oldest),
                 arrive=lambda: arrive(most=14))
    assert back == everything()[:-1]


def _b64(text):
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode().rstrip("=")


A_ID = "3f0f8a7e-6c1b-4d5e-9a2f-1b2c3d4e5f60"
BAD_CURSORS = {
    "not base64": "not a cursor!",
    "empty": "",
    "base64, not JSON": _b64("hello"),
    "a JSON object": _b64('{"at": "2026-01-01T00:00:00Z"}'),
    "one part": _b64('["2026-01-01T00:00:00+00:00"]'),
    "three parts": _b64(f'["2026-01-01T00:00:00+00:00", "{A_ID}", 1]'),
    "parts swapped": _b64(f'["{A_ID}", "2026-01-01T00:00:00+00:00"]'),
    "numbers": _b64("[1e308, 99999999999999999999999999999999]"),
    "nulls": _b64("[null, null]"),
    "year 10000": _b64(f'["9999-12-31T23:59:59-14:00", "{A_ID}"]'),
    "NUL": "%00",
    "NUL inside": _b64(f'["2026-01-01T00:00:00\\u0000", "{A_ID}"]'),
    "surrogate inside": _b64(f'["\\ud800", "{A_ID}"]'),
    "surrogate bytes": "%ED%A0%80",
    "not ASCII": "%C3%A9t%C3%A9",
    "deeply nested": _b64("[" * 150 + "]" * 150),
    "huge": "A" * 100_000,
    "huge number": _b64("[" + "9" * 150 + ", 1]"),
}


# Refused by the cursor's schema field before any query is made: on one engine.
@pytest.mark.engine_independent
@pytest.mark.parametrize("way", ["after", "before"])
@pytest.mark.parametrize("name", list(BAD_CURSORS))
def test_a_bad_cursor_is_a_422_with_a_field_message(client, areas, outreach, name, way):
    send_report(client)
    response = outreach.get(f"/reports?{way}={BAD_CURSORS[name]}&status=received")
    assert response.status_code == 422, (name, response.status_code)
    messages = response.get_json()["errors"]["query"][way]
    assert messages and all(isinstance(m, str) for m in messages)


def test_a_cursor_goes_one_way(client, areas, outreach):
    send_report(client)
    send_report(client)
    cursor = outreach.get("/reports?limit=1").get_json()["next"]
    response = outreach.get(f"/reports?after={cursor}&before={cursor}")
    assert response.status_code == 422
    assert response.get_json()["errors"]["query"]["before"]


def test_queue_and_staff_alerts_are_for_staff_only(client, areas):
    report_id, _ = send_report(client)
    for path in ("/reports", f"/reports/{report_id}", "/alerts"):
        assert client.get(STAFF + path).status_code == 401
    _, member_headers = make_member()
    assert client.get(f"{STAFF}/reports", headers=member_headers).status_code == 401


# --- A report in full ----------------------------------------------------------------------

def test_moderator_sees_everything_and_the_contact_details(client, areas, moderator):
    report_id, receipt = send_report(
        client, consent={"publish": True, "police": "anonymous_intelligence"},
        support={"requested": True, "contact": CONTACT}, on_behalf=True,
        offender={"phones": ["07700 900123"], "names": ["Dave"]})
    other_id, _ = send_report(client, area="camden")
    moderator.post(f"/reports/{other_id}/link", json={"to": report_id})
    alert = make_draft(moderator, [report_id])

    response = moderator.get(f"/reports/{report_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == report_id
    assert body["description"] == "Punched me and took the money back."
    assert body["offender"] == {"phones": ["07700 900123"], "names": ["Dave"]}
    assert body["consent"] == {"publish": True, "police": "anonymous_intelligence"}
    assert body["support"] == {"requested": True, "has_contact": True, "contact": CONTACT}
    assert body["on_behalf"] is True and body["from_member"] is False
    assert [r["id"] for r in body["linked_reports"]] == [other_id]
    assert body["alerts"] == [{"id": alert["id"], "title": alert["title"], "status": "draft",
                               "published_at": None}]
    # The contact details are stored encrypted, and reading them is audited.
    assert CONTACT["phone"].encode() not in db.session.get(Report, uuid.UUID(report_id)).contact_encrypted
    actions = [(e.action, e.target_id) for e in db.session.execute(
        db.select(AuditEvent).where(AuditEvent.target_type == "report")).scalars()]
    assert ("report_viewed", report_id) in actions
    assert ("report_contact_viewed", report_id) in actions


def test_outreach_sees_the_report_but_not_the_contact(client, areas, outreach):
    report_id, receipt = send_report(client, support={"requested": True, "contact": CONTACT})
    body = outreach.get(f"/reports/{report_id}").get_json()
    assert body["support"] == {"requested": True, "has_contact": True, "contact": None}
    assert CONTACT["email"] not in outreach.get(f"/reports/{report_id}").get_data(as_text=True)
    # An outreach worker reading it does not start the review.
    assert receipt_status(client, report_id, receipt) == "received"
    assert last_audit() == (outreach.staff.id, "report_viewed", "report", report_id)


def test_report_detail_shows_the_other_reports_that_share_an_identifier(client, areas, moderator):
    first, _ = send_report(client, offender={"phones": ["07700 900123"],
                                             "vehicle": {"plate": "AB12 CDE"}})
    second, _ = send_report(client, offender={"phones": ["+44 7700 900123"], "names": ["Dave"]})
    third, _ = send_report(client, offender={"phones": ["(07700) 900-123"],
                                             "vehicle": {"plate": "ab12cde"}})
    send_report(client, offender={"phones": ["07700 900999"]})

    body = moderator.get(f"/reports/{third}").get_json()
    by_kind = {item["kind"]: item for item in body["identifiers"]}
    assert by_kind["phone"]["value"] == "(07700) 900-123"
    assert by_kind["phone"]["masked"] != by_kind["phone"]["value"]
    assert by_kind["phone"]["other_reports"] == [second, first]  # newest first
    assert by_kind["plate"]["other_reports"] == [first]
    assert body["times_reported"] == 3

    body = moderator.get(f"/reports/{second}").get_json()
    assert {(i["kind"], i["value"]): i["other_reports"] for i in body["identifiers"]} == {
        ("phone", "+44 7700 900123"): [third, first], ("name", "Dave"): []}

    alone, _ = send_report(client, offender={})
    body = moderator.get(f"/reports/{alone}").get_json()
    assert body["identifiers"] == [] and body["times_reported"] == 0


def test_unknown_and_malformed_report_ids(client, areas, moderator):
    assert moderator.get(f"/reports/{uuid.uuid4()}").status_code == 404
    assert moderator.get("/reports/not-a-uuid").status_code == 404
    assert moderator.post(f"/reports/{uuid.uuid4()}/reject", json={"reason": "x"}).status_code == 404


# --- Status as the reporter sees it ----------------------------------------------------------

def test_opening_a_report_puts_it_in_review(client, areas, moderator):
    report_id, receipt = send_report(client)
    assert receipt_status(client, report_id, receipt) == "received"
    moderator.get(f"/reports/{report_id}")
    assert receipt_status(client, report_id, receipt) == "in_review"


def test_received_in_review_published(client, areas, moderator):
    report_id, receipt = send_report(client)
    response = moderator.post(f"/reports/{report_id}/review")
    assert response.status_code == 200 and response.get_json()["status"] == "in_review"
    assert receipt_status(client, report_id, receipt) == "in_review"
    alert = make_draft(moderator, [report_id])
    assert receipt_status(client, report_id, receipt) == "in_review"
    publish(moderator, alert["id"])
    assert receipt_status(client, report_id, receipt) == "published"
    # Decided: it cannot be rejected or put back in review while its alert is live.
    assert moderator.post(f"/reports/{report_id}/reject", json={"reason": "x"}).status_code == 409
    assert moderator.post(f"/reports/{report_id}/review").status_code == 409


def test_draft_from_a_received_report_puts_it_in_review(client, areas, moderator):
    report_id, receipt = send_report(client)
    make_draft(moderator, [report_id])
    assert receipt_status(client, report_id, receipt) == "in_review"


def test_rejected_report_shows_not_published_and_keeps_the_reason_private(client, areas, moderator):
    report_id, receipt = send_report(client)
    reason = "Looks like a grudge between two drivers"
    response = moderator.post(f"/reports/{report_id}/reject", json={"reason": reason})
    assert response.status_code == 200 and response.get_json()["status"] == "not_published"
    status = client.get(f"/api/v1/reports/{report_id}/status", headers={"X-Receipt": receipt})
    assert status.get_json() == {"id": report_id, "status": "not_published",
                                 "has_case": False, "new_messages": 0}
    assert reason not in status.get_data(as_text=True)
    assert moderator.get(f"/reports/{report_id}").get_json()["reject_reason"] == reason
    # Rejected once is enough; no alert can be drafted from it.
    assert moderator.post(f"/reports/{report_id}/reject", json={"reason": "again"}).status_code == 409
    refused = moderator.post("/alerts", json=draft_body([report_id]))
    assert refused.status_code == 409 and "rejected" in refused.get_json()["message"]
    # Reopened, it is in review again.
    assert moderator.post(f"/reports/{report_id}/review").get_json()["status"] == "in_review"
    assert receipt_status(client, report_id, receipt) == "in_review"
    assert moderator.get(f"/reports/{report_id}").get_json()["reject_reason"] is None


def test_a_report_rejected_after_drafting_stops_the_publish(client, areas, moderator):
    report_id, receipt = send_report(client)
    draft = make_draft(moderator, [report_id])
    moderator.post(f"/reports/{report_id}/reject", json={"reason": "Withdrawn by the reporter"})
    refused = moderator.post(f"/alerts/{draft['id']}/publish")
    assert refused.status_code == 409 and "rejected" in refused.get_json()["message"]
    assert moderator.get(f"/alerts/{draft['id']}").get_json()["status"] == "draft"
    assert receipt_status(client, report_id, receipt) == "not_published"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 1001},
                                  {"reason": "ok", "publicly": True}, {"reason": 5}])
def test_reject_needs_a_reason(client, areas, moderator, body):
    report_id, _ = send_report(client)
    response = moderator.post(f"/reports/{report_id}/reject", json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]


# --- Consent ------------------------------------------------------------------------------

def test_a_dont_publish_report_can_never_be_published(client, areas, moderator):
    secret_id, receipt = send_report(client, consent={"publish": False, "police": "none"})
    ok_id, _ = send_report(client)

    refused = moderator.post("/alerts", json=draft_body([ok_id, secret_id]))
    assert refused.status_code == 409
    message = refused.get_json()["message"]
    assert "not to be published" in message and secret_id in message
    assert db.session.execute(sa.select(sa.func.count(Alert.id))).scalar() == 0

    alert = make_draft(moderator, [ok_id])
    refused = moderator.patch(f"/alerts/{alert['id']}", json={"reports": [ok_id, secret_id]})
    assert refused.status_code == 409 and secret_id in refused.get_json()["message"]

    # Even if the report got onto the draft some other way, publishing refuses it.
    stored = db.session.get(Alert, uuid.UUID(alert["id"]))
    stored.reports.append(db.session.get(Report, uuid.UUID(secret_id)))
    db.session.commit()
    refused = moderator.post(f"/alerts/{alert['id']}/publish")
    assert refused.status_code == 409 and secret_id in refused.get_json()["message"]
    db.session.expire_all()
    assert db.session.get(Alert, uuid.UUID(alert["id"])).published_at is None
    assert receipt_status(client, secret_id, receipt) != "published"


# --- Linking ------------------------------------------------------------------------------

def test_linking_reports_of_one_incident(client, areas, moderator):
    a, _ = send_report(client)
    b, _ = send_report(client)
    c, _ = send_report(client)
    d, _ = send_report(client)

    assert moderator.post(f"/reports/{b}/link", json={"to": a}).get_json()["linked_to"] == a
    # c has d linked to it; linking c to b brings both into a's incident.
    moderator.post(f"/reports/{d}/link", json={"to": c})
    assert moderator.post(f"/reports/{c}/link", json={"to": b}).get_json()["linked_to"] == a

    def linked(report_id):
        return sorted(r["id"] for r in moderator.get(f"/reports/{report_id}").get_json()["linked_reports"])

    assert linked(a) == sorted([b, c, d])
    assert linked(d) == sorted([a, b, c])

    # Unlinking the first report: the others stay one incident.
    assert moderator.post(f"/reports/{a}/unlink").get_json()["linked_to"] is None
    assert linked(a) == []
    assert linked(b) == sorted([c, d])
    assert moderator.post(f"/reports/{a}/unlink").status_code == 409


@pytest.mark.parametrize("to", ["self", "unknown", "malformed", None, "missing"])
def test_link_needs_another_known_report(client, areas, moderator, to):
    report_id, _ = send_report(client)
    body = {"self": {"to": report_id}, "unknown": {"to": str(uuid.uuid4())},
            "malformed": {"to": "not-a-uuid"}, None: {"to": None}, "missing": {}}[to]
    response = moderator.post(f"/reports/{report_id}/link", json=body)
    assert response.status_code == 422
    assert "to" in response.get_json()["errors"]["json"]


# --- Alerts as staff see them ---------------------------------------------------------------

def test_write_edit_publish_retract(client, areas, moderator):
    first, first_receipt = send_report(client)
    second, second_receipt = send_report(client, area="camden")
    alert = make_draft(moderator, [first], expires_at=(utcnow() + timedelta(days=7)).isoformat())
    assert alert["status"] == "draft" and alert["created_by"] == "mod"
    assert alert["reports"] == [first]
    assert alert["areas"] == [{"slug": "hackney", "name": "Hackney"}]
    assert alert["identifiers"] == [
        {"kind": "phone", "value": "+44 7700 900123", "display": "masked",
         "shown_as": "077•• •••123"},  # the national format of the deployment
        {"kind": "plate", "value": "AB12 CDE", "display": "full", "shown_as": "AB12 CDE"},
        {"kind": "name", "value": "Dave Secretname", "display": "hidden", "shown_as": None},
    ]
    assert alert["deliveries"] == {"queued": 0, "sent": 0, "gone": 0, "failed": 0}
    assert alert["published_at"] is None and alert["expires_at"]

    edited = moderator.patch(f"/alerts/{alert['id']}", json={
        "title": "Fake police officer", "reports": [first, second],
        "areas": ["hackney", "camden"], "expires_at": None})
    assert edited.status_code == 200, edited.get_json()
    edited = edited.get_json()
    assert edited["title"] == "Fake police officer"
    assert edited["summary"] == alert["summary"]  # not sent, not changed
    assert sorted(edited["reports"]) == sorted([first, second])
    assert [a["slug"] for a in edited["areas"]] == ["camden", "hackney"]
    assert edited["expires_at"] is None

    published = publish(moderator, alert["id"])
    assert published["status"] == "published" and published["published_at"]
    assert receipt_status(client, second, second_receipt) == "published"
    # Published alerts are not edited, deleted or published twice.
    assert moderator.patch(f"/alerts/{alert['id']}", json={"title": "x"}).status_code == 409
    assert moderator.delete(f"/alerts/{alert['id']}").status_code == 409
    again = moderator.post(f"/alerts/{alert['id']}/publish")
    assert again.status_code == 409 and "already published" in again.get_json()["message"]

    listed = moderator.get("/alerts").get_json()
    assert listed["total"] == 1 and listed["alerts"][0]["id"] == alert["id"]
    assert moderator.get("/alerts?status=draft").get_json()["alerts"] == []

    retracted = moderator.post(f"/alerts/{alert['id']}/retract")
    assert retracted.status_code == 200
    assert retracted.get_json()["status"] == "retracted"
    assert retracted.get_json()["retracted_at"]
    # Nothing carries these reports any more: their reporters see "not published".
    assert receipt_status(client, first, first_receipt) == "not_published"
    assert receipt_status(client, second, second_receipt) == "not_published"
    assert moderator.post(f"/alerts/{alert['id']}/retract").status_code == 409
    assert moderator.post(f"/alerts/{alert['id']}/publish").status_code == 409
    assert [a["id"] for a in moderator.get("/alerts?status=retracted").get_json()["alerts"]] == [alert["id"]]


def test_retracting_one_alert_leaves_a_report_that_another_carries(client, areas, moderator):
    report_id, receipt = send_report(client)
    one = make_draft(moderator, [report_id])
    two = make_draft(moderator, [report_id], areas=["camden"])
    publish(moderator, one["id"])
    publish(moderator, two["id"])
    moderator.post(f"/alerts/{one['id']}/retract")
    assert receipt_status(client, report_id, receipt) == "published"


def test_drafts_can_be_thrown_away_and_expired_ones_not_published(app, client, areas, moderator):
    report_id, _ = send_report(client)
    draft = make_draft(moderator, [report_id])
    assert moderator.post(f"/alerts/{draft['id']}/retract").status_code == 409
    assert moderator.delete(f"/alerts/{draft['id']}").status_code == 204
    assert moderator.get(f"/alerts/{draft['id']}").status_code == 404
    # Its report is untouched.
    assert moderator.get(f"/reports/{report_id}").get_json()["status"] == "in_review"

    stale = make_draft(moderator, [report_id])
    db.session.get(Alert, uuid.UUID(stale["id"])).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    refused = moderator.post(f"/alerts/{stale['id']}/publish")
    assert refused.status_code == 409 and "expires_at" in refused.get_json()["message"]


def test_alert_lists_are_newest_first_paginated_and_filtered(client, areas, moderator):
    report_id, _ = send_report(client)
    made = [make_draft(moderator, [report_id], title=f"Alert {n}")["id"] for n in range(3)]
    publish(moderator, made[1])
    page = moderator.get("/alerts?limit=2").get_json()
    assert [a["id"] for a in page["alerts"]] == [made[2], made[1]] and page["total"] == 3
    assert [a["id"] for a in moderator.get("/alerts?status=draft").get_json()["alerts"]] == [made[2], made[0]]
    assert [a["id"] for a in moderator.get("/alerts?status=published").get_json()["alerts"]] == [made[1]]
    for query in ("?status=gone", "?limit=0", "?page=2"):
        assert moderator.get("/alerts" + query).status_code == 422


# --- Validation at the edge --------------------------------------------------------------

def _bad_bodies(report_id):
    yield "unknown field", draft_body([report_id], colour="red"), "colour"
    yield "title too long", draft_body([report_id], title="x" * 121), "title"
    yield "blank title", draft_body([report_id], title="  "), "title"
    yield "summary too long", draft_body([report_id], summary="x" * 2001), "summary"
    yield "unknown area", draft_body([report_id], areas=["atlantis"]), "areas"
    yield "no area", draft_body([report_id], areas=[]), "areas"
    yield "bad severity", draft_body([report_id], severity="deadly"), "severity"
    yield "bad incident type", draft_body([report_id], incident_types=["murder"]), "incident_types"
    yield "malformed report id", draft_body(["not-a-uuid"]), "reports"
    yield "unknown report", draft_body([str(uuid.uuid4())]), "reports"
    yield "no report", draft_body([]), "reports"
    yield "report twice", draft_body([report_id, report_id]), "reports"
    yield "bad kind", draft_body([report_id], identifiers=[
        {"kind": "address", "value": "x", "display": "full"}]), "identifiers"
    yield "bad display", draft_body([report_id], identifiers=[
        {"kind": "phone", "value": "x", "display": "blurred"}]), "identifiers"
    yield "no display", draft_body([report_id], identifiers=[
        {"kind": "phone", "value": "x"}]), "identifiers"
    yield "expiry past", draft_body([report_id], expires_at="2001-01-01T00:00:00Z"), "expires_at"
    yield "expiry garbage", draft_body([report_id], expires_at="next week"), "expires_at"
    body = draft_body([report_id])
    del body["title"]
    yield "no title", body, "title"


def test_alert_input_is_validated(client, areas, moderator):
    report_id, _ = send_report(client)
    for name, body, field in _bad_bodies(report_id):
        response = moderator.post("/alerts", json=body)
        assert response.status_code == 422, (name, response.status_code)
        assert field in response.get_json()["errors"]["json"], name
    assert moderator.post("/alerts", json=["not", "an", "object"]).status_code == 422
    response = moderator.client.post(f"{STAFF}/alerts", data="{not json",
                                     content_type="application/json", headers=moderator.csrf)
    assert 400 <= response.status_code < 500
    assert db.session.execute(sa.select(sa.func.count(Alert.id))).scalar() == 0

    draft = make_draft(moderator, [report_id])
    for name, body, field in _bad_bodies(report_id):
        if name.startswith("no "):
            continue
        patch = {field: body[field]} if field in body else {"colour": "red"}
        response = moderator.patch(f"/alerts/{draft['id']}", json=patch)
        assert response.status_code == 422, (name, response.status_code)
    # PATCH replaces identifiers whole: each still needs its display.
    response = moderator.patch(f"/alerts/{draft['id']}",
                               json={"identifiers": [{"kind": "phone", "value": "07700 900123"}]})
    assert response.status_code == 422
    assert moderator.patch(f"/alerts/{draft['id']}", json={}).status_code == 422
    assert moderator.get(f"/alerts/{draft['id']}").get_json()["title"] == draft["title"]
    assert moderator.get(f"/alerts/{uuid.uuid4()}").status_code == 404


# --- Roles and CSRF -------------------------------------------------------------------------

def test_outreach_can_read_but_not_decide(client, areas, moderator, outreach):
    report_id, _ = send_report(client)
    draft = make_draft(moderator, [report_id])
    assert outreach.get("/reports").status_code == 200
    assert outreach.get(f"/reports/{report_id}").status_code == 200
    assert outreach.get("/alerts").status_code == 200
    assert outreach.get(f"/alerts/{draft['id']}").status_code == 200
    for method, path, body in [
            ("post", "/alerts", draft_body([report_id])),
            ("patch", f"/alerts/{draft['id']}", {"title": "x"}),
            ("delete", f"/alerts/{draft['id']}", None),
            ("post", f"/alerts/{draft['id']}/publish", None),
            ("post", f"/alerts/{draft['id']}/retract", None),
            ("post", f"/reports/{report_id}/review", None),
            ("post", f"/reports/{report_id}/reject", {"reason": "x"}),
            ("post", f"/reports/{report_id}/link", {"to": report_id}),
            ("post", f"/reports/{report_id}/unlink", None)]:
        args = (path,) if method == "delete" else (path, body)
        response = getattr(outreach, method)(*args)
        assert response.status_code == 403, (method, path)
        assert "moderator" in response.get_json()["message"]
    assert moderator.get(f"/alerts/{draft['id']}").get_json()["status"] == "draft"


def test_state_changes_need_the_csrf_header(client, areas, moderator):
    report_id, receipt = send_report(client)
    draft = make_draft(moderator, [report_id])
    for method, path, body in [
            ("post", "/alerts", draft_body([report_id])),
            ("patch", f"/alerts/{draft['id']}", {"title": "x"}),
            ("post", f"/alerts/{draft['id']}/publish", None),
            ("post", f"/reports/{report_id}/reject", {"reason": "x"})]:
        response = getattr(moderator, method)(path, body, csrf=False)
        assert response.status_code == 403, (method, path)
    assert moderator.delete(f"/alerts/{draft['id']}", csrf=False).status_code == 403
    wrong = moderator.client.post(f"{STAFF}/alerts/{draft['id']}/publish",
                                  headers={"X-CSRF-Token": "guessed"})
    assert wrong.status_code == 403
    assert moderator.get(f"/alerts/{draft['id']}").get_json()["status"] == "draft"
    assert receipt_status(client, report_id, receipt) == "in_review"


# --- Audit ---------------------------------------------------------------------------------

def test_every_moderation_action_is_audited(client, areas, moderator):
    me = moderator.staff.id
    report_id, _ = send_report(client, support={"requested": True, "contact": CONTACT})
    other_id, _ = send_report(client)

    def audited(*expected):
        # The rows this action wrote, oldest first.
        rows = db.session.execute(
            db.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(len(expected))).scalars()
        assert [(e.staff_id, e.action, e.target_type, e.target_id) for e in rows][::-1] == \
            list(expected)

    moderator.post(f"/reports/{other_id}/review")
    audited((me, "report_in_review", "report", other_id))
    moderator.get(f"/reports/{report_id}")
    audited((me, "report_viewed", "report", report_id),
            (me, "report_in_review", "report", report_id),
            (me, "report_contact_viewed", "report", report_id))
    moderator.post(f"/reports/{other_id}/link", json={"to": report_id})
    audited((me, "report_linked", "report", other_id))
    moderator.post(f"/reports/{other_id}/unlink")
    audited((me, "report_unlinked", "report", other_id))
    moderator.post(f"/reports/{other_id}/reject", json={"reason": "Not enough to go on"})
    audited((me, "report_rejected", "report", other_id))
    moderator.post(f"/reports/{other_id}/review")
    audited((me, "report_reopened", "report", other_id))
    draft = make_draft(moderator, [report_id])["id"]
    audited((me, "alert_created", "alert", draft))
    moderator.patch(f"/alerts/{draft}", json={"severity": "risky"})
    audited((me, "alert_edited", "alert", draft))
    publish(moderator, draft)
    audited((me, "alert_published", "alert", draft))
    moderator.post(f"/alerts/{draft}/retract")
    audited((me, "alert_retracted", "alert", draft))
    thrown = make_draft(moderator, [other_id])["id"]
    moderator.delete(f"/alerts/{thrown}")
    audited((me, "alert_deleted", "alert", thrown))

    # Ids only: no report text, reason or contact detail in the audit log.
    dump = " ".join(str(v) for row in db.session.execute(sa.select(AuditEvent.__table__)).all()
                    for v in row)
    for secret in ("Punched me", "Not enough to go on", CONTACT["phone"], CONTACT["name"],
                   "Man posing as police"):
        assert secret not in dump


def test_a_refused_action_changes_nothing_and_audits_nothing(client, areas, moderator):
    report_id, _ = send_report(client, consent={"publish": False, "police": "none"})
    before = db.session.execute(sa.select(sa.func.count(AuditEvent.id))).scalar()
    assert moderator.post("/alerts", json=draft_body([report_id])).status_code == 409
    assert db.session.execute(sa.select(sa.func.count(AuditEvent.id))).scalar() == before


# --- Publishing queues the deliveries ---------------------------------------------------------

def test_publishing_queues_one_delivery_per_matching_subscription(client, areas, moderator):
    member, _ = make_member()
    revoked, _ = make_member(revoked=True)
    in_hackney = subscribe(member, "hackney")
    in_islington = subscribe(member, "islington")
    in_both = subscribe(member, "hackney", "islington")  # one delivery, not two
    subscribe(member, "camden")                           # another area: nothing
    subscribe(revoked, "hackney")                         # revoked member: nothing
    report_id, _ = send_report(client)
    draft = make_draft(moderator, [report_id], areas=["hackney", "islington"])
    assert db.session.execute(sa.select(sa.func.count(Delivery.id))).scalar() == 0

    published = publish(moderator, draft["id"])
    assert published["deliveries"] == {"queued": 3, "sent": 0, "gone": 0, "failed": 0}
    rows = db.session.execute(sa.select(Delivery)).scalars().all()
    assert sorted(str(d.subscription_id) for d in rows) == sorted(
        str(s.id) for s in (in_hackney, in_islington, in_both))
    assert {str(d.alert_id) for d in rows} == {draft["id"]}
    assert moderator.get("/alerts").get_json()["alerts"][0]["deliveries"]["queued"] == 3
    # Published with it: its identifiers, indexed for "check a number".
    indexed = db.session.execute(sa.select(Identifier.kind, Identifier.value, Identifier.display)
                                 .where(Identifier.alert_id == uuid.UUID(draft["id"]))).all()
    assert sorted(indexed) == [("name", "dave secretname", "hidden"),
                               ("phone", "+447700900123", "masked"),
                               ("plate", "AB12CDE", "full")]

    # Retracting stops what has not gone out yet.
    retracted = moderator.post(f"/alerts/{draft['id']}/retract").get_json()
    assert retracted["deliveries"] == {"queued": 0, "sent": 0, "gone": 0, "failed": 3}


@pytest.fixture
def audit_refuses_publish(app):
    """A real database failure at the last write of a publish (its audit row)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("""
            CREATE FUNCTION refuse_publish() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.action = 'alert_published' THEN RAISE EXCEPTION 'refused'; END IF;
              RETURN NEW;
            END $$"""))
        db.session.execute(sa.text(
            "CREATE TRIGGER refuse_publish BEFORE INSERT ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION refuse_publish()"))
    else:
        db.session.execute(sa.text("""
            CREATE TRIGGER refuse_publish BEFORE INSERT ON audit_event
            WHEN NEW.action = 'alert_published'
            BEGIN SELECT RAISE(ABORT, 'refused'); END"""))
    db.session.commit()
    yield
    db.session.rollback()
    db.session.execute(sa.text("DROP TRIGGER refuse_publish" + (
        " ON audit_event" if db.engine.dialect.name == "postgresql" else "")))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("DROP FUNCTION refuse_publish()"))
    db.session.commit()


def test_alert_and_deliveries_are_one_transaction(app, client, areas, moderator,
                                                   audit_refuses_publish):
    member, _ = make_member()
    subscribe(member, "hackney")
    report_id, receipt = send_report(client)
    draft = make_draft(moderator, [report_id])
    response = moderator.post(f"/alerts/{draft['id']}/publish")
    assert response.status_code == 500
    db.session.rollback()
    db.session.expire_all()
    # Nothing of the publish stands: not the alert, not its deliveries, not the report.
    assert db.session.get(Alert, uuid.UUID(draft["id"])).published_at is None
    assert db.session.execute(sa.select(sa.func.count(Delivery.id))).scalar() == 0
    assert db.session.execute(sa.select(sa.func.count(Identifier.id))
                              .where(Identifier.alert_id.is_not(None))).scalar() == 0
    assert receipt_status(client, report_id, receipt) == "in_review"


def test_publishing_twice_at_once_publishes_once(app, client, areas, moderator):
    """Two moderators both looking at a draft press Publish: the second finds it taken
    (the conditional UPDATE decides, not what the session last read)."""
    member, _ = make_member()
    subscribe(member, "hackney")
    report_id, _ = send_report(client)
    draft = make_draft(moderator, [report_id])
    alert = db.session.get(Alert, uuid.UUID(draft["id"]))
    assert alert.title  # loaded: this session now believes it is a draft
    publish(moderator, draft["id"])  # the other moderator, a moment earlier
    set_committed_value(alert, "published_at", None)  # this session's stale view
    with pytest.raises(publishing.Refused):
        publishing.publish_alert(moderator.staff, alert)
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count(Delivery.id))).scalar() == 1
    assert db.session.execute(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "alert_published")).scalar() == 1
