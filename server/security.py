"""Response headers, token and password hashing, CSRF and other small security primitives."""
import functools
import hashlib
import hmac
import os
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

CSP = ("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; "
       "manifest-src 'self'")


# On every answer, the app's and gunicorn's own (server/serving.py) alike.
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}


def set_security_headers(response):
    response.headers.update(SECURITY_HEADERS)
    from flask import request
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def private_folder(path):
    """Make `path` (and missing parents) a folder only its owner can enter (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def private_file(path, create=False):
    """Make `path` readable and writable by its owner only (0600); with `create`, make
    it empty with that mode first if it is missing (never readable by others, not even
    for a moment)."""
    if create:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.exists():
        os.chmod(path, 0o600)


def new_token(nbytes=32):
    """A random bearer token (256 bits by default), URL-safe."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token):
    """Tokens are stored only as a SHA-256 hash: they are long and random, so no salt or
    slow hash is needed, and a lookup by hash stays an index hit."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=64)
def _purpose_key(secret_key, purpose):
    # Derived once per (secret, purpose), not on every digest: a sync batch asks for one
    # receipt per report.
    return hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()


def keyed_digest(secret_key, purpose, value):
    """HMAC-SHA256 (32 bytes) of value under the app secret, separated by purpose."""
    return hmac.digest(_purpose_key(secret_key, purpose), value.encode("utf-8"), "sha256")


def keyed_digester(secret_key, purpose):
    """keyed_digest() for many values: text -> 32 bytes, the same digests, with the key
    derived once (an export computes one per row)."""
    key = _purpose_key(secret_key, purpose)
    return lambda value: hmac.digest(key, value.encode("utf-8"), "sha256")


def same(a, b):
    return hmac.compare_digest(a, b)


# --- Staff passwords -------------------------------------------------------------------
# argon2id with argon2-cffi's default (RFC 9106 low-memory) parameters. The test suite may
# set PASSWORD_HASH_FAST to use the same algorithm with tiny parameters; it is honoured only
# when TESTING is on, so a deployment can never weaken its hashes by configuration.
_HASHERS = {
    "default": argon2.PasswordHasher(),
    "fast": argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
_DUMMY_HASHES = {}

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024

# Passwords of 12+ characters that appear near the top of every breach list.
COMMON_PASSWORDS = frozenset("""
123456789012 1234567890123 12345678901234 123456789000 111111111111 000000000000
123123123123 121212121212 987654321098 098765432109 112233445566 147258369147
password1234 password12345 password123456 passwordpassword password1! password!234
qwertyuiopas qwertyuiop12 qwertyuiop123 qwerty123456 qwertyqwerty 1qaz2wsx3edc
1q2w3e4r5t6y 1q2w3e4r5t6y7u qazwsxedcrfv asdfghjkl123 zxcvbnm12345 abcdefghijkl
abcd1234abcd abc123abc123 iloveyou1234 iloveyouiloveyou letmein12345 welcome12345
welcome123456 administrator admin1234567 admin12345678 changeme1234 changemenow!
trustno11234 monkey123456 dragon123456 football1234 baseball1234 sunshine1234
princess1234 superman1234 starwars1234 liverpool123 chelsea12345 arsenal12345
manchester12 michael12345 jennifer1234 computer1234 internet1234 whatever1234
secret123456 mypassword12 mypassword123 passw0rd1234 p@ssw0rd1234 p@ssword1234
letmeinplease correcthorsebatterystaple 1234567890qwerty qwerty1234567890
""".split())


def _hasher():
    from flask import current_app, has_app_context
    fast = (has_app_context() and current_app.testing
            and current_app.config.get("PASSWORD_HASH_FAST"))
    return _HASHERS["fast" if fast else "default"], "fast" if fast else "default"


def password_problem(password, username=None):
    """Why this password is not good enough for a staff account, or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Use at least {PASSWORD_MIN_LENGTH} characters."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Use at most {PASSWORD_MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 5:
        return "This password is too common or too simple; choose another."
    if username and lowered == username.lower():
        return "The password must not be the username."
    return None


def hash_password(password):
    hasher, _ = _hasher()
    return hasher.hash(password)


def verify_password(password_hash, password):
    """True when the password matches. With password_hash None (an unknown user) it still
    runs one full argon2 verification, so the answer takes as long as for a real user."""
    hasher, name = _hasher()
    # Made on the first login a process sees, whoever it is for, so that one extra hash
    # does not single out the first unknown name either.
    if name not in _DUMMY_HASHES:
        _DUMMY_HASHES[name] = hasher.hash(new_token())
    if password_hash is None:
        password_hash = _DUMMY_HASHES[name]  # of a random token: never matches
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- CSRF ------------------------------------------------------------------------------
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_csrf_token():
    return new_token(32)


def csrf_ok(expected, given):
    """The session's CSRF token came back in the X-CSRF-Token header."""
    if not expected or not given:
        return False
    return same(expected.encode("utf-8"), given.encode("utf-8"))
