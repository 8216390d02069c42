# Two commands on a fresh machine: `make run` (the embedded default) and `make test`.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint format install vendor-redoc vendor-console vendor-charts screenshots

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

## Re-vendor the API docs UI (/api/docs) from the npm registry into the package's static files,
## so the docs page loads nothing from another host. Bump REDOC_VERSION and run; commit the result.
REDOC_VERSION ?= 2.5.4
REDOC_DIR := loyalty_social/static/vendor/redoc
vendor-redoc:
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent redoc@$(REDOC_VERSION) >/dev/null) \
	&& tar -xzf $$tmp/redoc-$(REDOC_VERSION).tgz -C $$tmp \
	&& cp $$tmp/package/bundles/redoc.standalone.js $$tmp/package/LICENSE \
		$$tmp/package/bundles/redoc.standalone.js.LICENSE.txt $(REDOC_DIR)/ \
	&& rm -rf $$tmp
	sed -i 's/^Version: .*/Version: $(REDOC_VERSION)/' $(REDOC_DIR)/README.md

## Re-vendor the console's CSS (Pico) and htmx from the npm registry into the console's static
## files (no CDN: the console's CSP allows only its own host). Bump a version, run, commit.
PICO_VERSION ?= 2.1.1
HTMX_VERSION ?= 2.0.11
CONSOLE_VENDOR := loyalty_social/console/static/vendor
vendor-console:
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent @picocss/pico@$(PICO_VERSION) htmx.org@$(HTMX_VERSION) >/dev/null) \
	&& mkdir -p $$tmp/pico $$tmp/htmx $(CONSOLE_VENDOR) \
	&& tar -xzf $$tmp/picocss-pico-$(PICO_VERSION).tgz -C $$tmp/pico \
	&& tar -xzf $$tmp/htmx.org-$(HTMX_VERSION).tgz -C $$tmp/htmx \
	&& cp $$tmp/pico/package/css/pico.min.css $(CONSOLE_VENDOR)/pico.min.css \
	&& cp $$tmp/pico/package/LICENSE.md $(CONSOLE_VENDOR)/pico.LICENSE.md \
	&& cp $$tmp/htmx/package/dist/htmx.min.js $(CONSOLE_VENDOR)/htmx.min.js \
	&& cp $$tmp/htmx/package/LICENSE $(CONSOLE_VENDOR)/htmx.LICENSE \
	&& rm -rf $$tmp
	printf 'Vendored from the npm registry by `make vendor-console`:\n\n- @picocss/pico %s (css/pico.min.css)\n- htmx.org %s (dist/htmx.min.js)\n' $(PICO_VERSION) $(HTMX_VERSION) > $(CONSOLE_VENDOR)/README.md

## Re-vendor the console's charting library (Chart.js, its UMD build) from the npm registry.
CHARTJS_VERSION ?= 4.6.1
vendor-charts:
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent chart.js@$(CHARTJS_VERSION) >/dev/null) \
	&& tar -xzf $$tmp/chart.js-$(CHARTJS_VERSION).tgz -C $$tmp \
	&& cp $$tmp/package/dist/chart.umd.min.js $(CONSOLE_VENDOR)/chart.umd.min.js \
	&& cp $$tmp/package/LICENSE.md $(CONSOLE_VENDOR)/chart.js.LICENSE.md \
	&& rm -rf $$tmp
	grep -q '^- chart.js' $(CONSOLE_VENDOR)/README.md \
	|| printf -- '- chart.js %s (dist/chart.umd.min.js; `make vendor-charts`)\n' $(CHARTJS_VERSION) >> $(CONSOLE_VENDOR)/README.md

## Re-take the console's screenshots (docs/screenshots/, 1280x800) from its browser tests.
screenshots: $(STAMP)
	SAVE_SCREENSHOTS=1 $(VENV)/bin/pytest tests/console tests/analytics -k "screenshot or browser" -q
