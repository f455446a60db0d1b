# smartcharge — `make help` lists the targets.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CHROMIUM := /usr/bin/chromium
NODE_DEPS := tests/interop/node_modules/.package-lock.json
export PATH := $(CURDIR)/$(BIN):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast lint fmt typecheck bench demo migrate clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The strict OCPP 1.6 client of the interoperability test (ocpp-rpc, pinned by the lockfile; npm ci writes
# NODE_DEPS); without npm the test is skipped (it needs node).
$(NODE_DEPS): tests/interop/package.json tests/interop/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: tests/interop (the ocpp-rpc interoperability test) will be skipped"; \
	fi

install: $(STAMP) $(NODE_DEPS) ## create .venv and install the project with its dev extras (and the test's npm packages)

migrate: $(STAMP) ## apply database migrations (SMARTCHARGE_DATABASE_URL, SQLite by default)
	$(BIN)/smartcharge db upgrade

run: $(STAMP) ## start the service on SQLite (API :8000, OCPP :9000)
	mkdir -p var
	$(BIN)/smartcharge db upgrade
	$(BIN)/smartcharge serve

demo: $(STAMP) ## a simulated day: service + 20 simulated charge points at 720x speed (~2 min), then a summary
	$(BIN)/smartcharge demo

lint: $(STAMP) ## ruff lint + format check, mypy, the import contracts of the module map
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app optimizer ocpp_gateway simulator smartcharge_client
	$(BIN)/lint-imports

fmt: $(STAMP) ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(CHROMIUM): # the console's browser tests drive Debian's Chromium (never a Playwright download)
	$$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update -qq
	$$([ "$$(id -u)" = 0 ] || echo sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: lint $(NODE_DEPS) $(CHROMIUM) ## lint, type-check, check the import contracts and run the tests (PostgreSQL too when SMARTCHARGE_TEST_POSTGRES_URL is set)
	$(BIN)/python -m pytest

bench: $(STAMP) ## benchmarks: figures as ratios against baselines measured in the same run
	$(BIN)/python -m benchmarks

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis tests/interop/node_modules
