# mailjet-elt — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
DEV_STAMP := $(VENV)/.dev-stamp

.DEFAULT_GOAL := help
.PHONY: help setup setup-dev charts chromium demo test test-fast lint format bench sandbox clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv and install what running needs (runs by itself when needed)

setup-dev: $(DEV_STAMP) ## setup, plus the test and lint tools (make test and test-fast run it)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mailjet-elt needs Python >= 3.11; set PYTHON=/path/to/python3.11")'
	@echo "make setup: creating .venv and installing the pinned dependencies (dlt, DuckDB, pyarrow,"
	@echo "  great-expectations, ...) from the package index: about a minute or two on a first run"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	@$(BIN)/python -m pipelines.report_html.library || echo "make setup: going on without it: only \`report\` needs it (make charts fetches it later)"
	@rm -f $(DEV_STAMP)
	@touch $(STAMP)
	@echo "make setup: done; the commands are in $(BIN) (mailjet-elt --help)"

$(DEV_STAMP): $(STAMP)
	@echo "make setup-dev: installing the test and lint tools (pytest, ruff, mypy, a PostgreSQL for the tests)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(DEV_STAMP)

charts: setup ## Fetch the report's chart library (Chart.js, pinned, from the npm registry) if it is missing
	@$(BIN)/python -m pipelines.report_html.library

# The report's test opens it in headless Chromium, from Debian's packages (as root, or with sudo).
chromium: ## Install Debian's chromium for the report's browser test, unless there is one
	@if [ -n "$$MAILJET_ELT_CHROMIUM" ] || command -v chromium chromium-browser google-chrome > /dev/null; then exit 0; fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; \
	if ! command -v apt-get > /dev/null; then \
	  echo "make chromium: no apt-get here: install Chromium, then set MAILJET_ELT_CHROMIUM=/path/to/chromium"; exit 1; fi; \
	echo "make chromium: installing Debian's chromium and fonts-liberation for the report's browser test (about a minute)"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	  --no-install-recommends chromium fonts-liberation > /dev/null \
	  || { echo "make chromium: apt-get failed (root or passwordless sudo is needed); or set MAILJET_ELT_CHROMIUM"; exit 1; }

demo: setup charts ## Start a seeded local Mailjet sandbox and tour it for real
	$(BIN)/mailjet-elt demo

test-fast: setup-dev charts lint ## Lint and the unit tier (pure cores, plain data): for every edit
	$(BIN)/python -m pytest -q -m unit

test: setup-dev charts chromium lint ## Lint, type-check and run every tier (unit, integration, e2e)
	$(BIN)/python -m pytest -q -n 3 --dist loadfile

lint: setup-dev ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup-dev ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup-dev ## Run the benchmarks, then one table: each figure beside its goal (figures, not pass/fail)
	@figures="$(or $(BENCH_FIGURES),$$(mktemp /tmp/mailjet-elt-bench-XXXXXX.jsonl))"; : > "$$figures"; \
	export MAILJET_ELT_BENCH_FIGURES="$$figures"; failed=""; \
	run() { echo "== $$*"; $(BIN)/python "$$@" || failed="$$failed [$$*]"; }; \
	run bench/cli.py; \
	run bench/sandbox_speed.py; \
	run bench/extract.py --sizes 5,100000,1000000; \
	run bench/extract.py --contacts 100000 --latency-ms 50 --rate 20; \
	run bench/import_csv.py --rows 1000000; \
	run bench/plan.py; \
	run bench/explain.py; \
	run bench/report.py; \
	run bench/apply.py; \
	run bench/webhooks.py; \
	run bench/webhooks_memory.py; \
	run bench/views.py --contacts 1000000 --csv-rows 100000; \
	$(BIN)/python bench/summary.py "$$figures"; \
	if [ -n "$$failed" ]; then echo "make bench: these benches failed:$$failed"; exit 1; fi

sandbox: setup ## Run the local Mailjet sandbox in the foreground
	$(BIN)/mailjet-elt sandbox

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
