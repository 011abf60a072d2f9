"""Fixtures: every API test runs once on SQLite and once on PostgreSQL.

Each engine gets a fresh database per test session, migrated with Alembic (the same
migrations `make run` applies); each test ends by emptying every table, so tests that
need real commits (concurrency, durability) behave as in production.
"""
import os

import pytest
import sqlalchemy as sa

from server import create_app
from server.extensions import db

from databases import postgres_database
from factories import empty_tables

ENGINES = [e for e in os.environ.get("REDFLAG_TEST_ENGINES", "sqlite,postgresql").split(",") if e]
@pytest.fixture(scope="session", params=ENGINES)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "redflag.db"
        url = f"sqlite:///{path}"
        admin = None
    else:
        admin, name, url = postgres_database()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        db.engine.dispose()
    yield url
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app_config(database_url):
    """Override in a test module to change settings."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }
    settings.update(app_config)
    app = create_app(settings)
    with app.app_context():
        yield app
        db.session.remove()
        empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def areas(app):
    """The London demo areas."""
    from server.areas import service
    from server.demo import DEMO_DIR
    service.import_areas(service.parse_areas((DEMO_DIR / "london-areas.csv").read_text(), "csv"))
    return service.list_areas()


# Modules whose tests share a server process per engine (a module-scoped fixture): with
# `make test`'s pytest-xdist workers, each engine's tests of such a module run on one worker,
# which starts one server, rather than on every worker.
ONE_WORKER_PER_ENGINE = {"test_hostile_serving.py"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        engine = getattr(item, "callspec", None) and item.callspec.params.get("database_url")
        if item.path.name in ONE_WORKER_PER_ENGINE:
            item.add_marker(pytest.mark.xdist_group(f"{item.path.name}-{engine}"))
    # Tests of a PostgreSQL-only setup run on PostgreSQL alone, and engine-independent
    # cases on the first engine of the run alone: deselected, never skipped.
    def other_variant(item):
        engine = getattr(item, "callspec", None) and item.callspec.params.get("database_url")
        if engine is None:
            return False
        if item.get_closest_marker("postgresql_only"):
            return engine == "sqlite"
        return bool(item.get_closest_marker("engine_independent")) and engine != ENGINES[0]
    others = [item for item in items if other_variant(item)]
    if others:
        config.hook.pytest_deselected(items=others)
        items[:] = [item for item in items if not other_variant(item)]
    # Browser tests last: they are the slowest, and Playwright's sync API keeps an event
    # loop running in the main thread for the rest of the session, which no other test
    # should have to meet. Stable sort: the order is otherwise unchanged.
    items.sort(key=lambda item: "browser" in item.path.parts)
