"""The SMS sender: claims due texts, hands them to the gateway, records what happened.

    claim up to SMS_CONCURRENCY due texts (one committed UPDATE: a lease)
    -> hand them to the gateway at once, one thread each (gateway.send)
    -> record every outcome (one commit) -> the next round

Claims are leases, as in the push sender (server/push/sender.py): claiming moves a
row's next_attempt_at to the end of the lease; on PostgreSQL rows are picked with
FOR UPDATE SKIP LOCKED, so senders running at once never claim the same row. Every
request has a timeout well inside the lease, so a live sender records a round before
anyone else could claim its rows again.

The window, exactly: outcomes are committed after every round. A sender killed in the
middle of a round leaves at most SMS_CONCURRENCY texts that the gateway may have taken
but that are not recorded; they are sent again when the lease runs out. A text is
never lost: an unrecorded text stays queued.
"""
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..accounts.models import Member
from ..alerts import service as alerts
from ..alerts.models import Alert, alert_area
from ..areas.models import Area
from ..extensions import db
from ..push.service import aware
from ..reports.models import utcnow
from . import texts
from .gateway import GatewayError, gateway_for
from .models import SmsAlert, SmsDelivery, SmsMember, sms_member_area
from .service import decrypt

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
    """Claim up to `limit` due texts for `lease_seconds`; returns their ids. Commits."""
    d = DELIVERY
    due = sa.select(d.c.id).where(d.c.status == "queued", d.c.next_attempt_at <= now)
    # A read first: an idle sender polling every second takes no write lock.
    if session.execute(due.limit(1)).first() is None:
        session.rollback()
        return []
    due = due.order_by(d.c.next_attempt_at, d.c.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [row[0] for row in session.execute(
        d.update().where(d.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + timedelta(seconds=lease_seconds))
        .returning(d.c.id))]
    session.commit()
    return ids


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
    refs = dict(session.execute(
        sa.select(SmsAlert.alert_id, SmsAlert.id).where(SmsAlert.alert_id.in_(alert_ids))).all())
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
                job.text = texts.alert_text(row.language, row.style, project, refs[alert.id],
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
    if alert is None or alert.published_at is None:
        return "failed", "alert not published"
    if alert.retracted_at is not None:
        return "failed", "alert retracted"
    if alert.expires_at is not None and aware(alert.expires_at) <= now:
        return "failed", "alert expired"
    return None


def retry_or_fail(job, now, error, base_seconds, max_attempts):
    attempts = job.attempts + 1
    if attempts >= max_attempts:
        return Outcome(job.delivery_id, "failed", now, error[:200])
    delay = min(base_seconds * 2 ** (attempts - 1), MAX_RETRY_SECONDS)
    return Outcome(job.delivery_id, "queued", now + timedelta(seconds=delay), error[:200])


# --- The sender ---------------------------------------------------------------------------

class Sender:
    def __init__(self, app, gateway=None, clock=utcnow, **overrides):
        """`overrides`: concurrency, lease_seconds, poll_seconds (else SMS_* settings)."""
        config = app.config
        self.app = app
        self.clock = clock
        self.gateway = gateway or gateway_for(config)
        if self.gateway is None:
            raise ValueError("No SMS gateway: set SMS_GATEWAY (see the README).")
        self.concurrency = overrides.get("concurrency") or config["SMS_CONCURRENCY"]
        self.lease = overrides.get("lease_seconds") or config["SMS_LEASE_SECONDS"]
        self.poll = overrides.get("poll_seconds") or config["SMS_POLL_SECONDS"]
        self.max_attempts = config["SMS_MAX_ATTEMPTS"]
        self.retry_base = config["SMS_RETRY_BASE_SECONDS"]
        self.project = config["SMS_PROJECT_NAME"]
        self.totals = dict.fromkeys(("sent", "retry", "gone", "failed"), 0)

    def run_once(self):
        """Send every text that is due now, then return the totals."""
        return self.run_forever(stop=None)

    def run_forever(self, stop=None):
        """Send texts as they become due until `stop` (a threading.Event) is set; with
        stop None, only until nothing is due."""
        with self.app.app_context(), ThreadPoolExecutor(self.concurrency) as pool:
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
                stop.wait(self.poll)
        return dict(self.totals)

    def round(self, pool):
        """Claim, send and record one round. False when nothing was due."""
        ids = claim_due(db.session, self.clock(), self.concurrency, self.lease)
        if not ids:
            return False
        jobs = load_jobs(db.session, ids, self.clock(), self.project)
        outcomes = list(pool.map(self.attempt, jobs))
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
