# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := server
export HOST PORT

.PHONY: run test test-scale install browser kannel sms-gateway node migration bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# Embedded demo setup: SQLite in ./instance, demo areas and accounts on a new database.
# One short line per migration; VERBOSE=1 prints Alembic's own (each migration's description).
run: install
	$(BIN)/flask db upgrade $(if $(filter 1,$(VERBOSE)),-x verbose=1)
	$(BIN)/flask push keys
	$(BIN)/flask demo load
	PUSH_WORKER_IN_PROCESS=1 SMS_WORKER_IN_PROCESS=1 $(BIN)/gunicorn -c gunicorn.conf.py 'server:create_app()'

# Debian's browsers for the browser tests (Playwright cannot download one here): Chromium
# (tests/browser), and Firefox ESR and WebKitGTK's WebKitWebDriver with MiniBrowser under
# Xvfb (tests/engines). A no-op when all are installed.
BROWSERS := /usr/bin/chromium /usr/bin/firefox-esr /usr/bin/WebKitWebDriver /usr/bin/Xvfb
browser:
	@missing=; for b in $(BROWSERS); do test -x $$b || missing=$$b; done; test -z "$$missing" || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium firefox-esr webkit2gtk-driver xvfb; }

# Debian's Kannel SMS gateway (bearerbox, smsbox) and its fake phone network (fakesmsc,
# in kannel-extras) for the SMS tests; the tests start them on free ports themselves.
kannel:
	@{ test -x /usr/sbin/bearerbox && test -x /usr/sbin/smsbox && test -x /usr/lib/kannel/test/fakesmsc; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq kannel kannel-extras; }

# A phone network for trying texts with `make run` (see the README): Kannel + fakesmsc.
sms-gateway: install kannel
	$(BIN)/python scripts/sms_gateway.py

node: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Lint first (seconds); then the front end: its pure modules (Node's own test runner,
# web/ as ES modules) and the JSDoc types of the modules marked // @ts-check
# (tsconfig.json); then the server, the push path, SMS, the scale tests (PostgreSQL and
# Redis on 127.0.0.1) and the browser. tests/test_architecture.py runs lint-imports.
# pytest runs on PYTEST_WORKERS processes (pytest-xdist): most tests wait on sockets,
# browsers, gunicorn, Kannel or PostgreSQL, so even 2 cores keep 4 busy. Each worker has
# its own databases, servers, browsers and Kannel; a plain `pytest` runs in one process.
# Tests are handed out in the order tests/conftest.py sets (SQLite, then PostgreSQL: each
# worker migrates each engine once; the long tests spread early among them; browser last),
# a module sharing a server per engine, or the tests of one browser engine, as one unit.
PYTEST_WORKERS ?= 4
test: install browser kannel node
	$(BIN)/ruff check .
	node --test tests/js/
	npx --no-install tsc -p .
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# Real gunicorn hosts and senders: every rate limit over real sockets, the two-host chaos
# test and the backup test (PostgreSQL and Redis on 127.0.0.1).
test-scale: install node
	$(BIN)/pytest -m scale

# A new migration, numbered after the last, from what the models changed since it:
# make migration MESSAGE="what changed". Review it (and any data it must move) before use.
migration: install
	@test -n "$(MESSAGE)" || { echo 'usage: make migration MESSAGE="what changed"' >&2; exit 2; }
	instance=$$(mktemp -d) && \
	last=$$(ls server/migrations/versions | grep -o '^[0-9]\{4\}' | sort | tail -1) && \
	REDFLAG_INSTANCE=$$instance $(BIN)/flask db upgrade && \
	REDFLAG_INSTANCE=$$instance $(BIN)/flask db migrate -m "$(MESSAGE)" \
		--rev-id $$(printf %04d $$(expr $$last + 1)) && \
	rm -rf $$instance

bench: install browser kannel node
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/sms.py
	@command -v wrk >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get install -y -qq wrk; }
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/staff.py
	$(BIN)/python bench/feed.py
	$(BIN)/python bench/first_open.py

clean:
	rm -rf $(VENV) node_modules instance
