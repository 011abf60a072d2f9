"""Alerts for members: only live alerts, only through the allow-listed schema, masked
and hidden identifiers honoured, and incremental sync that tells devices what to drop."""
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from server.alerts import service
from server.alerts.models import Alert
from server.alerts.schemas import MEMBER_ALERT_KEYS
from server.clock import utcnow
from server.extensions import db

from factories import CONTACT, make_draft, make_member, publish, send_report

FEED = "/api/v1/alerts"
COMPACT = FEED + "/compact"


@pytest.fixture
def member(app):
    return make_member()[1]


def live_alert(moderator, client, **changes):
    report_id, _ = send_report(client)
    alert = make_draft(moderator, [report_id], **changes)
    publish(moderator, alert["id"])
    return alert["id"]


def set_times(alert_id, **times):
    """Move an alert's dates; a new published_at moves changed_at with it (published
    then, unchanged since) unless changed_at is given too."""
    if "published_at" in times:
        times.setdefault("changed_at", times["published_at"])
    alert = db.session.get(Alert, uuid.UUID(alert_id))
    for name, value in times.items():
        setattr(alert, name, value)
    db.session.commit()


def feed(client, headers, query="", path=FEED):
    response = client.get(path + query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- Members only ------------------------------------------------------------------------

def test_non_members_get_401(client, areas, moderator):
    alert_id = live_alert(moderator, client)
    _, revoked = make_member(revoked=True)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, revoked,
                    {"Authorization": "Basic dXNlcjpwYXNz"}):
        assert client.get(FEED, headers=headers).status_code == 401
        assert client.get(f"{FEED}/{alert_id}", headers=headers).status_code == 401
        # 401 before the query is even looked at.
        assert client.get(FEED + "?area=atlantis", headers=headers).status_code == 401
    # A staff session is not a member token.
    assert moderator.client.get(FEED).status_code == 401


# --- Only live alerts ----------------------------------------------------------------------

def test_feed_lists_live_alerts_newest_first(client, areas, moderator, member):
    older = live_alert(moderator, client)
    newer = live_alert(moderator, client, areas=["camden"])
    report_id, _ = send_report(client)
    draft = make_draft(moderator, [report_id])["id"]
    retracted = live_alert(moderator, client)
    moderator.post(f"/alerts/{retracted}/retract")
    expired = live_alert(moderator, client)
    set_times(expired, expires_at=utcnow() - timedelta(seconds=1))
    later = live_alert(moderator, client, expires_at=(utcnow() + timedelta(days=1)).isoformat())

    body = feed(client, member)
    assert [a["id"] for a in body["alerts"]] == [later, newer, older]
    assert body["retracted"] == []  # a full list: the device keeps exactly these
    for hidden in (draft, retracted, expired):
        assert client.get(f"{FEED}/{hidden}", headers=member).status_code == 404
    assert client.get(f"{FEED}/{uuid.uuid4()}", headers=member).status_code == 404
    assert client.get(f"{FEED}/not-a-uuid", headers=member).status_code == 404
    one = client.get(f"{FEED}/{older}", headers=member)
    assert one.status_code == 200 and one.get_json()["id"] == older


def test_feed_filters_by_area(client, areas, moderator, member):
    hackney = live_alert(moderator, client, areas=["hackney"])
    camden = live_alert(moderator, client, areas=["camden"])
    both = live_alert(moderator, client, areas=["camden", "islington"])
    ids = lambda query: [a["id"] for a in feed(client, member, query)["alerts"]]  # noqa: E731
    assert ids("?area=hackney") == [hackney]
    assert ids("?area=camden") == [both, camden]
    assert ids("?area=islington&area=hackney") == [both, hackney]
    assert ids("?area=westminster") == []


@pytest.mark.parametrize("query", ["?area=atlantis", "?area=Bad Slug", "?since=yesterday",
                                   "?since=2026-13-01", "?page=2", "?areas=hackney"])
def test_feed_query_is_validated(client, areas, member, query):
    response = client.get(FEED + query, headers=member)
    assert response.status_code == 422
    assert response.get_json()["errors"]["query"]


# --- The allow-list -------------------------------------------------------------------------

def test_member_alert_has_exactly_the_allowed_keys(client, areas, moderator, member):
    report_id, _ = send_report(client, support={"requested": True, "contact": CONTACT},
                               offender={"names": ["Dave Secretname"]})
    draft = make_draft(moderator, [report_id], areas=["hackney", "camden"],
                       expires_at="2099-01-01T00:00:00+00:00", identifiers=[
                           {"kind": "phone", "value": "07700 900123", "display": "masked"},
                           {"kind": "email", "value": "dave.smith@example.com", "display": "masked"},
                           {"kind": "handle", "value": "@dave_ldn", "display": "masked"},
                           {"kind": "plate", "value": "AB12 CDE", "display": "full"},
                           {"kind": "name", "value": "Dave Secretname", "display": "hidden"},
                           {"kind": "phone", "value": "07700 900999", "display": "hidden"},
                       ])
    publish(moderator, draft["id"])

    listed = feed(client, member)
    one = client.get(f"{FEED}/{draft['id']}", headers=member)
    assert set(listed) == {"alerts", "retracted", "now", "next"} and listed["next"] is None
    for alert, text in ((listed["alerts"][0], str(listed)), (one.get_json(), one.get_data(as_text=True))):
        assert set(alert) == set(MEMBER_ALERT_KEYS) == {
            "id", "number", "title", "summary", "severity", "incident_types", "areas", "identifiers",
            "withheld_identifiers", "published_at", "expires_at"}
        assert alert["areas"] == [{"slug": "camden", "name": "Camden"},
                                  {"slug": "hackney", "name": "Hackney"}]
        assert alert["severity"] == "dangerous"
        assert alert["incident_types"] == ["posing_as_police", "robbery"]
        assert alert["expires_at"] == "2099-01-01T00:00:00+00:00"
        assert alert["published_at"]
        # Masked ones masked, full ones in full, hidden ones not there at all.
        assert alert["identifiers"] == [
            {"kind": "phone", "value": "077•• •••123"},  # national, as full numbers read
            {"kind": "email", "value": "d•••@example.com"},
            {"kind": "handle", "value": "@da•••"},
            {"kind": "plate", "value": "AB12 CDE"},
        ]
        assert alert["withheld_identifiers"] == 2
        for secret in ("Secretname", "900999", "900123", "dave.smith", "dave_ldn", report_id,
                       CONTACT["phone"], CONTACT["name"], "Punched me", "mod"):
            assert secret not in text, secret


@pytest.mark.parametrize("kind, value, masked", [
    # Numbers of the deployment's region in its national format, others international.
    ("phone", "+44 7700 900123", "077•• •••123"),
    ("phone", "07700 900123", "077•• •••123"),
    ("phone", "+1 415 555 0132", "+1 41•-•••-•132"),
    ("phone", "0044 20 7946 0000", "020 •••• •000"),
    ("phone", "12345", "•••••"),
    ("phone", "no digits", "no•••"),
    ("email", "Dave.S@Example.com", "D•••@Example.com"),
    ("email", "a@b.org", "a•••@b.org"),
    ("plate", "AB12 CDE", "AB•• ••E"),
    ("plate", "ab12cde", "AB••••E"),
    ("plate", "X1", "X•"),
    ("handle", "@dave_ldn", "@da•••"),
    ("handle", "davey", "da•••"),
    ("name", "Dave Smith", "Da•••"),
    ("name", "Al", "A•••"),
])
def test_masking_shows_enough_to_act_on(app, kind, value, masked):
    assert service.mask(kind, value, "GB") == masked


# --- Incremental sync -----------------------------------------------------------------------

def test_since_gives_new_alerts_and_the_ids_to_drop(client, areas, moderator, member):
    kept = live_alert(moderator, client)
    dropped = live_alert(moderator, client)
    # Both published well before the device's first sync.
    hour_ago = utcnow() - timedelta(hours=1)
    set_times(kept, published_at=hour_ago)
    set_times(dropped, published_at=hour_ago)

    first = feed(client, member)
    assert {a["id"] for a in first["alerts"]} == {kept, dropped}
    since = first["now"]
    assert since.endswith("Z")  # safe to paste into a query string as it is
    assert feed(client, member, f"?since={since}")["alerts"] == []

    fresh = live_alert(moderator, client)
    moderator.post(f"/alerts/{dropped}/retract")
    second = feed(client, member, f"?since={since}")
    assert [a["id"] for a in second["alerts"]] == [fresh]
    assert second["retracted"] == [dropped]
    # Retracted ids are for every area: the device may hold one from an area it left.
    assert feed(client, member, f"?since={since}&area=camden")["retracted"] == [dropped]
    assert datetime.fromisoformat(second["now"]) > datetime.fromisoformat(since)


def test_since_looks_back_over_a_publish_that_committed_late(client, areas, moderator, member):
    """An alert stamped just before the previous sync's `now`, but committed just after it,
    is still sent (the device stores by id, so a repeat is harmless)."""
    alert_id = live_alert(moderator, client)
    now = datetime.fromisoformat(feed(client, member)["now"])
    set_times(alert_id, published_at=now - timedelta(seconds=5))
    since = now.isoformat()
    since_query = "?since=" + since.replace("+", "%2B")
    assert [a["id"] for a in feed(client, member, since_query)["alerts"]] == [alert_id]
    set_times(alert_id, published_at=now - service.SYNC_OVERLAP - timedelta(seconds=1))
    assert feed(client, member, "?since=" + since.replace("+", "%2B"))["alerts"] == []


def test_since_without_offset_means_utc(client, areas, moderator, member):
    alert_id = live_alert(moderator, client)
    set_times(alert_id, published_at=datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    assert [a["id"] for a in feed(client, member, "?since=2030-01-01T11:00:00")["alerts"]] == [alert_id]
    assert feed(client, member, "?since=2030-01-01T13:00:00")["alerts"] == []


# --- Paged, compressed, one query for the areas -----------------------------------------

def test_the_feed_comes_in_pages_by_key(client, areas, moderator, member):
    ids = [live_alert(moderator, client) for _ in range(5)]
    # Two alerts published at the same moment: the id breaks the tie, none is lost.
    same = utcnow() - timedelta(minutes=1)
    set_times(ids[1], published_at=same)
    set_times(ids[2], published_at=same)
    whole = [a["id"] for a in feed(client, member)["alerts"]]
    assert sorted(whole) == sorted(ids)
    pages, query = [], "?limit=2"
    while True:
        body = feed(client, member, query)
        pages.append([a["id"] for a in body["alerts"]])
        if body["next"] is None:
            break
        query = f"?limit=2&before={body['next']}"
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [alert_id for page in pages for alert_id in page] == whole
    assert client.get(FEED + "?limit=2&before=not-a-cursor", headers=member).status_code == 422
    assert client.get(FEED + "?limit=0", headers=member).status_code == 422


def test_the_feed_is_compressed_for_a_client_that_accepts_it(client, areas, moderator, member):
    import gzip
    import json

    import brotli
    for _ in range(6):
        live_alert(moderator, client)
    for path in (FEED, COMPACT):
        plain = client.get(path, headers=member)
        zipped = client.get(path, headers={**member, "Accept-Encoding": "gzip, deflate"})
        squeezed = client.get(path, headers={**member, "Accept-Encoding": "gzip, br"})
        refused = client.get(path, headers={**member, "Accept-Encoding": "br;q=0, gzip"})
        assert "Content-Encoding" not in plain.headers
        assert zipped.headers["Content-Encoding"] == refused.headers["Content-Encoding"] == "gzip"
        assert squeezed.headers["Content-Encoding"] == "br"
        for response in (zipped, squeezed):
            assert "Accept-Encoding" in response.headers["Vary"]
            assert len(response.data) < len(plain.data) / 2
        assert json.loads(gzip.decompress(zipped.data))["alerts"] == plain.get_json()["alerts"]
        assert json.loads(brotli.decompress(squeezed.data))["alerts"] == plain.get_json()["alerts"]


def test_the_feed_reads_areas_in_one_query_whatever_the_number_of_alerts(
        client, areas, moderator, member):
    import sqlalchemy as sa
    for _ in range(6):
        live_alert(moderator, client, areas=["hackney", "camden"])
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        body = feed(client, member)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert len(body["alerts"]) == 6
    assert sum("FROM area" in s for s in statements) <= 2  # the member's areas check, one load


# --- The compact feed (what the app syncs with) -------------------------------------------

def decode(page):
    """A compact page read back into alert objects, as web/alerts-store.js reads it:
    GET /api/v1/alerts's shape, areas as slugs, dates as milliseconds since 1970."""
    codes, columns = page["codes"], page["alerts"]
    alerts, published, number = [], None, None
    for i, gap in enumerate(columns["number"]):
        published = columns["published"][i] if i == 0 else published - columns["published"][i]
        number = gap if i == 0 else number - gap
        alerts.append({
            **({"id": columns["id"][i]} if "id" in columns else {}), "number": number,
            "title": columns["title"][i], "summary": columns["summary"][i],
            "severity": codes["severity"][columns["severity"][i]],
            "incident_types": [codes["incident_types"][n] for n in columns["incident_types"][i]],
            "areas": [codes["areas"][n] for n in columns["areas"][i]],
            "identifiers": [{"kind": codes["identifier_kinds"][kind], "value": value}
                            for kind, value in zip(columns["identifier_kinds"][i],
                                                   columns["identifier_values"][i], strict=True)],
            "withheld_identifiers": columns["withheld_identifiers"][i],
            "published_at": published, "expires_at": columns["expires"][i]})
    return alerts


def milliseconds(text):
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return int(moment.replace(microsecond=0).timestamp()) * 1000 + moment.microsecond // 1000


def as_compact_reads_it(alert):
    """An alert of GET /api/v1/alerts with what the compact form leaves to the app: area
    names (the app has them) and fractions of a millisecond."""
    return {**alert, "areas": [area["slug"] for area in alert["areas"]],
            "published_at": milliseconds(alert["published_at"]),
            "expires_at": milliseconds(alert["expires_at"])}


def several_alerts(client, moderator):
    """Alerts that differ in every field the compact form codes."""
    return [
        live_alert(moderator, client),
        live_alert(moderator, client, areas=["camden", "hackney"], severity="nuisance",
                   incident_types=["theft"], identifiers=[],
                   expires_at="2099-01-01T00:00:00+00:00"),
        live_alert(moderator, client, areas=["islington"], severity="risky",
                   incident_types=["threats", "robbery", "theft"], identifiers=[
                       {"kind": "email", "value": "dave.smith@example.com", "display": "masked"},
                       {"kind": "name", "value": "Dave Secretname", "display": "hidden"},
                       {"kind": "phone", "value": "07700 900999", "display": "hidden"},
                       {"kind": "handle", "value": "@dave_ldn", "display": "full"}]),
        live_alert(moderator, client, title="Ünïcode — 名字", summary="Çà et là, \"quoted\"."),
    ]


def test_compact_feed_reads_back_as_the_full_alerts(client, areas, moderator, member):
    several_alerts(client, moderator)
    full = feed(client, member)["alerts"]
    page = feed(client, member, "", COMPACT)
    assert set(page) == {"codes", "alerts", "retracted", "now", "next"} and page["next"] is None
    assert decode(page) == [as_compact_reads_it(alert) for alert in full]
    # Each code once, referred to by index; no key per alert.
    for values in page["codes"].values():
        assert len(values) == len(set(values))
    text = json.dumps(page)
    assert text.count("hackney") == 1 and text.count('"title"') == 1
    for secret in ("Secretname", "900999", "900123", "dave.smith"):
        assert secret not in text, secret


def test_compact_feed_by_number_leaves_the_ids_out(client, areas, moderator, member):
    """key=number, as the app asks: the same alerts known by number only, numbers in
    order as gaps (1 a step when none between them left the feed), retracted by number."""
    ids = several_alerts(client, moderator)
    since = feed(client, member, "", COMPACT)["now"]
    moderator.post(f"/alerts/{ids[1]}/retract")
    full = feed(client, member)["alerts"]
    page = feed(client, member, "?key=number", COMPACT)
    assert "id" not in page["alerts"] and page["alerts"]["number"][1:] == [1, 2]
    assert decode(page) == [as_compact_reads_it({k: v for k, v in alert.items() if k != "id"})
                            for alert in full]
    numbers = {alert["id"]: alert["number"] for alert in full}
    assert [alert["number"] for alert in decode(page)] == [numbers[i] for i in (ids[3], ids[2], ids[0])]
    changed = feed(client, member, f"?key=number&since={since}", COMPACT)
    retracted_number = db.session.execute(
        db.select(Alert.number).where(Alert.id == uuid.UUID(ids[1]))).scalar_one()
    assert changed["retracted"] == [retracted_number]
    assert feed(client, member, f"?since={since}", COMPACT)["retracted"] == [ids[1]]
    assert str(ids[0]) not in json.dumps(page) and str(ids[1]) not in json.dumps(changed)
    assert client.get(COMPACT + "?key=uuid", headers=member).status_code == 422


def test_alerts_are_numbered_when_published(client, areas, moderator, member):
    """One more than the highest so far, at publication only (a draft has none), kept
    when retracted; a live alert is read by its number as by its id."""
    first, second = live_alert(moderator, client), live_alert(moderator, client)
    draft = make_draft(moderator, [send_report(client)[0]])
    numbers = {alert["id"]: alert["number"] for alert in feed(client, member)["alerts"]}
    assert numbers[second] == numbers[first] + 1
    assert db.session.get(Alert, uuid.UUID(draft["id"])).number is None
    one = client.get(f"{FEED}/{numbers[first]}", headers=member)
    assert one.status_code == 200 and one.get_json() == client.get(
        f"{FEED}/{first}", headers=member).get_json()
    moderator.post(f"/alerts/{second}/retract")
    assert db.session.get(Alert, uuid.UUID(second)).number == numbers[second]
    third = live_alert(moderator, client)
    assert client.get(f"{FEED}/{third}", headers=member).get_json()["number"] == numbers[second] + 1
    for gone in (numbers[second], numbers[second] + 5, 2**31, 2**40):
        response = client.get(f"{FEED}/{gone}", headers=member)
        assert response.status_code == 404, gone
    assert client.get(f"{FEED}/{numbers[first]}").status_code == 401


@pytest.mark.postgresql_only  # SQLite writes one transaction at a time: deselected there
def test_publications_at_the_same_moment_get_different_numbers(app, client, areas, moderator):
    """PostgreSQL: a publication waits for one still numbering to commit, then numbers
    after it (without the lock both read the same highest number and the second fails on
    the unique index). SQLite has one writer at a time."""
    drafts = [make_draft(moderator, [send_report(client)[0]])["id"] for _ in range(2)]
    db.session.remove()
    first_numbered, numbers, errors = threading.Event(), {}, []

    def publish_one(index):
        with app.app_context():
            try:
                if index:
                    first_numbered.wait(10)
                alert = db.session.get(Alert, uuid.UUID(drafts[index]))
                service.publish(alert)
                numbers[index] = alert.number
                if not index:
                    first_numbered.set()
                    time.sleep(0.5)  # the second is waiting meanwhile
                db.session.commit()
            except Exception as error:  # reported below
                errors.append(error)
                first_numbered.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish_one, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and numbers[1] == numbers[0] + 1


def test_compact_feed_comes_in_pages_by_key(client, areas, moderator, member):
    ids = [live_alert(moderator, client) for _ in range(5)]
    same = utcnow() - timedelta(minutes=1)
    set_times(ids[1], published_at=same)
    set_times(ids[2], published_at=same)
    whole = [a["id"] for a in feed(client, member)["alerts"]]
    pages, query = [], "?limit=2"
    while True:
        body = feed(client, member, query, COMPACT)
        pages.append(body["alerts"]["id"])
        if body["next"] is None:
            break
        query = f"?limit=2&before={body['next']}"
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [alert_id for page in pages for alert_id in page] == whole
    assert feed(client, member, "", COMPACT)["alerts"]["id"] == whole  # 250 a page unasked
    for query in ("?limit=0", "?limit=501", "?before=not-a-cursor", "?area=atlantis", "?page=2"):
        assert client.get(COMPACT + query, headers=member).status_code == 422, query


def test_changes_since_the_last_sync_reach_the_device(client, areas, moderator, member):
    """Published, retracted, and an identifier taken out after an upheld dispute: each
    reaches a device that syncs with `since`, in both forms of the feed."""
    kept, dropped, disputed = (live_alert(moderator, client) for _ in range(3))
    hour_ago = utcnow() - timedelta(hours=1)
    for alert_id in (kept, dropped, disputed):
        set_times(alert_id, published_at=hour_ago)
    since = feed(client, member, "", COMPACT)["now"]
    unchanged = feed(client, member, f"?since={since}", COMPACT)
    assert unchanged["alerts"]["id"] == [] and unchanged["retracted"] == []

    fresh = live_alert(moderator, client)
    moderator.post(f"/alerts/{dropped}/retract")
    dispute = client.post("/api/v1/disputes", json={
        "identifier_kind": "phone", "identifier": "07700 900123",
        "statement": "This number is mine and I have never met anyone from that site."})
    assert dispute.status_code == 201, dispute.get_json()
    decided = moderator.post(f"/disputes/{dispute.get_json()['id']}/decide",
                             json={"outcome": "upheld", "reason": "Wrong number."})
    assert decided.status_code == 200, decided.get_json()

    compact = feed(client, member, f"?since={since}", COMPACT)
    full = feed(client, member, f"?since={since}")
    # The dispute took the number out of every alert carrying it; only `disputed` is
    # unretracted and was not sent since (fresh is new anyway).
    assert set(compact["alerts"]["id"]) == {a["id"] for a in full["alerts"]} == {
        fresh, disputed, kept}
    assert compact["retracted"] == full["retracted"] == [dropped]
    for alert in decode(compact):
        assert [i["kind"] for i in alert["identifiers"]] == ["plate"]
        assert alert["withheld_identifiers"] == 1
    # No trace of the phone number in any text sent (times, numbers and uuids may hold 900).
    texts = {name: column for name, column in compact["alerts"].items()
             if name not in ("id", "number", "published", "expires")}
    assert "identifier_values" in texts and "900" not in json.dumps(texts)


def test_identifiers_are_masked_when_set_not_per_request(app, client, areas, moderator, member,
                                                       monkeypatch):
    alert_id = live_alert(moderator, client)
    stored = db.session.get(Alert, uuid.UUID(alert_id)).shown_identifiers
    assert stored == {"region": "GB", "shown": [["phone", "077•• •••123"], ["plate", "AB12 CDE"]],
                      "withheld": 1}
    before = feed(client, member, "", COMPACT)

    def no_masking(*args, **kwargs):
        raise AssertionError("masked on a feed request")
    monkeypatch.setattr(service, "shown_as", no_masking)
    assert feed(client, member, "", COMPACT)["alerts"] == before["alerts"]
    assert feed(client, member)["alerts"][0]["identifiers"][0]["value"] == "077•• •••123"
    monkeypatch.undo()

    # An alert from before the column (or from another region) is masked as it is read.
    set_times(alert_id, shown_identifiers=None)
    assert feed(client, member, "", COMPACT)["alerts"] == before["alerts"]
    app.config["DEFAULT_PHONE_REGION"] = "FR"
    abroad = decode(feed(client, member, "", COMPACT))[0]["identifiers"][0]["value"]
    assert abroad == service.mask("phone", "+44 7700 900123", "FR") != "077•• •••123"
