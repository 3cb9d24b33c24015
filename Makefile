# The two commands: `make run` (demo app on SQLite) and `make test` (whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export APP_ENV ?= development
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Links in emails (password reset, notifications, jobs) point at the server `make run` starts,
# unless PUBLIC_BASE_URL is set (to the public address behind a proxy, say).
export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test install install-dev browser-checks db demo bench clean lock check-lock loadtest

# requirements*.txt list what we depend on (minimum versions); the lock files pin every package with its
# hashes and are what `make install`, `make test`, CI and production install. `make lock` regenerates them.
LOCK     := requirements.lock
DEV_LOCK := requirements-dev.lock
LOCKS    := requirements.txt:$(LOCK) requirements-dev.txt:$(DEV_LOCK)
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt $(LOCK) | $(BIN)/python
	$(BIN)/python tools/check_lock.py requirements.txt:$(LOCK)
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(DEV_LOCK) | $(BIN)/python
	$(BIN)/python tools/check_lock.py $(LOCKS)
	$(BIN)/pip install -q --require-hashes -r $(DEV_LOCK)
	touch $@ $(VENV)/.installed

# A lock older than a requirement added since (another branch merged, say) stops the install loudly.
check-lock: | $(BIN)/python
	@$(BIN)/python tools/check_lock.py $(LOCKS)

install: check-lock $(VENV)/.installed
install-dev: check-lock $(VENV)/.installed-dev

# Resolve requirements*.txt again (newest versions allowed) and write both locks with hashes; the dev lock
# keeps the runtime lock's versions. Takes seconds (uv).
lock: | $(BIN)/python
	@[ -x $(BIN)/uv ] || $(BIN)/pip install -q "uv>=0.5"
	$(UV_COMPILE) requirements.txt -o $(LOCK)
	$(UV_COMPILE) requirements-dev.txt -c $(LOCK) -o $(DEV_LOCK)
	$(BIN)/python tools/check_lock.py $(LOCKS)

# axe-core (package.json) for the browser tests' accessibility checks. Without npm those checks are
# skipped with a note saying so; everything else still runs.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; \
	else echo "npm not found: the accessibility checks (axe-core) will be skipped. Install Node.js and npm to run them."; fi
browser-checks: node_modules/.package-lock.json

db: install
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed-skills

demo: db
	$(FLASK) seed-demo --if-empty

run: demo
	@echo "Serving on http://$(HOST):$(PORT)  (emails: http://$(HOST):$(PORT)/outbox)"
	$(FLASK) run --host $(HOST) --port $(PORT)

# SQLite always; PostgreSQL too when TEST_DATABASE_URL is set. Browser tests run in the SQLite pass.
test: install-dev browser-checks
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL: $$TEST_DATABASE_URL"; \
		$(BIN)/python -m pytest -m "not e2e"; \
	fi

# Matching and browsing at scale (100k specialists, 50k tasks), loaded with wrk; PostgreSQL with
# BENCH_DATABASE_URL. Installs wrk with apt-get when it is missing (or says how).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
		echo "wrk (the load generator) is missing: installing it with apt-get"; \
		$(SUDO) apt-get install -y wrk || { \
			echo "Could not install wrk: install it (apt-get install wrk, brew install wrk) and run make bench again"; \
			exit 1; }; }
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache node_modules

# Load and fault tests against a production-like stack on this machine (PostgreSQL + Redis + two gunicorn
# instances + job worker + scheduler), see loadtest/run.py. LOADTEST_ARGS="--fault worker --minutes 2" etc.
LOADTEST_ARGS ?= --users 50 --minutes 5
loadtest: install-dev
	@command -v redis-server >/dev/null 2>&1 || $(SUDO) apt-get install -y redis-server
	$(BIN)/python loadtest/run.py $(LOADTEST_ARGS)
