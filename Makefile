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
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-sqlite test-postgres check lint typecheck migrations-check bench clean

$(STAMP): pyproject.toml package.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund; fi
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/madoguchi demo

# SQLite first; then, when MADOGUCHI_TEST_DATABASE_URL is set, the suite again on PostgreSQL
# (browser tests run once, in the SQLite pass).
test: $(STAMP)
	@if [ -n "$$MADOGUCHI_TEST_DATABASE_URL" ]; then \
	  $(BIN)/pytest -m "not postgres" $(PYTEST_ARGS) && \
	  DATABASE_URL="$$MADOGUCHI_TEST_DATABASE_URL" $(BIN)/pytest -m "not browser" $(PYTEST_ARGS); \
	else \
	  $(BIN)/pytest $(PYTEST_ARGS); \
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

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
