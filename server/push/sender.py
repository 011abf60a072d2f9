"""The push sender: claims due deliveries, encrypts and sends them, records what happened.

    wait for a wake-up (wake.py) -> claim a batch (queue.py) -> encrypt (message.py) and
    send it, 32 requests in flight (client.py) -> what each answer means (policy.py)
    -> record the results every 0.2 s (queue.py) -> claim the next batch

A sender starts no request after its lease is (nearly) over, and every request has a
timeout, so a live sender has recorded every result before anyone else could claim the
row again. Senders may run at once, in several processes or machines (queue.py).

The window, honestly: results are written every FLUSH_SECONDS (0.2 s). If a sender is
killed, the messages it had in flight (at most PUSH_CONCURRENCY) and those answered in
its last 0.2 s are sent again after the lease, though the push service may have taken
them already: a device may then receive one alert twice (at full speed, some thousands
a second, that is up to about a thousand messages across all devices, once per crash).
The Topic header (the alert id) lets the push service replace a copy still waiting, and
the notification's tag (the alert id) makes a repeat replace the notification rather
than add one. Nothing is lost: an unrecorded delivery stays queued.
"""
import asyncio
import contextlib
import logging
import threading
import time

from ..clock import utcnow
from ..extensions import db
from . import endpoints, message, policy
from .client import ProtocolError, PushClient, origin
from .endpoints import allow_local_endpoints, allowed_push_hosts
from .queue import Outcome, claim_jobs, next_due, record
from .vapid import AuthorizationCache, load_key
from .wake import Wakeup

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.2
FLUSH_SIZE = 1000


class Sender:
    def __init__(self, app, clock=utcnow, **overrides):
        """overrides: lower-case push settings (push_batch_size=...) over app.config."""
        self.app = app
        self.clock = clock
        get = lambda name: overrides.get(name.lower(), app.config[name])  # noqa: E731
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

    # Entry points (each runs an event loop of its own in the calling thread) -----------

    def run_once(self):
        """Send every delivery that is due now, then return the totals."""
        with self.app.app_context():
            asyncio.run(self._run(stop=None, forever=False))
        return dict(self.totals)

    def run_forever(self, stop=None):
        """Send deliveries as they are queued or fall due, until `stop` (a
        threading.Event) is set; then return the totals."""
        with self.app.app_context():
            asyncio.run(self._run(stop=stop or threading.Event(), forever=True))
        return dict(self.totals)

    # The loop --------------------------------------------------------------------------

    async def _run(self, stop, forever):
        async with contextlib.AsyncExitStack() as stack:
            # Names resolve through the guard: the addresses checked are those connected to.
            http = PushClient(limit=self.concurrency, timeout=self.timeout,
                              resolver=endpoints.GuardedResolver(self.allow_local))
            stack.push_async_callback(http.close)
            wakeup = await stack.enter_async_context(Wakeup(db.engine)) if forever else None
            while not (stop and stop.is_set()):
                if wakeup:
                    wakeup.clear()  # before looking: a wake-up from now on is kept
                try:
                    jobs = claim_jobs(db.session, self.clock(), self.batch_size, self.lease)
                    if jobs:
                        await self._send_batch(http, jobs)
                        continue
                    if not forever:
                        break
                    due = next_due(db.session)
                except Exception:
                    if not forever:
                        raise
                    # The database restarting, say: what was claimed waits for its lease.
                    log.exception("push: sender error; trying again in 5 s")
                    db.session.remove()
                    await self._idle(wakeup, stop, 5)
                    continue
                db.session.remove()  # hold no connection (or SQLite snapshot) while idle
                seconds = self.poll
                if due is not None:
                    # A retry or an expired lease falls due before the next poll.
                    seconds = min(seconds, max((due - self.clock()).total_seconds(), 0.1))
                await self._idle(wakeup, stop, seconds)

    @staticmethod
    async def _idle(wakeup, stop, seconds):
        """Until a wake-up, `stop` (looked at every 0.25 s) or `seconds` have passed."""
        end = time.monotonic() + seconds
        while not stop.is_set() and (left := end - time.monotonic()) > 0:
            if await wakeup.wait(min(left, 0.25)):
                return

    async def _send_batch(self, http, claimed):
        # No request starts after this point, and each has a timeout: every result is
        # written before the lease could run out and the row be claimed by someone else.
        last_start = time.monotonic() + self.lease - self.timeout - 2 * FLUSH_SECONDS - 1
        jobs = iter(claimed)
        self._payloads = {}

        async def lane():
            # `concurrency` lanes share one iterator, so each job is taken exactly once
            # and at most `concurrency` requests are in flight.
            for job in jobs:
                self._done(await self._attempt(http, job, last_start))

        flusher = asyncio.create_task(self._flush_every(FLUSH_SECONDS))
        try:
            await asyncio.gather(*(lane() for _ in range(min(self.concurrency, len(claimed)))))
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
        """Send one Job; its Outcome."""
        now = self.clock()
        if time.monotonic() > last_start:
            # Too late in the lease to start: unclaim it for the next batch.
            return Outcome(job.delivery_id, "queued", now, None, attempted=False)
        stop = policy.unsendable(job, now)
        if stop:
            status, reason = stop
            return Outcome(job.delivery_id, status, now, reason, attempted=False)
        # Checked again at send time: the rules or the row may have changed since the
        # member subscribed. Names are checked by the connector's resolver as it connects.
        refused = endpoints.refusal(job.endpoint, self.allow_local, self.allowed_hosts)
        if refused:
            return Outcome(job.delivery_id, "failed", now, refused, attempted=False)
        try:
            where = origin(job.endpoint)
            not_before = self.backoff.get(where)
            if not_before and not_before > now:
                return Outcome(job.delivery_id, "queued", not_before, "HTTP 429", attempted=False)
            data = self._payloads.get((job.alert.id, job.area))
            if data is None:
                data = self._payloads[job.alert.id, job.area] = message.payload(job.alert, job.area)
            body, headers = message.request(job, data, now, self.authorization.header(where),
                                            self.ttl)
            status, answer, text = await http.post(job.endpoint, headers, body)
        except endpoints.EndpointRefused as refused:  # the name resolved to inside addresses
            return Outcome(job.delivery_id, "failed", self.clock(), refused.code)
        except TimeoutError:
            return self._retry(job, "timeout")
        except (OSError, ProtocolError) as error:
            return self._retry(job, f"network: {type(error).__name__}")
        except Exception as error:  # a bad key or URL, say: keep the sender going, record why
            log.warning("push: delivery %s: %s", job.delivery_id, type(error).__name__)
            return self._retry(job, f"error: {type(error).__name__}")
        now = self.clock()
        if status == 429:
            until = policy.retry_after(answer.get("retry-after"), now)
            self.backoff[where] = max(until, self.backoff.get(where, until))
        return policy.answered(job, now, status, answer, text, self.retry_base,
                               self.max_attempts)

    def _retry(self, job, error):
        return policy.retry_or_fail(job, self.clock(), error, self.retry_base,
                                    self.max_attempts)
