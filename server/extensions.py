"""Extension objects, bound to the app in create_app() with init_app."""
from flask import current_app, request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api as SmorestApi
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

from .errors import ErrorSchema

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()


class Api(SmorestApi):
    # The error body the app sends (server/errors.py), with its `error` code, is the one
    # the document describes.
    ERROR_SCHEMA = ErrorSchema


api = Api()


def client_key():
    """The client address as a rate-limit key: an HMAC under the app secret (32 hex chars).

    The counters (process memory, or a Redis that keeps nothing on disk) hold it only for
    the window; the raw address is never a key, so it is in no store, dump or log line.
    """
    from .security import keyed_digest
    address = request.remote_addr or ""
    return keyed_digest(current_app.config["SECRET_KEY"], "ratelimit", address).hex()[:32]


# Storage from RATELIMIT_STORAGE_URI (see config.py): memory for one process, Redis for several.
limiter = Limiter(key_func=client_key, default_limits=[])
