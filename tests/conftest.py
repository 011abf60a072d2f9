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
        if "engines" in item.path.parts:
            # One worker per browser engine, which starts one server (a session fixture).
            browser = getattr(item, "callspec", None) and item.callspec.params.get("engine")
            item.add_marker(pytest.mark.xdist_group(f"engines-{browser}"))
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


class _Scheduler:
    @pytest.hookimpl(trylast=True)  # after pytest's own grouping of the tests by fixture
    def pytest_collection_modifyitems(self, items):
        items[:] = _schedule(items)


def pytest_configure(config):
    config.pluginmanager.register(_Scheduler(), "redflag-schedule")


# Tests of a minute or more under `make test` (4 workers on 2 cores), longest first: each
# starts gunicorn hosts, Kannel, Firefox or WebKit, walks every screen, or runs hundreds of
# examples. Handed out early (_schedule), they run beside the many short tests instead of
# after them, where the last of them kept one worker busy for minutes while the others had
# finished.
LONG_FIRST = (
    "tests/api/test_web.py::test_every_shell_file_changes_the_version",
    "tests/scale/test_chaos.py::",
    "tests/scale/test_backup.py::",
    "tests/scale/test_limits_live.py::test_each_documented_limit_holds_exactly",
    "tests/engines/test_smoke.py::",
    "tests/scale/test_limits_live.py::",
    "tests/api/test_schemathesis.py::",
    "tests/api/test_hostile_accounts.py::test_the_instance_folder_and_database_are_private",
    "tests/api/test_normalise.py::test_any_plain_digits_read_as_the_matcher_reads_them",
    "tests/sms/test_kannel_crash.py::",
    "tests/api/test_serving.py::test_gunicorn_access_log_has_no_client_address",
    "tests/api/test_hostile_input.py::test_every_text_field_refuses_or_keeps_what_it_is_given",
    "tests/push/test_crash.py::",
    "tests/api/test_sync.py::test_two_processes_write_at_once_and_queue_on_the_writer_lock",
    "tests/api/test_stats_summary.py::test_the_summary_equals_the_recount_through_every_kind_of_change",
    "tests/push/test_loop.py::test_worker_process_wakes_on_publish",
    # Browser tests (handed out last), the longest first among them.
    "tests/browser/test_every_language.py::test_every_screen_in_every_language_passes_axe_and_holds_its_layout",
    "tests/browser/test_accessibility.py::test_every_screen_passes_axe",
    "tests/browser/test_every_language.py::",
)


def _rank(item):
    return next((n for n, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)), None)


def _engine(item):
    return getattr(item, "callspec", None) and item.callspec.params.get("database_url")


def _unit(item):
    """What xdist hands out as one: an xdist group, else the test."""
    group = item.get_closest_marker("xdist_group")
    return group.args[0] if group else item.nodeid


def _schedule(items):
    """The order xdist hands tests out in (with --no-loadscope-reorder). Each engine's
    tests in turn, its long ones first: a worker migrates each engine once (its session
    fixture is made again whenever the engine changes). The long tests that use no
    database are spread through the first two thirds of them, longest first: each starts
    early, but no more than one or two of them (gunicorn hosts with real password hashing
    and client timeouts, browsers starting) compete for the two cores at once. Then the
    other tests that use no database. Browser tests last, the longest first: Playwright's
    sync API keeps an event loop running in the main thread for the rest of the session,
    which no other test should have to meet. Otherwise the collection's order."""
    browser = sorted((item for item in items if "browser" in item.path.parts),
                     key=lambda item: len(LONG_FIRST) if _rank(item) is None else _rank(item))
    others = [item for item in items if "browser" not in item.path.parts]
    spread = sorted((item for item in others if _engine(item) is None and _rank(item) is not None),
                    key=_rank)
    chosen = set(map(id, spread))

    def block(item):
        engine, rank = _engine(item), _rank(item)
        if engine is None:
            return (len(ENGINES),)
        return (ENGINES.index(engine), 0 if rank is not None else 1, rank or 0)
    rest = sorted((item for item in others if id(item) not in chosen), key=block)
    units = []  # the spread tests, those of one xdist group together
    for item in spread:
        if units and _unit(units[-1][-1]) == _unit(item):
            units[-1].append(item)
        else:
            units.append([item])
    step = max(len(rest) * 2 // 3 // max(len(units), 1), 1)
    ordered = []
    for n, item in enumerate(rest):
        if n % step == 0 and n // step < len(units):
            ordered += units[n // step]
        ordered.append(item)
    for unit in units[len(rest) // step + (len(rest) % step > 0):]:
        ordered += unit
    return ordered + browser
