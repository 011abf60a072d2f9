"""A sender killed part-way loses nothing; senders running at once never send one
delivery twice."""
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.clock import utcnow
from server.extensions import db
from server.push.models import Delivery
from server.push.queue import claim_jobs, claim_statement

from .conftest import Device, publish_alert, run_sender, subscribe, worker

LEASE = 120


def count(status):
    db.session.commit()  # a new transaction sees the other process's commits
    return db.session.query(Delivery).filter_by(status=status).count()


def wait_for(condition, process, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            pytest.fail("the worker exited: " + process.stdout.read().decode())
        if time.monotonic() > deadline:
            pytest.fail("gave up waiting")
        time.sleep(0.05)


def test_killed_sender_resumes_with_every_delivery_made_once(app, areas, member, vapid_key,
                                                             endpoint):
    for n in range(60):
        subscribe(member, Device(endpoint.url(n)), ["hackney"])
    alert, _ = publish_alert(["hackney"])
    # The push service accepts 20 messages, then stops answering.
    endpoint.hold_after(20)
    process = worker(app, PUSH_LEASE_SECONDS=LEASE)
    try:
        wait_for(lambda: count("sent") == 20, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    # The requests it had in flight die with it, unanswered: never accepted.
    endpoint.release(drop=True)
    assert len(endpoint.accepted) == 20 and count("queued") == 40

    # Its claims hold until its lease runs out: a sender started now sends nothing twice.
    assert run_sender(app)["sent"] == 0
    assert len(endpoint.accepted) == 20
    # After the lease, a restarted sender sends the rest.
    later = utcnow() + timedelta(seconds=LEASE + 1)
    assert run_sender(app, clock=lambda: later)["sent"] == 40
    assert Counter(endpoint.accepted) == {f"/push/{n}": 1 for n in range(60)}
    assert count("sent") == 60


# SKIP LOCKED is PostgreSQL's: this test is not collected for SQLite (tests/conftest.py).
@pytest.mark.postgresql_only
def test_claims_skip_rows_another_sender_is_claiming(app, areas, member):
    for n in range(30):
        subscribe(member, Device(f"https://push.example.net/{n}"), ["hackney"])
    publish_alert(["hackney"])
    now = utcnow()
    with db.engine.connect() as first:
        # The first sender's claim, not yet committed: its rows are locked.
        mine = set(first.execute(claim_statement("postgresql", now, 10, LEASE)).scalars())
        # A second sender neither waits for them nor takes them.
        db.session.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
        theirs = {job.delivery_id for job in claim_jobs(db.session, now, 100, LEASE)}
        first.commit()
    assert len(mine) == 10 and len(theirs) == 20 and not mine & theirs
    # Everything is claimed now (leased): a third sender gets nothing.
    assert claim_jobs(db.session, now, 100, LEASE) == []


def test_two_senders_at_once_send_each_delivery_once(app, areas, member, vapid_key, endpoint):
    for n in range(120):
        subscribe(member, Device(endpoint.url(n)), ["hackney"])
    publish_alert(["hackney"])
    # One sender has at most 5 requests in flight (batch 5); the endpoint holds every
    # request until 6 wait at once, which proves both senders are sending together.
    endpoint.gate(6)
    endpoint.delay = 0.005
    senders = [worker(app, "--once", PUSH_BATCH_SIZE=5) for _ in range(2)]
    for process in senders:
        assert process.wait(120) == 0, process.stdout.read().decode()
    assert endpoint.most_waiting >= 6
    assert Counter(endpoint.accepted) == {f"/push/{n}": 1 for n in range(120)}
    assert count("sent") == 120
