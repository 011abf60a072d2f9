"""The push sender: claims due deliveries, encrypts and sends them, records what happened.

    claim a batch -> encrypt and send it, 32 requests in flight over kept-alive
    connections (client.py) -> record the results every 0.2 s -> claim the next batch

Claims are leases. Claiming a delivery moves its next_attempt_at to the end of the lease
(PUSH_LEASE_SECONDS) in one committed UPDATE; on PostgreSQL the rows are picked with
FOR UPDATE SKIP LOCKED, so senders running at once never claim the same row. A sender
starts no request after its lease is (nearly) over, and every request has a timeout, so
a live sender has recorded every result before anyone else could claim the row again.
A sender that dies loses its claims when the lease runs out; they are then sent again.

The window, honestly: results are written every FLUSH_SECONDS (0.2 s). If a sender is
killed, the messages it had in flight (at most PUSH_CONCURRENCY) and those answered in
its last 0.2 s are sent again after the lease, though the push service may have taken
them already: a device may then receive one alert twice (at full speed, 2,000 a second,
that is up to about 430 messages across all devices, once per crash). The Topic header
(the alert id) lets the push service replace a copy still waiting, and the
notification's tag (the alert id) makes a repeat replace the notification rather than
add one. Nothing is lost: an unrecorded delivery stays queued.
"""
import asyncio
import email.utils
import fcntl
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from pywebpush import WebPusher

from ..alerts.models import Alert
from ..areas.models import Area
from ..extensions import db
from ..reports.models import utcnow
from . import endpoints
from .client import ProtocolError, PushClient
from .models import Delivery, Subscription
from .service import aware, delete_subscriptions
from .settings import allow_local_endpoints, allowed_push_hosts, setting
from .vapid import AuthorizationCache, load_key, origin_of

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.2
FLUSH_SIZE = 1000
MAX_RETRY_SECONDS = 3600
MAX_RETRY_AFTER_SECONDS = 6 * 3600
DELIVERY = Delivery.__table__


@dataclass
class Job:
    """What one claimed delivery needs to be sent."""
    delivery_id: int
    attempts: int
    subscription_id: object
    endpoint: str
    p256dh: str
    auth: str
    alert: "AlertInfo"
    area: str


@dataclass
class AlertInfo:
    id: object
    severity: str
    published_at: datetime
    retracted_at: datetime
    expires_at: datetime


def payload(alert, area):
    # Small on purpose: the device picks the words and fetches the alert when tapped.
    return json.dumps({"alert": str(alert.id), "area": area, "severity": alert.severity},
                      separators=(",", ":")).encode()


@dataclass
class Outcome:
    delivery_id: int
    status: str                   # queued (retry, or released unsent) | sent | gone | failed
    next_attempt_at: datetime = None
    error: str = None
    attempted: bool = True        # a request went out (counts as an attempt)
    subscription_id: object = None
    sent_at: datetime = None


# --- Claiming and recording: short transactions, each committed --------------------------

def claim_statement(dialect, now, limit, lease_seconds):
    """UPDATE ... RETURNING id that claims up to `limit` due deliveries for a lease."""
    d = DELIVERY
    due = (sa.select(d.c.id)
           .where(d.c.status == "queued", d.c.next_attempt_at <= now)
           .order_by(d.c.next_attempt_at, d.c.id)
           .limit(limit))
    if dialect == "postgresql":
        # Rows another sender is claiming right now are skipped, not waited for.
        due = due.with_for_update(skip_locked=True)
    # On SQLite the one UPDATE statement is atomic: a writer holds the database lock.
    return (d.update().where(d.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + timedelta(seconds=lease_seconds))
            .returning(d.c.id))


def claim_due(session, now, limit, lease_seconds):
    """Claim up to `limit` due deliveries for `lease_seconds`; returns their ids."""
    d = DELIVERY
    # A read first: an idle sender polling every second takes no write lock.
    if session.execute(sa.select(d.c.id).where(d.c.status == "queued",
                                               d.c.next_attempt_at <= now).limit(1)).first() is None:
        session.rollback()
        return []
    claim = claim_statement(session.get_bind().dialect.name, now, limit, lease_seconds)
    ids = [row[0] for row in session.execute(claim)]
    session.commit()
    return ids


def load_jobs(session, ids):
    d = DELIVERY
    rows = session.execute(
        sa.select(d.c.id, d.c.attempts, d.c.subscription_id, Subscription.endpoint,
                  Subscription.p256dh, Subscription.auth, d.c.alert_id, d.c.area_id)
        .select_from(d)
        .outerjoin(Subscription, Subscription.id == d.c.subscription_id)
        .where(d.c.id.in_(ids))
        .order_by(d.c.id)).all()
    # Alerts and areas are few per batch (usually one alert): fetched once each.
    alerts = {row.id: AlertInfo(*row) for row in session.execute(
        sa.select(Alert.id, Alert.severity, Alert.published_at, Alert.retracted_at,
                  Alert.expires_at).where(Alert.id.in_({row[6] for row in rows})))}
    areas = dict(session.execute(
        sa.select(Area.id, Area.slug).where(Area.id.in_({row[7] for row in rows}))).all())
    session.commit()
    return [Job(id_, attempts, subscription_id, endpoint, p256dh, auth, alerts[alert_id],
                areas.get(area_id, ""))
            for id_, attempts, subscription_id, endpoint, p256dh, auth, alert_id, area_id
            in rows]


def record(session, outcomes):
    """Write a group of outcomes in one transaction."""
    if not outcomes:
        return
    d = DELIVERY
    sent = [o for o in outcomes if o.status == "sent"]
    others = [o for o in outcomes if o.status != "sent"]
    if sent:
        # The common case in one statement; sent_at is the group's last (they are at most
        # FLUSH_SECONDS apart).
        session.execute(
            d.update().where(d.c.id.in_([o.delivery_id for o in sent]))
            .values(status="sent", sent_at=max(o.sent_at for o in sent), last_error=None,
                    attempts=d.c.attempts + 1))
    if others:
        update = (d.update().where(d.c.id == sa.bindparam("b_id"))
                  .values(status=sa.bindparam("b_status"),
                          next_attempt_at=sa.bindparam("b_next"),
                          last_error=sa.bindparam("b_error"),
                          attempts=d.c.attempts + sa.bindparam("b_inc", type_=sa.Integer)))
        session.execute(update, [
            {"b_id": o.delivery_id, "b_status": o.status, "b_next": o.next_attempt_at,
             "b_error": o.error, "b_inc": 1 if o.attempted else 0}
            for o in others])
    # 404 / 410: the push service says the subscription is gone for good.
    gone = sorted({o.subscription_id for o in outcomes
                   if o.status == "gone" and o.subscription_id is not None}, key=str)
    delete_subscriptions(gone, "subscription gone")
    session.commit()


# --- Deciding what a response means -------------------------------------------------------

def retry_or_fail(job, now, error, base_seconds, max_attempts, attempted=True):
    attempts = job.attempts + (1 if attempted else 0)
    if attempts >= max_attempts:
        return Outcome(job.delivery_id, "failed", now, error[:200], attempted)
    delay = min(base_seconds * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    return Outcome(job.delivery_id, "queued", now + timedelta(seconds=delay), error[:200], attempted)


def retry_after(value, now, default=60):
    """Retry-After as seconds or an HTTP date; a missing or silly value gets `default`."""
    seconds = default
    if value:
        value = value.strip()
        if value.isdigit():
            seconds = int(value)
        else:
            try:
                seconds = (email.utils.parsedate_to_datetime(value) - now).total_seconds()
            except (TypeError, ValueError):
                seconds = default
    seconds = min(max(seconds, 1), MAX_RETRY_AFTER_SECONDS)
    return now + timedelta(seconds=seconds)


def unsendable(job, now):
    """Why this delivery must not go out any more, or None."""
    alert = job.alert
    if job.subscription_id is None:
        return "gone", "subscription gone"
    if alert.published_at is None:
        return "failed", "alert not published"
    if alert.retracted_at is not None:
        return "failed", "alert retracted"
    if alert.expires_at is not None and aware(alert.expires_at) <= now:
        return "failed", "alert expired"
    return None


# --- The sender ---------------------------------------------------------------------------

class Sender:
    def __init__(self, app, clock=utcnow, **overrides):
        self.app = app
        self.clock = clock
        get = lambda name: overrides.get(name.lower(), setting(name, app))  # noqa: E731
        self.concurrency = get("PUSH_CONCURRENCY")
        self.batch_size = get("PUSH_BATCH_SIZE")
        self.lease = get("PUSH_LEASE_SECONDS")
        self.timeout = min(get("PUSH_TIMEOUT_SECONDS"), self.lease / 3)
        self.ttl = get("PUSH_TTL_SECONDS")
        self.max_attempts = get("PUSH_MAX_ATTEMPTS")
        self.retry_base = get("PUSH_RETRY_BASE_SECONDS")
        self.poll = get("PUSH_POLL_SECONDS")
        self.allow_local = allow_local_endpoints(app)
        self.allowed_hosts = allowed_push_hosts(app)
        self.vapid = load_key(app.config["VAPID_PRIVATE_KEY_FILE"])
        self.authorization = AuthorizationCache(self.vapid, app.config["VAPID_SUBJECT"],
                                                clock=lambda: self.clock().timestamp())
        # Origin -> time before which we send it nothing (after its 429).
        self.backoff = {}
        self.totals = dict.fromkeys(("sent", "gone", "retry", "failed"), 0)
        self._pending = []
        self._payloads = {}

    # Entry points ----------------------------------------------------------------------

    def run_once(self):
        """Send every delivery that is due now, then return the totals."""
        return self._blocking(stop=None, forever=False)

    def run_forever(self, stop=None):
        """Send deliveries as they become due until `stop` (a threading.Event) is set."""
        return self._blocking(stop=stop or threading.Event(), forever=True)

    def _blocking(self, stop, forever):
        def run():
            with self.app.app_context():
                asyncio.run(self._run(stop=stop, forever=forever))
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            run()  # the usual case: no event loop in this thread
        else:
            # Called from code that has an event loop running in this thread (a test
            # driving a browser, say): asyncio.run() needs a thread of its own.
            failure = []
            thread = threading.Thread(target=lambda: _capture(run, failure))
            thread.start()
            thread.join()
            if failure:
                raise failure[0]
        return dict(self.totals)

    # The loop --------------------------------------------------------------------------

    async def _run(self, stop, forever):
        http = PushClient(limit=self.concurrency, timeout=self.timeout)
        try:
            while not (stop and stop.is_set()):
                try:
                    ids = claim_due(db.session, self.clock(), self.batch_size, self.lease)
                    if ids:
                        await self._send_batch(http, ids)
                        continue
                except Exception:
                    if not forever:
                        raise
                    # The database restarting, say: what was claimed waits for its lease.
                    log.exception("push: sender error; trying again in 5 s")
                    db.session.remove()
                    await self._pause(stop, 5)
                    continue
                if not forever:
                    break
                db.session.remove()  # hold no connection (or SQLite snapshot) while idle
                await self._pause(stop, self.poll)
        finally:
            await http.close()

    @staticmethod
    async def _pause(stop, seconds):
        waited = 0.0
        while waited < seconds and not stop.is_set():
            await asyncio.sleep(0.1)
            waited += 0.1

    async def _send_batch(self, http, ids):
        # No request starts after this point, and each has a timeout: every result is
        # written before the lease could run out and the row be claimed by someone else.
        last_start = time.monotonic() + self.lease - self.timeout - 2 * FLUSH_SECONDS - 1
        jobs = iter(load_jobs(db.session, ids))
        self._payloads = {}

        async def lane():
            # `concurrency` lanes share one iterator, so each job is taken exactly once
            # and at most `concurrency` requests are in flight.
            for job in jobs:
                self._done(await self._attempt(http, job, last_start))

        flusher = asyncio.create_task(self._flush_every(FLUSH_SECONDS))
        try:
            await asyncio.gather(*(lane() for _ in range(min(self.concurrency, len(ids)))))
        finally:
            flusher.cancel()
            self._flush()

    async def _flush_every(self, seconds):
        while True:
            await asyncio.sleep(seconds)
            self._flush()

    def _flush(self):
        pending, self._pending = self._pending, []
        record(db.session, pending)
        for outcome in pending:
            key = "retry" if outcome.status == "queued" and outcome.attempted else outcome.status
            if key in self.totals:
                self.totals[key] += 1
        if pending:
            log.info("push: %s", ", ".join(f"{k} {v}" for k, v in self.totals.items()))

    def _done(self, outcome):
        self._pending.append(outcome)
        if len(self._pending) >= FLUSH_SIZE:
            self._flush()

    async def _attempt(self, http, job, last_start):
        now = self.clock()
        if time.monotonic() > last_start:
            # Too late in the lease to start: unclaim it for the next batch.
            return Outcome(job.delivery_id, "queued", now, None, attempted=False)
        stop = unsendable(job, now)
        if stop:
            status, reason = stop
            return Outcome(job.delivery_id, status, now, reason, attempted=False)
        # Checked again at send time: the rules or the row may have changed since the
        # member subscribed. Names are checked by the connector's resolver as it connects.
        refused = endpoints.refusal(job.endpoint, self.allow_local, self.allowed_hosts)
        if refused:
            return Outcome(job.delivery_id, "failed", now, refused, attempted=False)
        origin = origin_of(job.endpoint)
        not_before = self.backoff.get(origin)
        if not_before and not_before > now:
            return Outcome(job.delivery_id, "queued", not_before, "HTTP 429", attempted=False)
        try:
            body, headers = self._request(job, origin, now)
            status, answer, text = await http.post(job.endpoint, headers, body)
        except TimeoutError:
            return self._retry(job, "timeout")
        except (OSError, ProtocolError) as error:
            return self._retry(job, f"network: {type(error).__name__}")
        except Exception as error:  # a bad key, say: keep the sender going, record why
            log.warning("push: delivery %s: %s", job.delivery_id, type(error).__name__)
            return self._retry(job, f"error: {type(error).__name__}")
        now = self.clock()
        if 200 <= status < 300:
            return Outcome(job.delivery_id, "sent", now, None, sent_at=now)
        if status in (404, 410):
            return Outcome(job.delivery_id, "gone", now, f"HTTP {status}",
                           subscription_id=job.subscription_id)
        if status == 429:
            until = retry_after(answer.get("retry-after"), now)
            self.backoff[origin] = max(until, self.backoff.get(origin, until))
            if job.attempts + 1 >= self.max_attempts:
                return Outcome(job.delivery_id, "failed", now, "HTTP 429")
            return Outcome(job.delivery_id, "queued", until, "HTTP 429")
        reason = " ".join(text.decode("utf-8", "replace").split())[:120]
        return self._retry(job, f"HTTP {status}" + (f": {reason}" if reason else ""))

    def _retry(self, job, error):
        return retry_or_fail(job, self.clock(), error, self.retry_base, self.max_attempts)

    def _request(self, job, origin, now):
        alert = job.alert
        key = (alert.id, job.area)
        data = self._payloads.get(key)
        if data is None:
            data = self._payloads[key] = payload(alert, job.area)
        info = {"endpoint": job.endpoint, "keys": {"p256dh": job.p256dh, "auth": job.auth}}
        body = WebPusher(info).encode(data, "aes128gcm")["body"]
        ttl = self.ttl
        if alert.expires_at is not None:
            ttl = max(0, min(ttl, int((aware(alert.expires_at) - now).total_seconds())))
        headers = {
            "Authorization": self.authorization.header(origin),
            "TTL": str(ttl),
            "Urgency": "high" if alert.severity == "dangerous" else "normal",
            # The alert id (32 hex characters): a newer copy replaces one still waiting.
            "Topic": alert.id.hex,
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
        }
        return body, headers


def _capture(fn, failure):
    try:
        fn()
    except BaseException as error:  # handed back to the calling thread
        failure.append(error)


# --- Running inside the web server (`make run`) -----------------------------------------

_in_process = {}


def start_in_process(app):
    """Start a sender thread in this web-server process when PUSH_WORKER_IN_PROCESS is on.

    Every gunicorn worker calls this; a lock file lets exactly one of them send at a
    time. The others keep trying the lock, so if that worker dies or is recycled,
    another takes over (its claims expire after the lease and are sent again)."""
    if not app.config.get("PUSH_WORKER_IN_PROCESS") or "thread" in _in_process:
        return None
    lock_path = Path(app.config["VAPID_PRIVATE_KEY_FILE"]).with_name("push-sender.lock")
    stop = threading.Event()

    def run():
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as lock:
            while not stop.is_set():
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    stop.wait(5)
                    continue
                log.info("push: sender running in this web-server process")
                try:
                    Sender(app).run_forever(stop)
                except Exception:
                    log.exception("push: in-process sender stopped; restarting in 5 s")
                    stop.wait(5)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    thread = threading.Thread(target=run, name="push-sender", daemon=True)
    _in_process.update(thread=thread, stop=stop)
    thread.start()
    return thread


def stop_in_process(timeout=10):
    """Stop the in-process sender after the batch in hand (gunicorn's worker_exit)."""
    if "thread" in _in_process:
        _in_process["stop"].set()
        _in_process.pop("thread").join(timeout)
