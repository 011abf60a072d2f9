"""The SMS sender: claims due texts, hands them to the gateway, records what happened.

    claim up to SMS_BATCH_SIZE due texts (one committed UPDATE: a lease)
    -> write each in its member's language
    -> hand SMS_RECORD_EVERY of them to the gateway (gateway.send; SMS_CONCURRENCY at once)
    -> record their outcomes (one commit) -> the next SMS_RECORD_EVERY ... -> next batch

Claims are leases, with the push queue's claim (server/push/queue.py) on this table:
claiming moves a row's next_attempt_at to the end of the lease; on PostgreSQL rows are
picked with FOR UPDATE SKIP LOCKED, so senders running at once never claim the same row. Every
request has a timeout well inside the lease, so a live sender records a round before
anyone else could claim its rows again.

The window, exactly: outcomes are committed every SMS_RECORD_EVERY texts (8). A sender
killed in between leaves at most that many texts that the gateway may have taken but
that are not recorded; they are sent again when the lease runs out. A text is never
lost: an unrecorded text stays queued.

One text at a time (SMS_CONCURRENCY 1) is the default because Kannel answers that way
fastest: measured here, sendsms takes about 0.3 ms a request one after another, and
about 40 ms a round when 8 requests arrive at once.
"""
import fcntl
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..accounts.models import Member
from ..alerts import service as alerts
from ..alerts.models import Alert, alert_area
from ..areas.models import Area
from ..clock import utcnow
from ..extensions import db
from ..push import queue
from ..push.wake import SyncWakeup
from . import texts
from .gateway import GatewayError, gateway_for
from .models import SmsDelivery, SmsMember, sms_member_area
from .service import CHANNEL, decrypt

log = logging.getLogger(__name__)

MAX_RETRY_SECONDS = 3600
DELIVERY = SmsDelivery.__table__


@dataclass
class Job:
    """One claimed text: where it goes and what it says, or why it must not go."""
    delivery_id: int
    attempts: int
    to: str = None
    text: str = None
    stop: tuple = None            # (status, reason) when it must not be sent


@dataclass
class Outcome:
    delivery_id: int
    status: str                   # queued (retry) | sent | gone | failed
    next_attempt_at: datetime
    error: str = None
    attempted: bool = True
    sent_at: datetime = None
    segments: int = None


# --- Claiming and recording ---------------------------------------------------------------

def claim_due(session, now, limit, lease_seconds):
    """Claim up to `limit` due texts for `lease_seconds` (the push queue's claim, on this
    table); returns their ids. Commits."""
    return queue.claim_due(session, now, limit, lease_seconds, table=DELIVERY)


def record(session, outcomes):
    """Write a round's outcomes in one transaction. A text that is done (sent, gone,
    failed) loses its stored reply text and number."""
    if not outcomes:
        return
    d = DELIVERY
    done = sa.case((sa.bindparam("b_status") == "queued", d.c.text_encrypted), else_=None)
    done_to = sa.case((sa.bindparam("b_status") == "queued", d.c.to_encrypted), else_=None)
    session.execute(
        d.update().where(d.c.id == sa.bindparam("b_id")).values(
            status=sa.bindparam("b_status"), next_attempt_at=sa.bindparam("b_next"),
            last_error=sa.bindparam("b_error"), sent_at=sa.bindparam("b_sent"),
            segments=sa.func.coalesce(sa.bindparam("b_segments", type_=sa.Integer), d.c.segments),
            attempts=d.c.attempts + sa.bindparam("b_inc", type_=sa.Integer),
            text_encrypted=done, to_encrypted=done_to),
        [{"b_id": o.delivery_id, "b_status": o.status, "b_next": o.next_attempt_at,
          "b_error": o.error, "b_sent": o.sent_at, "b_segments": o.segments,
          "b_inc": 1 if o.attempted else 0} for o in outcomes])
    session.commit()


# --- What each claimed text says ----------------------------------------------------------

def load_jobs(session, ids, now, project):
    """Jobs for claimed ids: alert texts are written here, in each member's language."""
    d = DELIVERY
    rows = session.execute(
        sa.select(d.c.id, d.c.kind, d.c.attempts, d.c.alert_id, d.c.sms_member_id,
                  d.c.text_encrypted, d.c.to_encrypted, SmsMember.number_encrypted,
                  SmsMember.language, SmsMember.style, SmsMember.stopped_at,
                  Member.revoked_at)
        .select_from(d)
        .outerjoin(SmsMember, SmsMember.id == d.c.sms_member_id)
        .outerjoin(Member, Member.id == SmsMember.member_id)
        .where(d.c.id.in_(ids)).order_by(d.c.id)).all()
    alert_ids = {row.alert_id for row in rows if row.alert_id is not None}
    found = {alert.id: alert for alert in session.execute(
        sa.select(Alert).options(selectinload(Alert.areas))
        .where(Alert.id.in_(alert_ids))).scalars()}
    # The areas of each alert that each member chose: their text names those.
    matched = {}
    member_ids = {row.sms_member_id for row in rows if row.kind == "alert"}
    for member_id, alert_id, name in session.execute(
            sa.select(sms_member_area.c.sms_member_id, alert_area.c.alert_id, Area.name)
            .join(alert_area, alert_area.c.area_id == sms_member_area.c.area_id)
            .join(Area, Area.id == alert_area.c.area_id)
            .where(sms_member_area.c.sms_member_id.in_(member_ids),
                   alert_area.c.alert_id.in_(alert_ids))
            .order_by(Area.name)):
        matched.setdefault((member_id, alert_id), []).append(name)
    shown = {alert_id: alerts.member_identifiers(alert) for alert_id, alert in found.items()}
    jobs = []
    for row in rows:
        job = Job(row.id, row.attempts)
        if row.kind == "reply":
            encrypted_to = row.to_encrypted or row.number_encrypted
            if encrypted_to is None or row.text_encrypted is None:
                job.stop = ("gone", "no number")
            else:
                job.to, job.text = decrypt(encrypted_to), decrypt(row.text_encrypted)
        else:
            alert = found.get(row.alert_id)
            job.stop = _unsendable(row, alert, now)
            if job.stop is None:
                names = matched.get((row.sms_member_id, alert.id)) or alerts_area_names(alert)
                identifiers, withheld = shown[alert.id]
                job.to = decrypt(row.number_encrypted)
                job.text = texts.alert_text(row.language, row.style, project, alert.number,
                                            alert, names, identifiers, withheld)
        jobs.append(job)
    session.commit()
    return jobs


def alerts_area_names(alert):
    return [area.name for area in alert.areas]


def _unsendable(row, alert, now):
    """Why this alert text must not go out any more, or None."""
    if row.sms_member_id is None or row.number_encrypted is None or row.revoked_at is not None:
        return "gone", "member gone"
    if row.stopped_at is not None:
        return "gone", "member sent STOP"
    reason = alerts.undeliverable(alert, now)
    return ("failed", reason) if reason else None


def retry_or_fail(job, now, error, base_seconds, max_attempts):
    attempts = job.attempts + 1
    if attempts >= max_attempts:
        return Outcome(job.delivery_id, "failed", now, error[:200])
    delay = min(base_seconds * 2 ** (attempts - 1), MAX_RETRY_SECONDS)
    return Outcome(job.delivery_id, "queued", now + timedelta(seconds=delay), error[:200])


# --- The sender ---------------------------------------------------------------------------

class Sender:
    def __init__(self, app, gateway=None, clock=utcnow, **overrides):
        """`overrides`: concurrency, batch_size, record_every, lease_seconds, poll_seconds
        (else the SMS_* settings)."""
        config = app.config
        self.app = app
        self.clock = clock
        self.gateway = gateway or gateway_for(config)
        if self.gateway is None:
            raise ValueError("No SMS gateway: set SMS_GATEWAY (see the README).")
        self.concurrency = overrides.get("concurrency") or config["SMS_CONCURRENCY"]
        self.batch_size = overrides.get("batch_size") or config["SMS_BATCH_SIZE"]
        self.record_every = overrides.get("record_every") or config["SMS_RECORD_EVERY"]
        self.lease = overrides.get("lease_seconds") or config["SMS_LEASE_SECONDS"]
        self.poll = overrides.get("poll_seconds") or config["SMS_POLL_SECONDS"]
        # A request never outlasts a third of the lease (the gateway is told so too).
        self.timeout = min(config["SMS_TIMEOUT_SECONDS"], self.lease / 3)
        if hasattr(self.gateway, "timeout"):
            self.gateway.timeout = self.timeout
        self.max_attempts = config["SMS_MAX_ATTEMPTS"]
        self.retry_base = config["SMS_RETRY_BASE_SECONDS"]
        self.project = config["SMS_PROJECT_NAME"]
        self.totals = dict.fromkeys(("sent", "retry", "gone", "failed"), 0)

    def run_once(self):
        """Send every text that is due now, then return the totals."""
        return self.run_forever(stop=None)

    def run_forever(self, stop=None):
        """Send texts as they become due until `stop` (a threading.Event) is set; with
        stop None, only until nothing is due. Publishing (or a reply) wakes it at once;
        SMS_POLL_SECONDS is the fallback."""
        with self.app.app_context(), ThreadPoolExecutor(self.concurrency) as pool, \
                SyncWakeup(db.engine, CHANNEL) as wakeup:
            while not (stop and stop.is_set()):
                try:
                    if self.round(pool):
                        continue
                except Exception:
                    if stop is None:
                        raise
                    # The database restarting, say: what was claimed waits for its lease.
                    log.exception("sms: sender error; trying again in 5 s")
                    db.session.rollback()
                    stop.wait(5)
                    continue
                if stop is None:
                    break
                db.session.remove()  # hold no connection (or SQLite snapshot) while idle
                # Woken by a publish, or after the poll; in slices, so a stop is seen soon.
                until = time.monotonic() + self.poll
                while not stop.is_set() and (left := until - time.monotonic()) > 0:
                    if wakeup.wait(min(left, 0.5)):
                        break
        return dict(self.totals)

    def round(self, pool):
        """Claim a batch, then hand it over and record it, SMS_RECORD_EVERY texts at a
        time. False when nothing was due."""
        claimed_at = time.monotonic()
        ids = claim_due(db.session, self.clock(), self.batch_size, self.lease)
        if not ids:
            return False
        # No text starts after this, and each has a timeout: every outcome is recorded
        # before the lease could run out and another sender claim the row.
        last_start = claimed_at + self.lease - self.timeout * 2
        jobs = load_jobs(db.session, ids, self.clock(), self.project)
        for at in range(0, len(jobs), self.record_every):
            group = jobs[at:at + self.record_every]
            if at and time.monotonic() > last_start:  # late in the lease: unclaim the rest
                now = self.clock()
                outcomes = [Outcome(job.delivery_id, "queued", now, attempted=False)
                            for job in jobs[at:]]
                record(db.session, outcomes)
                break
            outcomes = list(pool.map(self.attempt, group))
            record(db.session, outcomes)
            for outcome in outcomes:
                key = "retry" if outcome.status == "queued" else outcome.status
                self.totals[key] += 1
        log.info("sms: %s", ", ".join(f"{k} {v}" for k, v in self.totals.items()))
        return True

    def attempt(self, job):
        """Hand one text to the gateway (runs in a pool thread: no database here)."""
        now = self.clock()
        if job.stop:
            status, reason = job.stop
            return Outcome(job.delivery_id, status, now, reason, attempted=False)
        try:
            self.gateway.send(job.to, job.text, str(job.delivery_id))
        except GatewayError as error:
            return retry_or_fail(job, self.clock(), str(error), self.retry_base,
                                 self.max_attempts)
        except Exception as error:  # a bug or a bad setting: keep going, record why
            log.warning("sms: text %s: %s", job.delivery_id, type(error).__name__)
            return retry_or_fail(job, self.clock(), f"error: {type(error).__name__}",
                                 self.retry_base, self.max_attempts)
        now = self.clock()
        return Outcome(job.delivery_id, "sent", now, sent_at=now,
                       segments=texts.segments(job.text)[1])


def run_in_thread(app, stop, **overrides):
    """A sender in a thread of this process (tests, `make run`): returns the thread."""
    thread = threading.Thread(target=lambda: Sender(app, **overrides).run_forever(stop),
                              name="sms-sender", daemon=True)
    thread.start()
    return thread


# --- Running inside the web server (`make run`) -----------------------------------------

_in_process = {}


def start_in_process(app, lock_path):
    """With SMS_GATEWAY set and SMS_WORKER_IN_PROCESS on (`make run`), run a sender thread
    in this web-server process. Every gunicorn worker calls this; a lock file lets one of
    them send at a time, and another takes over if it dies. Production runs
    `flask sms worker`. Returns the thread, or None."""
    if (not app.config.get("SMS_GATEWAY") or not app.config.get("SMS_WORKER_IN_PROCESS")
            or "thread" in _in_process):
        return None
    stop = threading.Event()

    def run():
        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as lock:
            while not stop.is_set():
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    stop.wait(5)
                    continue
                try:
                    Sender(app).run_forever(stop)
                except Exception:
                    log.exception("sms: in-process sender stopped; restarting in 5 s")
                    stop.wait(5)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    thread = threading.Thread(target=run, name="sms-sender", daemon=True)
    _in_process.update(thread=thread, stop=stop)
    thread.start()
    return thread


def stop_in_process(timeout=10):
    if "thread" in _in_process:
        _in_process["stop"].set()
        _in_process.pop("thread").join(timeout)
