"""Login throttling that slows guessing and never lets a stranger lock a staff member out.

After OWASP's authentication guidance: failures are counted per account *and* address, the
wait grows with the guessing, and an account under attack is flagged in the audit log, but
no counter that a stranger can fill from elsewhere ever refuses the account's owner.

Three counters, in the rate-limit store (`RATELIMIT_STORAGE_URI`: one process's memory, or
Redis shared by every worker and host), moving windows, keyed by keyed hashes only:

- `LOGIN_RATE_LIMIT`: attempts from one address at any account (a spray over many names);
- `LOGIN_ACCOUNT_ADDRESS_LIMIT`: attempts at one account from one address, a ladder
  ("5 per minute;10 per 10 minutes;20 per hour"): the refusals last longer as guessing goes
  on. A successful login clears it;
- `LOGIN_ATTACK_THRESHOLD`: failures at one existing account from every address. Crossing it
  writes one `login_under_attack` audit event per hour; it refuses nothing.

When the shared store does not answer (refused, or no answer within RATELIMIT_STORAGE_TIMEOUT),
each process counts in its own memory until it does (limits are then per process), asks the
store again every RATELIMIT_STORAGE_RETRY seconds, and logs that once when it starts and once
when the store answers again.

Past a refusing limit an attempt is still checked when it carries a second-factor code: the
right password with the right code gets in, so a stranger who shares the address (a drop-in's
Wi-Fi) or floods it cannot lock out a staff member with a second factor. Anything else is a 429
whatever the password, so a refusal tells a guesser nothing. The code is checked first (an
HMAC), so refused guesses cost no argon2 work.
"""
import logging
import threading
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ..crypto import decrypt_text
from ..extensions import client_key, limiter
from ..security import keyed_digest, verify_password
from . import service

log = logging.getLogger(__name__)
# Used only while the shared store is unreachable (as Flask-Limiter does for its own limits).
_fallback = MovingWindowRateLimiter(MemoryStorage())


class _StoreState:
    """Whether this process is counting login attempts in memory because the shared store
    did not answer, and when to ask it again.

    While it is down the store is asked again once every RATELIMIT_STORAGE_RETRY seconds
    (by one attempt; the others meanwhile count in memory), not on every call: a login asks
    3 to 6 times, and each ask of a store that does not answer costs its timeout. Flask-
    Limiter does the same for its own limits (it pings the store after 1, 2, 4 ... 32 s).
    The log says so once when it starts and once when the store answers again, not on
    every attempt."""

    def __init__(self):
        self._lock = threading.Lock()
        self.down = None      # the storage that did not answer, while it does not
        self.retry_at = 0.0   # time.monotonic() when it is asked again

    def should_ask(self, storage, retry):
        """Whether to ask `storage` now: yes unless it is the one known down and its retry
        is not due. A due retry is claimed, so one attempt asks and the others do not."""
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
            log.warning("rate-limit storage unreachable (%s: %s); counting login attempts in "
                        "this process's memory until it answers", type(error).__name__, error)

    def answered(self, storage):
        if self.down is None:  # the usual case: no lock taken
            return
        with self._lock:
            known, self.down = self.down is storage, None
        if known:  # (not when another app's store answers: a test's earlier app)
            log.warning("rate-limit storage answers again; counting login attempts in it")


_store = _StoreState()


class LoginThrottled(Exception):
    """Refused before the password was looked at; retry_after: seconds until a retry can pass."""

    def __init__(self, retry_after):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Key:
    name: str       # the normalised username (an unknown one too: a 429 must not tell)
    address: str    # client_key(): a keyed hash of the address

    def digest(self, purpose, *parts):
        value = "\0".join(parts)
        return keyed_digest(current_app.config["SECRET_KEY"], purpose, value).hex()[:32]


def _strategy(storage):
    # The configured store itself, not Flask-Limiter's `limiter.limiter`: that one turns to
    # Flask-Limiter's own memory while its checks of other routes find the store dead, and
    # an answer from there would pass for the store's.
    return MovingWindowRateLimiter(storage)


def _run(method, item, *identifiers):
    config = current_app.config
    prefix = config.get("RATELIMIT_KEY_PREFIX") or "redflag"
    storage, retry = limiter.storage, config["RATELIMIT_STORAGE_RETRY"]
    if not _store.should_ask(storage, retry):  # known down: memory until the retry is due
        return getattr(_fallback, method)(item, prefix, *identifiers)
    try:
        # (a store that does not answer raises within RATELIMIT_STORAGE_TIMEOUT)
        result = getattr(_strategy(storage), method)(item, prefix, *identifiers)
    except Exception as error:  # the shared store is down: count in this process until it is back
        _store.failed(storage, error, retry)
        return getattr(_fallback, method)(item, prefix, *identifiers)
    _store.answered(storage)
    return result


def _take(limits, *identifiers):
    """Hit each limit of a limits string ("5 per minute;20 per hour"), shortest window
    first; -> the seconds to wait when one is full (the longer ones are then not counted),
    else 0."""
    for item in sorted(parse_many(limits)):
        if not _run("hit", item, *identifiers):
            stats = _run("get_window_stats", item, *identifiers)
            return max(1, int(stats.reset_time - time.time()) + 1)
    return 0


def _clear(limits, *identifiers):
    for item in parse_many(limits):
        _run("clear", item, *identifiers)


def login(username, password, otp=None):
    """Authenticate a staff login attempt under the throttles; -> Staff.

    Raises service.LoginFailed (401: wrong credentials, or a code is needed) or
    LoginThrottled (429, with retry_after seconds)."""
    key = _Key(service.normalise_username(username), client_key())
    pair = key.digest("login-pair", key.name, key.address)
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return service.authenticate(key.name, password, otp)
    wait = _take(config["LOGIN_RATE_LIMIT"], "login-address", key.address) or \
        _take(config["LOGIN_ACCOUNT_ADDRESS_LIMIT"], "login-pair", pair)
    try:
        if wait:
            staff = _past_the_limit(key.name, password, otp)
            if staff is None:
                raise LoginThrottled(wait)
        else:
            staff = service.authenticate(key.name, password, otp)
    except (service.LoginFailed, LoginThrottled) as failure:
        if not getattr(failure, "otp_required", False):
            _count_failure(key)
        raise
    _clear(config["LOGIN_ACCOUNT_ADDRESS_LIMIT"], "login-pair", pair)
    return staff


def _past_the_limit(name, password, otp):
    """The staff member when the password AND a fresh second-factor code are right, else None.
    The code first: a guess without the code costs an HMAC, not an argon2 hash."""
    staff = service.get_staff(name)
    if not otp or staff is None or not staff.active or not staff.totp_secret:
        return None
    secret = decrypt_text(staff.totp_secret)
    if not service.totp_matches(secret, otp) or not verify_password(staff.password_hash, password):
        return None
    if not service.accept_totp(staff, secret, otp):  # claims the step: no replay
        return None
    return staff


def _count_failure(key):
    """Count a failure against the account from every address; the first crossing of
    LOGIN_ATTACK_THRESHOLD in an hour writes a `login_under_attack` audit event."""
    staff = service.get_staff(key.name)
    if staff is None:
        return
    account = key.digest("login-account", key.name)
    if _take(current_app.config["LOGIN_ATTACK_THRESHOLD"], "login-account", account) and \
            not _take("1 per hour", "login-alert", account):
        service.record(None, "login_under_attack", "staff", staff.id)
        service.db.session.commit()
