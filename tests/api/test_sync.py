"""POST /api/v1/sync: a device's outbox in one request; each item stands alone."""
import fcntl
import logging
import os
import stat
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.identifiers.models import Identifier
from server.reports import service
from server.reports.models import Report
from server.reports.schemas import SyncResponseSchema

from factories import make_member, new_report, row_count, stored_reports

URL = "/api/v1/sync"
ROOT = Path(__file__).resolve().parents[2]


def sync(client, items, **kwargs):
    return client.post(URL, json={"reports": items}, **kwargs)


def test_a_mixed_batch_gets_one_result_per_item_in_order(client, areas):
    stored = new_report()
    first_receipt = client.post("/api/v1/reports", json=stored).get_json()["receipt"]
    fresh, later = new_report(), new_report(part_of_day="evening")
    items = [
        fresh,                                                     # created
        stored,                                                    # duplicate
        new_report(description=""),                                # invalid
        dict(stored, description="Another story under the same id"),  # conflict
        new_report(id="not-a-uuid"),                               # malformed id
        {"description": "no id at all"},                           # no id
        "not even an object",                                      # not an object
        fresh,                                                     # repeated in the batch
        later,                                                     # created
    ]
    response = sync(client, items)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["id"], r["result"], r["retryable"]) for r in results] == [
        (fresh["id"], "created", False),
        (stored["id"], "duplicate", False),
        (items[2]["id"], "invalid", False),
        (stored["id"], "conflict", False),
        ("not-a-uuid", "invalid", False),
        (None, "invalid", False),
        (None, "invalid", False),
        (fresh["id"], "duplicate", False),
        (later["id"], "created", False),
    ]
    assert results[1]["receipt"] == first_receipt
    assert results[0]["receipt"] == results[7]["receipt"] == service.receipt_for(fresh["id"])
    assert "receipt" not in results[3] and "receipt" not in results[2]
    # Field-level errors, as POST /reports gives them.
    assert set(results[2]["errors"]) == {"description"}
    assert set(results[4]["errors"]) == {"id"}
    assert {"id", "area", "occurred_on", "incident_types"} <= set(results[5]["errors"])
    assert results[6]["errors"]
    assert results[3]["errors"]
    assert results[0]["errors"] == {}
    # Stored: the earlier report, unchanged, and the two new ones.
    db.session.expire_all()
    rows = {str(r.id): r for r in stored_reports()}
    assert set(rows) == {stored["id"], fresh["id"], later["id"]}
    assert rows[stored["id"]].description == stored["description"]
    assert rows[later["id"]].part_of_day == "evening"


def test_a_synced_receipt_opens_the_status(client, areas):
    report = new_report()
    [result] = sync(client, [report]).get_json()["results"]
    response = client.get(f"/api/v1/reports/{report['id']}/status",
                          headers={"X-Receipt": result["receipt"]})
    assert response.status_code == 200
    assert response.get_json()["status"] == "received"


def test_a_full_outbox_of_100_is_one_request(client, areas):
    items = [new_report() for _ in range(100)]
    results = sync(client, items).get_json()["results"]
    assert [r["result"] for r in results] == ["created"] * 100
    assert [r["id"] for r in results] == [i["id"] for i in items]
    assert row_count() == 100


def test_a_batch_is_received_in_its_order(client, areas):
    """The queue lists newest first by received time: a batch's reports keep the order
    the phone sent them, as when each was stored on its own (equal times would sort by
    the random ids)."""
    items = [new_report() for _ in range(30)]
    assert sync(client, items).status_code == 200
    received = dict(db.session.execute(sa.select(Report.id, Report.received_at)).all())
    times = [received[uuid.UUID(item["id"])] for item in items]
    assert times == sorted(times) and len(set(times)) == len(times)


INVALID_ENVELOPES = {
    "missing list": {},
    "list is not a list": {"reports": new_report()},
    "empty list": {"reports": []},
    "over 100 items": {"reports": [new_report() for _ in range(101)]},
    "unknown envelope field": {"reports": [new_report()], "device": "x"},
    "not an object": [new_report()],
}


@pytest.mark.parametrize("body", INVALID_ENVELOPES.values(), ids=INVALID_ENVELOPES.keys())
def test_a_bad_envelope_is_refused_whole(client, areas, body):
    response = client.post(URL, json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]
    assert row_count() == 0


def test_malformed_json_is_refused_whole(client, areas):
    response = client.post(URL, data='{"reports": [', content_type="application/json")
    assert response.status_code == 400
    assert row_count() == 0


def test_a_batch_over_the_size_limit_is_413(app, client, areas):
    big = "x" * 4000
    count = app.config["MAX_CONTENT_LENGTH"] // len(big) + 1
    response = sync(client, [new_report(description=big) for _ in range(min(count, 100))])
    assert count <= 100 and response.status_code == 413
    assert row_count() == 0


@pytest.fixture
def database_refuses(app):
    """A real database failure for one report: a trigger that refuses one description,
    as a full disk or a broken constraint would refuse a row."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("""
            CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.description = 'the database refuses this' THEN
                RAISE EXCEPTION 'refused by test trigger';
              END IF;
              RETURN NEW;
            END $$"""))
        db.session.execute(sa.text(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON report "
            "FOR EACH ROW EXECUTE FUNCTION refuse_one()"))
    else:
        db.session.execute(sa.text("""
            CREATE TRIGGER refuse_one BEFORE INSERT ON report
            WHEN NEW.description = 'the database refuses this'
            BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END"""))
    db.session.commit()
    yield "the database refuses this"
    db.session.rollback()
    db.session.execute(sa.text("DROP TRIGGER refuse_one" + (
        " ON report" if db.engine.dialect.name == "postgresql" else "")))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("DROP FUNCTION refuse_one()"))
    db.session.commit()


def test_a_failing_item_is_retryable_and_the_rest_go_on(app, client, areas, database_refuses,
                                                        caplog, monkeypatch):
    # Alembic's fileConfig() (run by the database fixture) disables loggers made before it.
    monkeypatch.setattr(app.logger, "disabled", False)
    before, failing, after = (new_report(), new_report(description=database_refuses),
                              new_report())
    with caplog.at_level(logging.ERROR):
        results = sync(client, [before, failing, after]).get_json()["results"]
    assert [(r["id"], r["result"], r["retryable"]) for r in results] == [
        (before["id"], "created", False),
        (failing["id"], "error", True),
        (after["id"], "created", False),
    ]
    assert "receipt" not in results[1]
    assert {str(r.id) for r in stored_reports()} == {before["id"], after["id"]}
    # The log names the report's id, never its content.
    assert failing["id"] in caplog.text
    assert database_refuses not in caplog.text


@pytest.mark.parametrize("stage", ["phone", "receipt_for", "content_hash"])
def test_an_item_failing_in_a_batch_wide_stage_sinks_only_itself(client, areas, monkeypatch,
                                                                  stage):
    """The batch reads its phone numbers, receipts and content hashes in runs over every
    item: one item that fails there is answered alone, the others are stored."""
    from server.identifiers import normalise
    failing = new_report(offender={"phones": ["07700 900999"]})
    real = {"phone": normalise.read_phone, "receipt_for": service.receipt_for,
            "content_hash": service.content_hash}[stage]

    def breaks_on_the_failing_item(value, *args):
        if str(value) in ("07700 900999", failing["id"]) or (
                isinstance(value, dict) and str(value.get("id")) == failing["id"]):
            raise RuntimeError("broken for this item")
        return real(value, *args)
    if stage == "phone":
        monkeypatch.setattr(normalise, "read_phone", breaks_on_the_failing_item)
    else:
        monkeypatch.setattr(service, stage, breaks_on_the_failing_item)
    before, after = new_report(), new_report()
    results = sync(client, [before, failing, after]).get_json()["results"]
    assert [(r["id"], r["result"], r["retryable"]) for r in results] == [
        (before["id"], "created", False),
        (failing["id"], "error", True),
        (after["id"], "created", False),
    ]
    assert {str(r.id) for r in stored_reports()} == {before["id"], after["id"]}


def test_an_item_whose_values_fail_to_convert_is_stored_on_its_own(client, areas, monkeypatch):
    """The batch converts its rows for the driver before it takes the writer's lock; an
    item that fails there sends the batch down the item-by-item path, where every item,
    that one too, is stored once with its identifiers."""
    failing = new_report(offender={"phones": ["07700 900999"]})
    real = service._converted

    def breaks_on_the_failing_item(values, processors):
        if str(values[0]) == failing["id"]:
            raise RuntimeError("broken for this item")
        return real(values, processors)
    monkeypatch.setattr(service, "_converted", breaks_on_the_failing_item)
    batch = [new_report(), failing, new_report()]
    results = sync(client, batch).get_json()["results"]
    assert [(r["id"], r["result"]) for r in results] == [(item["id"], "created") for item in batch]
    assert sorted(str(r.id) for r in stored_reports()) == sorted(item["id"] for item in batch)
    assert db.session.execute(sa.select(Identifier.value).where(
        Identifier.report_id == uuid.UUID(failing["id"]))).scalars().all() == ["+447700900999"]


def test_sync_attaches_the_member(client, areas):
    member, headers = make_member()
    results = sync(client, [new_report(), new_report()], headers=headers).get_json()["results"]
    assert [r["result"] for r in results] == ["created", "created"]
    assert {r.member_id for r in stored_reports()} == {member.id}


def test_a_revoked_member_cannot_sync(client, areas):
    _, headers = make_member(revoked=True)
    assert sync(client, [new_report()], headers=headers).status_code == 401
    assert row_count() == 0


@pytest.mark.parametrize("app_config", [{"ANONYMOUS_REPORTS": False}])
def test_members_only_deployment_refuses_anonymous_sync(client, areas):
    assert sync(client, [new_report()]).status_code == 401
    assert row_count() == 0


def test_sync_reports_service_directly(app, areas):
    report = new_report()
    results = service.sync_reports([report, report, {"id": 7}])
    assert [r["result"] for r in results] == ["created", "duplicate", "invalid"]
    assert results[2]["id"] is None  # an id that is not even a string is not echoed
    assert uuid.UUID(results[0]["id"]) == uuid.UUID(report["id"])


@pytest.fixture
def transaction_log(app):
    """What the database was told while a batch ran: each statement, and on SQLite whether
    the driver was still inside a transaction after it (a RELEASE of an outermost
    SAVEPOINT commits on its own, which a count of COMMITs would not see)."""
    log = {"commits": 0, "released_outside": 0, "savepoints": 0}

    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SAVEPOINT"):
            log["savepoints"] += 1
        if statement.startswith("RELEASE") and conn.dialect.name == "sqlite" \
                and not conn.connection.dbapi_connection.in_transaction:
            log["released_outside"] += 1

    def commit(conn):
        log["commits"] += 1

    sa.event.listen(db.engine, "after_cursor_execute", after)
    sa.event.listen(db.engine, "commit", commit)
    yield log
    sa.event.remove(db.engine, "after_cursor_execute", after)
    sa.event.remove(db.engine, "commit", commit)


def test_a_batch_commits_once_and_a_database_failure_sinks_only_its_item(
        app, client, areas, database_refuses, transaction_log, monkeypatch):
    monkeypatch.setattr(app.logger, "disabled", False)
    stored = new_report()
    assert client.post("/api/v1/reports", json=stored).status_code == 201
    transaction_log["commits"] = 0
    items = [new_report() for _ in range(100)]
    items[40] = new_report(description=database_refuses)          # the database refuses it
    items[60] = dict(stored, description="Another story, same id")  # a conflict on the key
    results = sync(client, items).get_json()["results"]
    expected = ["created"] * 100
    expected[40], expected[60] = "error", "conflict"
    assert [r["result"] for r in results] == expected
    assert results[40]["retryable"] and not results[60]["retryable"]
    # 98 new reports and the earlier one, unchanged; the refused one is not there.
    db.session.expire_all()
    rows = {str(r.id): r for r in stored_reports()}
    assert set(rows) == {stored["id"]} | {i["id"] for n, i in enumerate(items) if n not in (40, 60)}
    assert rows[stored["id"]].description == stored["description"]
    # One transaction: one COMMIT for the whole batch, a SAVEPOINT per stored item, and
    # on SQLite no SAVEPOINT that was a transaction (and a commit) of its own.
    assert transaction_log["commits"] == 1
    assert transaction_log["savepoints"] >= 99
    assert transaction_log["released_outside"] == 0


def test_a_batch_resent_after_a_lost_answer_is_all_duplicates(client, areas):
    items = [new_report() for _ in range(30)]
    first = sync(client, items).get_json()["results"]
    again = sync(client, items).get_json()["results"]
    assert [r["result"] for r in again] == ["duplicate"] * 30
    assert [r["receipt"] for r in again] == [r["receipt"] for r in first]
    assert row_count() == 30


def test_stored_ids_are_answered_without_sinking_the_new_ones(client, areas, transaction_log):
    stored = new_report()
    client.post("/api/v1/reports", json=stored)
    transaction_log["commits"] = 0
    first, last = new_report(), new_report()
    items = [first, stored, dict(stored, description="Another story, same id"), last]
    results = sync(client, items).get_json()["results"]
    assert [r["result"] for r in results] == ["created", "duplicate", "conflict", "created"]
    assert results[1]["receipt"] == service.receipt_for(stored["id"])
    assert {str(r.id) for r in stored_reports()} == {stored["id"], first["id"], last["id"]}
    assert transaction_log["commits"] == 1


def test_a_poisoned_item_37_sinks_only_itself_and_a_resend_doubles_nothing(client, areas):
    items = [new_report(offender={"phones": [f"07700 9{n:05d}"]}) for n in range(100)]
    # Item 37: a NUL no engine can store, deep in the offender description.
    items[36] = new_report(offender={"names": ["Da\x00ve"], "phones": ["07700 900036"]})
    body = sync(client, items).get_json()
    # Sent as built, not dumped through the schema: it must be what the schema says.
    assert SyncResponseSchema().validate(body) == {}
    assert SyncResponseSchema().dump(body) == body
    expected = ["created"] * 100
    expected[36] = "invalid"
    assert [r["result"] for r in body["results"]] == expected
    assert set(body["results"][36]["errors"]) == {"offender"}
    stored = {n for n, item in enumerate(items) if n != 36}
    db.session.expire_all()
    assert {str(r.id) for r in stored_reports()} == {items[n]["id"] for n in stored}
    phones = db.session.execute(sa.select(Identifier.report_id, Identifier.value)).all()
    assert sorted(phones) == sorted((uuid.UUID(items[n]["id"]), f"+447700{900000 + n}")
                                    for n in stored)
    # The answer was lost: the phone sends the same batch again. Nothing doubles.
    again = sync(client, items).get_json()["results"]
    expected = ["duplicate"] * 100
    expected[36] = "invalid"
    assert [r["result"] for r in again] == expected
    assert [r.get("receipt") for r in again] == [r.get("receipt") for r in body["results"]]
    assert row_count() == 99
    assert db.session.execute(sa.select(sa.func.count()).select_from(Identifier)).scalar() == 99


def test_a_batch_stores_exactly_what_a_single_post_stores(client, areas):
    """The batch writes through the driver (COPY on PostgreSQL, a raw executemany on
    SQLite): every column must hold what the ORM path of POST /reports stores, down to
    the JSON text the statistics triggers read and the timestamps' form."""
    from factories import full_report
    # What COPY's text format escapes: tabs, backslashes, "\\N" (its NULL), line ends.
    tricky = "Tab\there, back\\slash, \\N as text,\r\nnew line, é, 😀"
    single, batched = (dict(full_report(), description=tricky) for _ in range(2))
    for report in (single, batched):
        report["offender"]["names"].append(tricky)
    assert client.post("/api/v1/reports", json=single).status_code == 201
    assert sync(client, [batched]).get_json()["results"][0]["result"] == "created"
    sqlite = db.engine.dialect.name == "sqlite"
    columns = [c.name for c in service.Report.__table__.columns]
    # SQLite: each value with its storage class; PostgreSQL: each as text.
    read = [f"CAST({c} AS TEXT)" if not sqlite else f"{c} || '/' || typeof({c})"
            for c in columns]
    a, b = ({column: value for column, value in zip(columns, db.session.execute(sa.text(
        f"SELECT {', '.join(read)} FROM report WHERE id = :id"), {"id": uuid.UUID(
            report["id"]).hex if sqlite else uuid.UUID(report["id"])}).one(), strict=True)}
        for report in (single, batched))
    for column in ("id", "receipt_hash", "content_hash", "contact_encrypted"):
        assert a.pop(column) != b.pop(column)
    moments = {c: (a.pop(c), b.pop(c)) for c in ("received_at", "updated_at")}
    assert a == b
    for first, second in moments.values():
        assert first[:10] == second[:10]
        if sqlite:  # text of the same form: 2026-11-30 12:00:00.123456/text
            assert len(first) == len(second)
    # Nothing of the contact details in clear, and both decrypt to what was sent.
    from server.crypto import decrypt_contact
    reports = {str(r.id): r for r in stored_reports()}
    assert [decrypt_contact(reports[r["id"]].contact_encrypted) for r in (single, batched)] \
        == [single["support"]["contact"]] * 2


def test_writers_of_one_process_queue_on_a_lock_not_in_sqlites_busy_handler(app, areas):
    """SQLite: a batch waits for the process's writer lock (and starts as soon as it is
    free) instead of sleep-polling SQLite's lock; PostgreSQL never takes it."""
    import threading
    done = []

    def send():
        with app.app_context():
            done.append(app.test_client().post(URL, json={"reports": [new_report()]}))
    with service._SQLITE_WRITER:
        sender = threading.Thread(target=send)
        sender.start()
        sender.join(timeout=1.0)
        waited = sender.is_alive()
    sender.join(timeout=20)
    assert [r.get_json()["results"][0]["result"] for r in done] == ["created"]
    assert waited == (db.engine.dialect.name == "sqlite")


# A process of its own that sends what it is given through the app on the same database:
# one sync batch, then single POSTs. Prints the outcomes as JSON.
WRITER_PROCESS = """
import json, sys
sys.path[:0] = [".", "tests"]
from server import create_app
url, secret, batch, singles = sys.argv[1], sys.argv[2], *json.loads(sys.argv[3])
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret})
client = app.test_client()
print("ready", flush=True)
outcomes = [r["result"] for r in client.post("/api/v1/sync", json={"reports": batch})
            .get_json()["results"]]
outcomes += [client.post("/api/v1/reports", json=report).status_code for report in singles]
print(json.dumps(outcomes), flush=True)
"""


def _flock_waiters(path):
    """How many processes wait for an flock of the file at `path` (Linux /proc/locks:
    a waiter's line reads "N: -> FLOCK ADVISORY WRITE pid mm:mm:inode 0 EOF")."""
    inode = f":{os.stat(path).st_ino} "
    with open("/proc/locks") as locks:
        return sum(1 for line in locks if " -> FLOCK" in line and inode in line)


def test_two_processes_write_at_once_and_queue_on_the_writer_lock(app, areas):
    """Two processes send a batch and single reports at the same moment: every report is
    stored once and answered created. On SQLite they queue on the flock beside the
    database (not in SQLite's sleeping busy handler): while another process holds it,
    both wait for it and nothing of theirs is stored; released, both go on."""
    import json
    import subprocess
    import sys
    url = db.engine.url.render_as_string(hide_password=False)
    sent = [([new_report() for _ in range(20)], [new_report() for _ in range(3)])
            for _ in range(2)]
    path = service.writer_lock_path(db.engine.url.database) \
        if db.engine.dialect.name == "sqlite" else None
    held = None
    if path is not None:
        held = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(held, fcntl.LOCK_EX)
    try:
        writers = [subprocess.Popen(
            [sys.executable, "-c", WRITER_PROCESS, url, app.config["SECRET_KEY"],
             json.dumps(reports)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
            for reports in sent]
        for writer in writers:
            assert writer.stdout.readline().strip() == "ready"
        if path is not None:
            deadline = time.monotonic() + 60
            while _flock_waiters(path) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _flock_waiters(path) == 2
            assert row_count() == 0
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    finally:
        if held is not None:
            fcntl.flock(held, fcntl.LOCK_UN)
            os.close(held)
    # The rest of each one's output through the same reader that read "ready" (which
    # may hold it already), not communicate(): that reads the pipe beneath it.
    outcomes = [json.loads(writer.stdout.read()) for writer in writers]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    assert outcomes == [["created"] * 20 + [201] * 3] * 2
    db.session.remove()
    ids = {report["id"] for batch, singles in sent for report in batch + singles}
    assert {str(report.id) for report in stored_reports()} == ids
    assert row_count() == len(ids) == 46
