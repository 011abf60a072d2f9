"""What to do with a delivery: whether it may still go out, and what an answer from the
push service (or its absence) means for it. Pure functions of a Job and the time."""
import email.utils
from datetime import timedelta

from ..alerts.service import undeliverable
from .queue import Outcome

MAX_RETRY_SECONDS = 3600
MAX_RETRY_AFTER_SECONDS = 6 * 3600


def unsendable(job, now):
    """(status, reason) when this delivery must not go out any more, or None."""
    if job.subscription_id is None:
        return "gone", "subscription gone"
    reason = undeliverable(job.alert, now)
    return ("failed", reason) if reason else None


def retry_or_fail(job, now, error, base_seconds, max_attempts, attempted=True):
    """Queued again after base * 2**(attempts - 1) seconds (at most an hour), or failed
    once it has had max_attempts."""
    attempts = job.attempts + (1 if attempted else 0)
    if attempts >= max_attempts:
        return Outcome(job.delivery_id, "failed", now, error[:200], attempted)
    delay = min(base_seconds * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    return Outcome(job.delivery_id, "queued", now + timedelta(seconds=delay), error[:200],
                   attempted)


def retry_after(value, now, default=60):
    """The moment Retry-After (seconds or an HTTP date) names; a missing or silly value
    gets `default` seconds; 1 s to 6 h."""
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


def answered(job, now, status, headers, body, base_seconds, max_attempts):
    """The Outcome of the push service's answer. A 429's Outcome is queued until its
    Retry-After (the sender holds back that whole push service until then)."""
    if 200 <= status < 300:
        return Outcome(job.delivery_id, "sent", now, None, sent_at=now)
    if status in (404, 410):
        return Outcome(job.delivery_id, "gone", now, f"HTTP {status}",
                       subscription_id=job.subscription_id)
    if status == 429:
        until = retry_after(headers.get("retry-after"), now)
        if job.attempts + 1 >= max_attempts:
            return Outcome(job.delivery_id, "failed", now, "HTTP 429")
        return Outcome(job.delivery_id, "queued", until, "HTTP 429")
    reason = " ".join(body.decode("utf-8", "replace").split())[:120]
    return retry_or_fail(job, now, f"HTTP {status}" + (f": {reason}" if reason else ""),
                         base_seconds, max_attempts)
