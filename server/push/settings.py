"""Push settings: app.config first, then the environment, then these defaults.

They live here, beside the code that uses them; VAPID_PRIVATE_KEY_FILE, VAPID_SUBJECT and
PUSH_WORKER_IN_PROCESS come from server/config.py.
"""
import os

from flask import current_app

DEFAULTS = {
    # How long a push service keeps a message for a phone that is offline (seconds).
    "PUSH_TTL_SECONDS": 86400,
    # Requests in flight at once, over reused connections.
    "PUSH_CONCURRENCY": 32,
    # Deliveries claimed per batch.
    "PUSH_BATCH_SIZE": 500,
    # A claim lasts this long; a sender that dies loses its claims when it runs out.
    "PUSH_LEASE_SECONDS": 120,
    # One request to a push service, connect to last byte.
    "PUSH_TIMEOUT_SECONDS": 10,
    # After this many failed attempts a delivery stops as `failed`, its reason kept.
    "PUSH_MAX_ATTEMPTS": 8,
    # Backoff after a failure: base * 2**(attempts - 1), at most one hour.
    "PUSH_RETRY_BASE_SECONDS": 30,
    # How often an idle sender looks for new deliveries anyway: publishing wakes it at
    # once (wake.py), so this is only the fallback.
    "PUSH_POLL_SECONDS": 10.0,
    # Devices (subscriptions) one member may register.
    "PUSH_MAX_SUBSCRIPTIONS_PER_MEMBER": 10,
    # Accept http:// and loopback endpoints (local push services in tests and benchmarks).
    # On by default when TESTING is on; never needed in production.
    "PUSH_ALLOW_LOCAL_ENDPOINTS": False,
    # Allow-list of push-service hosts (push/endpoints.py): empty allows every host with
    # only public addresses; "browsers" stands for the browser vendors' push services.
    "PUSH_SERVICE_HOSTS": "",
}


def setting(name, app=None):
    app = app or current_app
    default = DEFAULTS[name]
    if name in app.config:
        value = app.config[name]
    elif name in os.environ:
        value = os.environ[name]
    else:
        return default
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    return type(default)(value)


def allow_local_endpoints(app=None):
    """PUSH_ALLOW_LOCAL_ENDPOINTS when set (app.config or environment), else TESTING."""
    app = app or current_app
    if "PUSH_ALLOW_LOCAL_ENDPOINTS" in app.config or "PUSH_ALLOW_LOCAL_ENDPOINTS" in os.environ:
        return setting("PUSH_ALLOW_LOCAL_ENDPOINTS", app)
    return bool(app.testing)


def allowed_push_hosts(app=None):
    """PUSH_SERVICE_HOSTS as a tuple of host names ("" -> (): any public host)."""
    from .endpoints import allowed_hosts_setting
    return allowed_hosts_setting(setting("PUSH_SERVICE_HOSTS", app))
