# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
VENV_IDP := .venv-idp
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test lint typecheck venv idp-venv migrate clean bench

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

migrate: venv
	$(VENV)/bin/verdict db upgrade

run: venv idp-venv
	scripts/run-dev

test: venv idp-venv
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check service tests bench alembic
	$(VENV)/bin/ruff format --check service tests bench alembic
	$(VENV)/bin/mypy

bench: venv
	$(PY) bench/sandbox.py

clean:
	rm -rf $(VENV) $(VENV_IDP) var .pytest_cache .mypy_cache .ruff_cache .coverage
