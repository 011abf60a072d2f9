"""Response headers, token hashing and other small security primitives."""
import hashlib
import hmac
import secrets

CSP = ("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; "
       "manifest-src 'self'")


def set_security_headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    from flask import request
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def new_token(nbytes=32):
    """A random bearer token (256 bits by default), URL-safe."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token):
    """Tokens are stored only as a SHA-256 hash: they are long and random, so no salt or
    slow hash is needed, and a lookup by hash stays an index hit."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def keyed_digest(secret_key, purpose, value):
    """HMAC of value under the app secret, separated by purpose."""
    key = hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()


def same(a, b):
    return hmac.compare_digest(a, b)
