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
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse_many

from .. import ratelimits
from ..crypto import decrypt_text
from ..extensions import client_key
from ..security import keyed_digest, verify_password
from . import service


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


def _take(limits, *identifiers):
    """Hit each limit of a limits string ("5 per minute;20 per hour"), shortest window
    first; -> the seconds to wait when one is full (the longer ones are then not counted),
    else 0."""
    for item in sorted(parse_many(limits)):
        if not ratelimits.counted("hit", item, *identifiers):
            stats = ratelimits.counted("get_window_stats", item, *identifiers)
            return max(1, int(stats.reset_time - time.time()) + 1)
    return 0


def _clear(limits, *identifiers):
    for item in parse_many(limits):
        ratelimits.counted("clear", item, *identifiers)


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
