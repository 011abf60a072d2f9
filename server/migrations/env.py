import logging
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Keep the app's loggers: alembic's logging setup must not silence them.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


class ShortSteps(logging.Filter):
    """Alembic logs each step as "Running upgrade 0012 -> 0013, <the migration's first
    paragraph>", and ours are written to be read in the file: 17 of them were pages of
    text on a new user's first `make run`. This names each step by its file instead:
    "Running upgrade 0012 -> 0013 (alert number)". Only that INFO line changes; errors
    and tracebacks pass as they are. `flask db upgrade -x verbose=1` (`make run
    VERBOSE=1`) keeps Alembic's whole line."""

    def filter(self, record):
        if record.msg == "Running %s" and len(record.args or ()) == 1:
            step = record.args[0]
            short = getattr(step, "short_log", None)
            script = getattr(step, "revision", None)
            if short and script is not None and getattr(script, "path", None):
                stem = Path(script.path).stem
                title = stem.removeprefix(f"{script.revision}_").replace("_", " ")
                record.args = (f"{short} ({title})",)
            elif short:
                record.args = (short,)
        return True


# This file runs again for every command a process gives (the tests migrate many times):
# one filter at most, and none with -x verbose=1.
_steps_log = logging.getLogger("alembic.runtime.migration")
for _filter in [f for f in _steps_log.filters if type(f).__name__ == "ShortSteps"]:
    _steps_log.removeFilter(_filter)
if context.get_x_argument(as_dictionary=True).get("verbose") not in ("1", "true", "yes"):
    _steps_log.addFilter(ShortSteps())


def get_engine():
    try:
        # this works with Flask-SQLAlchemy<3 and Alchemical
        return current_app.extensions['migrate'].db.engine
    except (TypeError, AttributeError):
        # this works with Flask-SQLAlchemy>=3
        return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters most columns and constraints by copying the table and dropping
            # the old one (Alembic's batch mode, https://sqlite.org/lang_altertable.html
            # "other kinds of table schema changes"); with foreign keys on, that DROP
            # deletes every row that refers to the table (ON DELETE CASCADE) or fails.
            # The documented procedure turns them off first (a no-op inside a
            # transaction, so before it) and checks them before committing.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end SQLAlchemy's autobegun transaction: Alembic begins its own
        try:
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                **conf_args
            )

            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows without a parent: {broken[:10]}")
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
