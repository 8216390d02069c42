# Two commands on a fresh machine: `make run` (the embedded default) and `make test`.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint format install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## Run the service on the embedded default: SQLite in instance/, jobs in-process, demo seeded.
run: $(STAMP)
	$(VENV)/bin/loyalty-social dev

## Run the checks (ruff; import-linter: the layers of docs/architecture.md) and the whole test
## suite (PostgreSQL + Redis/RQ and SQLite). Uses DATABASE_URL / REDIS_URL
## when set and reachable, otherwise starts throwaway servers from the installed binaries.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
