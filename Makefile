# mailjet-elt — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
DEV_STAMP := $(VENV)/.dev-stamp

.DEFAULT_GOAL := help
.PHONY: help setup setup-dev demo test test-fast lint format bench sandbox clean

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
	@rm -f $(DEV_STAMP)
	@touch $(STAMP)
	@echo "make setup: done; the commands are in $(BIN) (mailjet-elt --help)"

$(DEV_STAMP): $(STAMP)
	@echo "make setup-dev: installing the test and lint tools (pytest, ruff, mypy, a PostgreSQL for the tests)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(DEV_STAMP)

demo: setup ## Start a seeded local Mailjet sandbox and tour it for real
	$(BIN)/mailjet-elt demo

test-fast: setup-dev lint ## Lint and the unit tier (pure cores, plain data): for every edit
	$(BIN)/python -m pytest -q -m unit

test: setup-dev lint ## Lint, type-check and run every tier (unit, integration, e2e)
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
