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

.PHONY: run test install install-dev browser-checks db demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

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
