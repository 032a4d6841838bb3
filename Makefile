# The two set-up commands: `make demo` and `make test`. `make check` is every gate CI trusts.
SHELL := /bin/bash
# The venv's interpreter: the distribution's CPython 3.11 when it is there (Debian and Ubuntu build
# it with PGO and LTO; pyenv's default source build has neither: the booking-rush benchmark's
# server used a median 15 % more CPU per booking on it — decision 0012), else python3 from
# PATH. Override with `make PYTHON=…`.
PYTHON ?= $(shell for p in /usr/bin/python3.11 python3; do \
	  $$p -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	  && { echo $$p; break; }; done)
VENV ?= .venv
SERVER_VENV ?= .venv-server
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-sqlite test-postgres check lint typecheck migrations-check bench clean lock server-env bench-smoke

# Every package comes from the hashed lock files in requirements/ (`make lock` refreshes them
# from pyproject.toml); madoguchi itself is installed without build isolation, so pip fetches
# nothing that is not pinned and hashed.
LOCKS := requirements/build.txt requirements/base.txt requirements/dev.txt
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11

$(STAMP): pyproject.toml $(LOCKS) package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/build.txt
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund; fi
	touch $(STAMP)

# The server's environment: runtime packages only (no test or lint tools), madoguchi not editable.
server-env:
	test -x $(SERVER_VENV)/bin/python || $(PYTHON) -m venv $(SERVER_VENV)
	$(SERVER_VENV)/bin/pip install --quiet --require-hashes -r requirements/build.txt
	$(SERVER_VENV)/bin/pip install --quiet --require-hashes -r requirements/base.txt
	$(SERVER_VENV)/bin/pip install --quiet --no-deps --no-build-isolation .

# Re-resolve the lock files after changing a dependency in pyproject.toml or requirements/build.in
# (`make lock UPGRADE=--upgrade` also moves unpinned transitive packages to their newest).
lock: $(STAMP)
	$(UV_COMPILE) $(UPGRADE) requirements/build.in -o requirements/build.txt
	$(UV_COMPILE) $(UPGRADE) pyproject.toml -o requirements/base.txt
	$(UV_COMPILE) $(UPGRADE) pyproject.toml --extra dev -c requirements/base.txt -o requirements/dev.txt

demo: $(STAMP)
	$(BIN)/madoguchi demo

# SQLite first; then, when MADOGUCHI_TEST_DATABASE_URL is set, the suite again on PostgreSQL
# (browser tests run once, in the SQLite pass). pytest-xdist runs one worker per CPU
# (`make test TEST_WORKERS=0` runs in one process); each worker has its own test database
# (PostgreSQL: test_madoguchi_gw0, …), its own Chromium and its own live server on a free port.
TEST_WORKERS ?= auto
# worksteal: each worker starts on its own contiguous half of the suite (tests sharing a kept
# world or a module's town stay together) and an idle worker takes work from the end of the
# other's queue, so no worker idles while one long test runs on.
TEST_DIST ?= worksteal
# Compiled bytecode is kept (in the venv, out of the tree) even where the environment says
# PYTHONDONTWRITEBYTECODE: without it every worker and every process a test starts compiles the
# project and the tests again (collecting the suite took 11.8 s of CPU instead of 5.2 s).
test: export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache
test: export PYTHONDONTWRITEBYTECODE :=
test: $(STAMP)
	@if [ -n "$$MADOGUCHI_TEST_DATABASE_URL" ]; then \
	  $(BIN)/pytest -n $(TEST_WORKERS) --dist $(TEST_DIST) -m "not postgres" $(PYTEST_ARGS) && \
	  DATABASE_URL="$$MADOGUCHI_TEST_DATABASE_URL" $(BIN)/pytest -n $(TEST_WORKERS) --dist $(TEST_DIST) -m "not browser" $(PYTEST_ARGS); \
	else \
	  $(BIN)/pytest -n $(TEST_WORKERS) --dist $(TEST_DIST) $(PYTEST_ARGS); \
	fi

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports

migrations-check: $(STAMP)
	MADOGUCHI_DATA_DIR=$$(mktemp -d) $(BIN)/madoguchi makemigrations --check --dry-run

check: lint typecheck migrations-check test

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

# Every benchmark at a small size (bench/smoke.py): proves each still starts and finishes.
bench-smoke: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; BENCH_SMOKE=1 $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(SERVER_VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
