"""Redflag: report dangerous clients, warn members, offline first."""
import logging
from pathlib import Path

from flask import Flask, jsonify
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import errors, serving
from .config import INSTANCE_DIR, load_config
from .extensions import api, db, limiter, migrate
from .security import private_file, private_folder, set_security_headers

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # Durability is a safety feature: a report acknowledged must survive power loss.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def create_app(config=None):
    """Build the app. `config` is a dict of overrides (tests) applied over the environment."""
    app = Flask(__name__, static_folder=None)
    settings = load_config()
    app.config.from_object(settings)
    if config:
        app.config.update(config)
    _private_files(app)
    if app.config.get("TRUST_PROXY"):
        n = app.config["TRUST_PROXY"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    _quiet_request_logging()
    serving.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    # Redis down: count in each process's memory until it is back, and keep taking reports
    # (limits are then per process) rather than refusing every request with a 500. Never
    # from memory to memory: that would only split one count across two stores.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED",
                          not app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"))
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", _storage_options(app.config))
    limiter.init_app(app)
    api.init_app(app)

    from . import models  # noqa: F401  (every table known to SQLAlchemy and Alembic)

    _register_blueprints(app)
    errors.register(app)  # after api.init_app: one handler for every error body
    app.after_request(set_security_headers)

    @app.get("/healthz")
    def healthz():
        db.session.execute(db.text("SELECT 1"))
        return jsonify(status="ok")

    return app


def _storage_options(config):
    """Keyword arguments for the rate-limit store's client: the bounded waits (config.py) for
    a Redis (redis://, rediss://, redis+sentinel://, redis+cluster://, valkey://); none for
    memory. A timeout raises redis.TimeoutError, which the fallbacks to memory catch."""
    if not config["RATELIMIT_STORAGE_URI"].startswith(("redis", "valkey")):
        return {}
    return {"socket_connect_timeout": config["RATELIMIT_STORAGE_CONNECT_TIMEOUT"],
            "socket_timeout": config["RATELIMIT_STORAGE_TIMEOUT"]}


def _private_files(app):
    """The instance folder and the SQLite database (with its -wal and -shm files) are
    the service user's alone: 0700 and 0600, made so before SQLite creates anything
    (SQLite gives its -wal and -shm files the database file's mode), and put right on
    an older install."""
    if INSTANCE_DIR.is_dir():
        private_folder(INSTANCE_DIR)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///") or "?" in uri or uri.endswith(":memory:"):
        return
    database = Path(uri[len("sqlite:///"):])
    if not database.parent.exists() or database.parent.resolve() == INSTANCE_DIR.resolve():
        private_folder(database.parent)
    private_file(database, create=True)
    for suffix in ("-wal", "-shm", "-journal"):
        private_file(database.with_name(database.name + suffix))


def _register_blueprints(app):
    from . import demo, web
    from .accounts import cli as accounts_cli
    from .accounts import views as accounts_views
    from .alerts import views as alerts_views
    from .areas import cli as areas_cli
    from .areas import views as areas_views
    from .bulletins import views as bulletins_views
    from .cases import views as cases_views
    from .checks import views as checks_views
    from .disputes import views as disputes_views
    from .moderation import views as moderation_views
    from .police import views as police_views
    from .push import cli as push_cli
    from .push import views as push_views
    from .reports import views as reports_views
    from .sms import cli as sms_cli
    from .sms import views as sms_views
    from .stats import views as stats_views

    api.register_blueprint(areas_views.blp)
    api.register_blueprint(reports_views.blp)
    api.register_blueprint(push_views.blp)
    api.register_blueprint(moderation_views.blp)
    api.register_blueprint(alerts_views.blp)
    api.register_blueprint(checks_views.blp)
    api.register_blueprint(police_views.blp)
    api.register_blueprint(bulletins_views.blp)
    api.register_blueprint(stats_views.blp)
    api.register_blueprint(cases_views.blp)
    api.register_blueprint(disputes_views.blp)
    for blp in accounts_views.blueprints + sms_views.blueprints:
        api.register_blueprint(blp)
    app.register_blueprint(web.bp)
    app.cli.add_command(areas_cli.areas)
    for command in accounts_cli.commands:
        app.cli.add_command(command)
    app.cli.add_command(demo.demo)
    app.cli.add_command(push_cli.push)
    app.cli.add_command(sms_cli.sms)
    from .backup import backup
    app.cli.add_command(backup)
    from .retention import cli as retention_cli
    app.cli.add_command(retention_cli.retention)


def _quiet_request_logging():
    # werkzeug's dev-server request log starts with the client address: never log it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Flask-Limiter logs each breach at INFO with its key; keys are keyed hashes, but a
    # per-client trail in a log is still a trail.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
