# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
VENV_IDP := .venv-idp
# The Flask baseline's own environment (bench/): never the project's.
VENV_BENCH := bench/.venv-flask
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# The whole suite (no PYTEST_ARGS) measures branch coverage against its floor (pyproject.toml).
COVERAGE := $(if $(strip $(PYTEST_ARGS)),,--cov --cov-report=term)

.PHONY: run test test-fast lint typecheck venv idp-venv bench-venv web-deps migrate clean bench screenshots

venv: $(STAMP)

$(STAMP): pyproject.toml
	@set -e; if [ ! -x $(PY) ]; then \
	  PYTHON=$$(scripts/find-python); echo "using $$PYTHON"; "$$PYTHON" -m venv $(VENV); fi
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

idp-venv: $(VENV_IDP)/.installed

$(VENV_IDP)/.installed:
	@set -e; if [ ! -x $(VENV_IDP)/bin/python ]; then \
	  PYTHON=$$(scripts/find-python); "$$PYTHON" -m venv $(VENV_IDP); fi
	$(VENV_IDP)/bin/python -m pip install -q 'oidc-provider-mock>=0.4,<0.5'
	@touch $@

bench-venv: $(VENV_BENCH)/.installed

$(VENV_BENCH)/.installed: bench/flask_baseline/requirements.txt
	@set -e; if [ ! -x $(VENV_BENCH)/bin/python ]; then \
	  PYTHON=$$(scripts/find-python); "$$PYTHON" -m venv $(VENV_BENCH); fi
	$(VENV_BENCH)/bin/python -m pip install -q -r bench/flask_baseline/requirements.txt
	@touch $@

# Browser-side tools from npm (package.json: axe-core for the accessibility gate) into the
# git-ignored node_modules/. Without npm the browser tests that need them skip (CI: fail).
web-deps: node_modules/.installed

node_modules/.installed: package.json
	@if command -v npm >/dev/null; then \
	  npm install --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "web-deps: npm not found; the browser tests will skip"; fi

migrate: venv
	$(VENV)/bin/verdict db upgrade

run: venv idp-venv
	scripts/run-dev

# In random order (pytest-randomly prints its seed; PYTEST_ARGS=--randomly-seed=N replays an
# order), each test under a time limit (pytest-timeout), the 25 slowest listed.
test: venv idp-venv bench-venv web-deps
	$(VENV)/bin/python -m pytest --durations=25 $(COVERAGE) $(PYTEST_ARGS)

# The inner loop: no real sandbox, no slow end-to-end runs, no browser (a test that starts
# bubblewrap anyway fails and asks to be marked `sandbox`).
test-fast: venv
	VERDICT_TEST_FAST=1 $(VENV)/bin/python -m pytest -q -m "not sandbox and not slow and not e2e" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check service tests bench alembic
	$(VENV)/bin/ruff format --check service tests bench alembic
	$(VENV)/bin/mypy

# PNGs of the key pages (docs/screenshots/, shown in the README), taken in Debian's chromium.
screenshots: venv idp-venv web-deps
	$(PY) -m tests.e2e.screenshots docs/screenshots

# Verdict against the Flask baseline and the sandbox against bare spawns: writes
# docs/benchmarks.md and docs/benchmarks.png (a few minutes; run it on a quiet machine).
bench: venv bench-venv
	$(PY) bench/compare.py --rounds 3 --write

clean:
	rm -rf $(VENV) $(VENV_IDP) $(VENV_BENCH) node_modules var .pytest_cache .mypy_cache .ruff_cache .coverage
