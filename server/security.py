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

# --- Response headers: each where a browser reads it -------------------------------------
# A policy header does something only on the kind of answer its specification reads it
# from; on the others it is bytes on a slow phone's link (~380 of them, on each of the
# ~15 files of the first open). So each kind of answer carries the headers that act on it:
#
# - Content-Security-Policy: read from the response of a document or of a worker's script
#   (CSP3 §4.2 "Integration with HTML": a policy belongs to a Document or a
#   WorkerGlobalScope; HTML "create a policy container from a fetch response"). A script,
#   style, image or JSON fetched by a page runs under the page's policy, not its own.
# - X-Frame-Options: read only on a navigation response into a frame (HTML "check a
#   navigation response's adherence to `X-Frame-Options`"), and ignored there when the
#   CSP has frame-ancestors.
# - Cross-Origin-Opener-Policy: read only on a top-level document's navigation response
#   (HTML "obtain a cross-origin opener policy").
# - Permissions-Policy: read from a document's navigation response (Permissions Policy
#   §"Integration with HTML"); a worker takes none of its own.
# - Referrer-Policy: a document's or a worker's policy comes from its own response
#   (Referrer Policy §4.1, HTML "create a policy container from a fetch response"); on any
#   other answer it is read only when it is a redirect (Fetch "HTTP-redirect fetch"), and
#   no answer of this app redirects.
# - Cross-Origin-Resource-Policy: checked on "no-cors" requests from another origin, e.g.
#   an <img> or <script> pointing at us (Fetch "cross-origin resource policy check"). It
#   keeps an answer that depends on who asks out of another site's process; the app's own
#   files are public and the same for everyone, so on them it guards nothing.
# - X-Content-Type-Options: nosniff: a script or style whose Content-Type is not one is
#   refused (Fetch "should response to request be blocked due to nosniff?"), and
#   opaque-response blocking trusts the declared type: every answer.
NOSNIFF = {"X-Content-Type-Options": "nosniff"}

# Documents: every HTML answer (the app's screens, the printable staff pages, their error
# pages) and a screen's 304 (which has no Content-Type).
DOCUMENT_HEADERS = {
    "Content-Security-Policy": CSP,
    **NOSNIFF,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}

# The service worker's script: a worker's CSP (what it may fetch, connect-src 'self') and
# referrer policy come from its own script's response, never from a page's (Service
# Workers "Update": its policy container is made from the script's response).
WORKER_HEADERS = {"Content-Security-Policy": CSP, **NOSNIFF, "Referrer-Policy": "no-referrer"}

# The app's own files (scripts, styles, catalogues, icons, the manifest): public, the same
# for everyone, run or read under the page's or the worker's policy.
FILE_HEADERS = dict(NOSNIFF)

# Every other answer: the API's JSON (and CSV), every JSON error, /healthz, gunicorn's own
# error answers (server/serving.py). The app reads them with fetch(), where none of the
# document headers is read. One becomes a document only when someone opens or frames its
# URL; it is then shown as text (application/json with nosniff is never parsed as HTML:
# no script runs, nothing loads), so script and style directives, COOP,
# Permissions-Policy and Referrer-Policy have nothing to act on. Two things remain, and
# these answers carry staff data: being framed by another site, where its text can be
# dragged out (the "drag-and-drop" clickjacking for which OWASP's REST Security Cheat
# Sheet asks frame-ancestors 'none' on every API answer; CSP3 frame-ancestors is read
# from a navigation response, and supersedes X-Frame-Options), and being loaded by
# another origin's <img>/<script> with the staff cookie (SameSite=Strict keeps it off
# cross-site requests, not off a sibling subdomain's): Cross-Origin-Resource-Policy.
API_HEADERS = {"Content-Security-Policy": "frame-ancestors 'none'", **NOSNIFF,
               "Cross-Origin-Resource-Policy": "same-origin"}

# The web blueprint (server/web.py): the endpoints that send the app's files and its
# worker; every other endpoint of it sends a screen (the shell page).
FILE_ENDPOINTS = frozenset({"web.static", "web.manifest"})
WORKER_ENDPOINT = "web.service_worker"


def headers_for(request, response):
    """The security headers of this answer to `request` (see above)."""
    if response.mimetype == "text/html":
        return DOCUMENT_HEADERS
    if request.endpoint == WORKER_ENDPOINT:
        return WORKER_HEADERS
    if request.endpoint in FILE_ENDPOINTS:
        return FILE_HEADERS
    if request.blueprint == "web":
        return DOCUMENT_HEADERS
    return API_HEADERS


def set_security_headers(response):
    from flask import request
    response.headers.update(headers_for(request, response))
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
