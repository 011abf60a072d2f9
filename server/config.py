"""Settings, read from the environment.

Every setting has a safe default for a laptop demo; `ProductionConfig.check()` refuses
to start with the defaults that would be dangerous on a real deployment.
"""
import os
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-only-not-secret"
INSTANCE_DIR = Path(os.environ.get("REDFLAG_INSTANCE", Path.cwd() / "instance"))


def _bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    return int(os.environ.get(name, default))


def _float(name, default):
    return float(os.environ.get(name, default))


def _database_url():
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'redflag.db'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    def __init__(self):
        self.SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
        self.SQLALCHEMY_DATABASE_URI = _database_url()
        self.DEBUG = _bool("FLASK_DEBUG", False)
        self.TESTING = False
        self.PRODUCTION = False
        # A report is a few KB of text; anything near this is abuse or a bug.
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 256 * 1024)
        self.ANONYMOUS_REPORTS = _bool("ANONYMOUS_REPORTS", True)
        # Many workers at one drop-in share one address: the defaults must not stop them.
        # Requests to /reports and /sync per address; and reports (each item of a sync) per address.
        self.ANON_REPORT_RATE_LIMIT = os.environ.get("ANON_REPORT_RATE_LIMIT", "120 per minute")
        self.ANON_REPORT_COUNT_LIMIT = os.environ.get("ANON_REPORT_COUNT_LIMIT", "600 per hour")
        # Fernet key(s) for reporter contact details, comma-separated (first encrypts); else
        # derived from SECRET_KEY.
        self.CONTACT_KEY = os.environ.get("CONTACT_KEY", "")
        # Replies through a receipt (My reports), per address.
        self.REPLY_RATE_LIMIT = os.environ.get("REPLY_RATE_LIMIT", "20 per hour")
        # Disputes filed per address (the public objection form).
        self.DISPUTE_RATE_LIMIT = os.environ.get("DISPUTE_RATE_LIMIT", "5 per hour")
        # Login attempts from one address, whatever the account (a spray over many names).
        self.LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
        # Attempts at one account from one address: a ladder, so the wait grows with the
        # guessing (a minute after 5, ten after 10, an hour after 20). A login clears it.
        # Never per account alone: that would let any stranger lock a moderator out.
        self.LOGIN_ACCOUNT_ADDRESS_LIMIT = os.environ.get(
            "LOGIN_ACCOUNT_ADDRESS_LIMIT", "5 per minute;10 per 10 minutes;20 per hour")
        # Failed logins at one account from all addresses that mark it as under attack: one
        # `login_under_attack` audit event per hour. It refuses nothing.
        self.LOGIN_ATTACK_THRESHOLD = os.environ.get("LOGIN_ATTACK_THRESHOLD", "20 per hour")
        self.REDEEM_RATE_LIMIT = os.environ.get("REDEEM_RATE_LIMIT", "10 per minute;60 per hour")
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
        # Where the limit counters live. memory:// counts per process, so it is exact only in
        # one process (gunicorn.conf.py then runs one worker with threads). Several workers or
        # hosts share redis://host:6379/0, a Redis that keeps nothing on disk (README): the
        # counters are keyed by a keyed hash of the client address, held only for the window.
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        # Bounded waits on a Redis store (seconds), where redis-py waits forever by default: a
        # host that drops packets (connect), or a Redis that accepts and never answers (read:
        # overloaded, paused, a half-open connection). A limit check is a sub-millisecond
        # round trip, so a wait this long means the store is not there: the request counts in
        # memory (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED, accounts/throttle.py) and goes on.
        # create_app passes them to the Redis client (RATELIMIT_STORAGE_OPTIONS).
        self.RATELIMIT_STORAGE_CONNECT_TIMEOUT = _float("RATELIMIT_STORAGE_CONNECT_TIMEOUT", 0.25)
        self.RATELIMIT_STORAGE_TIMEOUT = _float("RATELIMIT_STORAGE_TIMEOUT", 0.25)
        # While the store does not answer, the login throttle asks it again after this many
        # seconds (not on every attempt), as Flask-Limiter does for the other limits.
        self.RATELIMIT_STORAGE_RETRY = _float("RATELIMIT_STORAGE_RETRY", 5)
        # Several deployments (or test runs) may share one Redis.
        self.RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "redflag")
        self.RATELIMIT_HEADERS_ENABLED = True
        # A refused request must not eat into the allowance (fixed windows count it).
        self.RATELIMIT_STRATEGY = "moving-window"
        # SQL parameters are report content: never let them reach an error log.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
        self.TRUST_PROXY = _int("TRUST_PROXY", 0)
        self.SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
        self.SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
        self.INVITE_VALID_HOURS = _int("INVITE_VALID_HOURS", 72)
        self.CHECK_RATE_LIMIT = os.environ.get("CHECK_RATE_LIMIT", "30 per hour")
        # Retention periods in days (server/retention; README "Retention").
        self.RETENTION_CONTACT_DAYS = _int("RETENTION_CONTACT_DAYS", 90)
        self.RETENTION_CLOSED_CASE_DAYS = _int("RETENTION_CLOSED_CASE_DAYS", 90)
        self.RETENTION_REPORT_DAYS = _int("RETENTION_REPORT_DAYS", 730)
        self.RETENTION_ALERT_DAYS = _int("RETENTION_ALERT_DAYS", 365)
        self.RETENTION_MEMBER_IDLE_DAYS = _int("RETENTION_MEMBER_IDLE_DAYS", 365)
        self.RETENTION_AUDIT_DAYS = _int("RETENTION_AUDIT_DAYS", 730)
        # Sent, gone or failed texts (each points at a number): a month to answer a
        # question about one. Decided disputes: statement and contact details.
        self.RETENTION_SMS_DAYS = _int("RETENTION_SMS_DAYS", 30)
        self.RETENTION_DISPUTE_DAYS = _int("RETENTION_DISPUTE_DAYS", 90)
        # Named in police packs as the third-party reporting source.
        self.PROJECT_NAME = os.environ.get("PROJECT_NAME", "Redflag support project")
        self.DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "GB")
        self.VAPID_PRIVATE_KEY_FILE = os.environ.get(
            "VAPID_PRIVATE_KEY_FILE", str(INSTANCE_DIR / "vapid_private.pem"))
        self.VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:admin@redflag.invalid")
        self.PUSH_WORKER_IN_PROCESS = _bool("PUSH_WORKER_IN_PROCESS", False)
        # How long a push service keeps a message for a phone that is offline (seconds).
        self.PUSH_TTL_SECONDS = _int("PUSH_TTL_SECONDS", 86400)
        # Requests in flight at once, over reused connections.
        self.PUSH_CONCURRENCY = _int("PUSH_CONCURRENCY", 32)
        # Deliveries claimed per batch.
        self.PUSH_BATCH_SIZE = _int("PUSH_BATCH_SIZE", 500)
        # A claim lasts this long; a sender that dies loses its claims when it runs out.
        self.PUSH_LEASE_SECONDS = _int("PUSH_LEASE_SECONDS", 120)
        # One request to a push service, connect to last byte.
        self.PUSH_TIMEOUT_SECONDS = _int("PUSH_TIMEOUT_SECONDS", 10)
        # After this many failed attempts a delivery stops as `failed`, its reason kept.
        self.PUSH_MAX_ATTEMPTS = _int("PUSH_MAX_ATTEMPTS", 8)
        # Backoff after a failure: base * 2**(attempts - 1), at most one hour.
        self.PUSH_RETRY_BASE_SECONDS = _int("PUSH_RETRY_BASE_SECONDS", 30)
        # How often an idle sender looks for new deliveries anyway: publishing wakes it at
        # once (push/wake.py), so this is only the fallback.
        self.PUSH_POLL_SECONDS = _float("PUSH_POLL_SECONDS", 10.0)
        # Devices (subscriptions) one member may register.
        self.PUSH_MAX_SUBSCRIPTIONS_PER_MEMBER = _int("PUSH_MAX_SUBSCRIPTIONS_PER_MEMBER", 10)
        # Accept http:// and loopback endpoints (local push services in tests and
        # benchmarks). None (unset): on when TESTING is on; never needed in production.
        self.PUSH_ALLOW_LOCAL_ENDPOINTS = _bool("PUSH_ALLOW_LOCAL_ENDPOINTS", None)
        # Allow-list of push-service hosts (push/endpoints.py): empty allows every host with
        # only public addresses; "browsers" stands for the browser vendors' push services.
        self.PUSH_SERVICE_HOSTS = os.environ.get("PUSH_SERVICE_HOSTS", "")
        # flask-smorest: the OpenAPI document only; no interactive page that loads a CDN.
        self.API_TITLE = "Redflag"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api/v1"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self._sms_settings()

    def _sms_settings(self):
        # Text messages (server/sms/). SMS_GATEWAY empty: no texts are sent (members can
        # still be enrolled; their texts wait, queued). "kannel": Kannel's smsbox.
        self.SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "")
        self.SMS_KANNEL_SENDSMS_URL = os.environ.get(
            "SMS_KANNEL_SENDSMS_URL", "http://127.0.0.1:13013/cgi-bin/sendsms")
        self.SMS_KANNEL_USERNAME = os.environ.get("SMS_KANNEL_USERNAME", "redflag")
        self.SMS_KANNEL_PASSWORD = os.environ.get("SMS_KANNEL_PASSWORD", "")
        # The sender shown on phones (a short code or name the operator allows); empty:
        # Kannel's own global-sender.
        self.SMS_FROM = os.environ.get("SMS_FROM", "")
        # The gateway calls /api/v1/sms/<gateway>/incoming and .../report with ?secret=.
        self.SMS_GATEWAY_SECRET = os.environ.get("SMS_GATEWAY_SECRET", "")
        # How the gateway reaches this server, for delivery reports (empty: none asked for).
        self.SMS_CALLBACK_URL = os.environ.get("SMS_CALLBACK_URL", "")
        # The project's name in neutral texts ("New safety message from <project>").
        self.SMS_PROJECT_NAME = os.environ.get("SMS_PROJECT_NAME", "Redflag")
        self.SMS_DEFAULT_LANGUAGE = os.environ.get("SMS_DEFAULT_LANGUAGE", "en")
        # A text from a number that is not a member: one neutral reply a day, or none.
        self.SMS_REPLY_TO_UNKNOWN = _bool("SMS_REPLY_TO_UNKNOWN", False)
        # Replies to one text member, whatever the command: a day's worth of honest use, and
        # a cap on what a lost or borrowed phone can cost the project.
        self.SMS_MEMBER_REPLY_LIMIT = os.environ.get("SMS_MEMBER_REPLY_LIMIT", "30 per day")
        # The sender: texts claimed at once; texts handed over between two commits (the
        # most a crash can send twice); requests to the gateway at once (Kannel is fastest
        # with one); the claim's lease, one request's timeout, retries.
        self.SMS_BATCH_SIZE = _int("SMS_BATCH_SIZE", 64)
        self.SMS_RECORD_EVERY = _int("SMS_RECORD_EVERY", 8)
        self.SMS_CONCURRENCY = _int("SMS_CONCURRENCY", 1)
        self.SMS_LEASE_SECONDS = _int("SMS_LEASE_SECONDS", 60)
        self.SMS_TIMEOUT_SECONDS = _int("SMS_TIMEOUT_SECONDS", 10)
        self.SMS_MAX_ATTEMPTS = _int("SMS_MAX_ATTEMPTS", 8)
        self.SMS_RETRY_BASE_SECONDS = _int("SMS_RETRY_BASE_SECONDS", 30)
        self.SMS_POLL_SECONDS = float(os.environ.get("SMS_POLL_SECONDS", "1.0"))
        # `make run`: a web-server worker sends the texts too (production: `flask sms worker`).
        self.SMS_WORKER_IN_PROCESS = _bool("SMS_WORKER_IN_PROCESS", False)


class ProductionConfig(Config):
    def __init__(self):
        super().__init__()
        self.PRODUCTION = True
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    def check(self):
        problems = []
        if self.SECRET_KEY == DEFAULT_SECRET_KEY or len(self.SECRET_KEY) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if self.CONTACT_KEY:
            from .crypto import check_contact_key
            problems.extend(check_contact_key(self.CONTACT_KEY))
        if self.DEBUG:
            problems.append("FLASK_DEBUG must be off in production")
        if self.SMS_GATEWAY and len(self.SMS_GATEWAY_SECRET) < 24:
            problems.append("SMS_GATEWAY_SECRET must be a random value of at least 24 characters")
        if problems:
            raise RuntimeError("Refusing to start: " + "; ".join(problems))


def load_config():
    if os.environ.get("REDFLAG_ENV", "development") == "production":
        config = ProductionConfig()
        config.check()
        return config
    return Config()
