"""Counting in the rate-limit store outside Flask-Limiter's route decorators (the staff
login throttle, the limits on text messages), with the same fallback as its own limits:
when the shared store (`RATELIMIT_STORAGE_URI`, Redis for several workers or hosts) does
not answer, each process counts in its own memory until it does, so a dead or hung Redis
slows nothing and refuses nothing that memory would allow.
"""
import logging
import threading
import time

from flask import current_app
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from .extensions import limiter

log = logging.getLogger(__name__)
# Used only while the shared store is unreachable (as Flask-Limiter does for its own limits).
_fallback = MovingWindowRateLimiter(MemoryStorage())


class _StoreState:
    """Whether this process is counting in memory because the shared store did not
    answer, and when to ask it again.

    While it is down the store is asked again once every RATELIMIT_STORAGE_RETRY seconds
    (by one caller; the others meanwhile count in memory), not on every call: a login asks
    3 to 6 times, and each ask of a store that does not answer costs its timeout. Flask-
    Limiter does the same for its own limits (it pings the store after 1, 2, 4 ... 32 s).
    The log says so once when it starts and once when the store answers again, not on
    every call."""

    def __init__(self):
        self._lock = threading.Lock()
        self.down = None      # the storage that did not answer, while it does not
        self.retry_at = 0.0   # time.monotonic() when it is asked again

    def should_ask(self, storage, retry):
        """Whether to ask `storage` now: yes unless it is the one known down and its retry
        is not due. A due retry is claimed, so one caller asks and the others do not."""
        if self.down is not storage:  # the usual case (or another app's store): no lock
            return True
        with self._lock:
            now = time.monotonic()
            if self.down is storage and now < self.retry_at:
                return False
            self.retry_at = now + retry
            return True

    def failed(self, storage, error, retry):
        with self._lock:
            known = self.down is storage
            self.down = storage
            self.retry_at = time.monotonic() + retry
        if not known:
            log.warning("rate-limit storage unreachable (%s: %s); counting in this process's "
                        "memory until it answers", type(error).__name__, error)

    def answered(self, storage):
        if self.down is None:  # the usual case: no lock taken
            return
        with self._lock:
            known, self.down = self.down is storage, None
        if known:  # (not when another app's store answers: a test's earlier app)
            log.warning("rate-limit storage answers again; counting in it")


_store = _StoreState()


def counted(method, item, *identifiers):
    """limits' moving-window `method` ("hit", "test", "get_window_stats", "clear") of the
    limit `item` (a limits.RateLimitItem) for these identifiers (strings), in the
    configured store, or in this process's memory while that does not answer (a store
    that does not answer raises within RATELIMIT_STORAGE_TIMEOUT). Returns what `method`
    returns."""
    config = current_app.config
    prefix = config.get("RATELIMIT_KEY_PREFIX") or "redflag"
    storage, retry = limiter.storage, config["RATELIMIT_STORAGE_RETRY"]
    if not _store.should_ask(storage, retry):  # known down: memory until the retry is due
        return getattr(_fallback, method)(item, prefix, *identifiers)
    try:
        # The configured store itself, not Flask-Limiter's `limiter.limiter`: that one turns
        # to Flask-Limiter's own memory while its checks of other routes find the store
        # dead, and an answer from there would pass for the store's.
        result = getattr(MovingWindowRateLimiter(storage), method)(item, prefix, *identifiers)
    except Exception as error:  # the shared store is down: count in this process until it is back
        _store.failed(storage, error, retry)
        return getattr(_fallback, method)(item, prefix, *identifiers)
    _store.answered(storage)
    return result
