"""The VAPID key pair that identifies this server to push services (RFC 8292)."""
import base64
import os
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid

from ..security import private_folder

# A push service accepts a VAPID token for at most 24 hours; we sign for 12 and sign
# again an hour before that runs out.
TOKEN_LIFETIME = 12 * 3600
RENEW_BEFORE = 3600


class NoKey(Exception):
    """No VAPID key yet: run `flask push keys`."""


def create_key(path, force=False):
    """Make a new key pair at `path` (PEM, mode 0600) unless one exists. Returns True
    when a key was written."""
    path = Path(path)
    if path.exists() and not force:
        return False
    if not path.parent.exists():
        private_folder(path.parent)
    vapid = Vapid()
    vapid.generate_keys()
    # Written under a temporary name with 0600 from the start, then renamed: the private
    # key is never readable by others, and a crash never leaves half a key.
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(vapid.private_pem())
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return True


_cache = {}
_cache_lock = threading.Lock()


def load_key(path):
    """The Vapid object for the key file, cached until the file changes."""
    path = str(path)
    try:
        stamp = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        raise NoKey(f"No VAPID key at {path}: run `flask push keys`.") from None
    with _cache_lock:
        cached = _cache.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, Vapid.from_file(path))
            _cache[path] = cached
        return cached[1]


def public_key(vapid):
    """The applicationServerKey a browser subscribes with: the uncompressed P-256 point,
    URL-safe base64 without padding."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class AuthorizationCache:
    """The VAPID Authorization header, signed once per push-service origin and reused
    until shortly before it expires (signing costs as much as a third of encrypting)."""

    def __init__(self, vapid, subject, clock=time.time):
        self.vapid = vapid
        self.subject = subject
        self.clock = clock
        self._headers = {}

    def header(self, origin):
        now = self.clock()
        cached = self._headers.get(origin)
        if cached is None or cached[1] - now < RENEW_BEFORE:
            expires = int(now) + TOKEN_LIFETIME
            # A fresh claims dict each time: signing must not see a previous origin's aud.
            claims = {"sub": self.subject, "aud": origin, "exp": expires}
            cached = (self.vapid.sign(claims)["Authorization"], expires)
            self._headers[origin] = cached
        return cached[0]
