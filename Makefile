# One task runner for people and CI. Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Models for the test suite are pulled once and kept between runs.
export BGONE_TEST_MODEL_DIR ?= $(HOME)/.cache/bgone/test-models

.PHONY: install models run serve check lint test-fast test format bench-quality screenshots clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Idempotent: an installed, verified model is not fetched again.
models: install
	$(BIN)/bgone models pull

# Serves on 127.0.0.1:8000 with SQLite in the data directory (BGONE_* variables apply).
run: models
	$(BIN)/bgone serve

# Seconds: lint, format, types, and the layer rules (import-linter, pyproject.toml).
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

lint: check

# Under a minute: tests/unit, in process, with a fake engine; its PostgreSQL variants
# (marked postgres) are left to `make test`.
test-fast: install
	$(BIN)/pytest tests/unit -m "not postgres"

# Everything: unit, integration (real model, databases, browser) and hardening, in
# TEST_WORKERS pytest-xdist processes (0: one process). Most of the suite waits on child
# servers, Chromium and databases rather than computing, so a second worker fills the
# idle core (figures: docs/architecture.md); every test makes its own databases, Redis
# prefixes and ports, so workers share no state.
TEST_WORKERS ?= 2
test: check
	$(BIN)/pytest -n $(TEST_WORKERS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-quality: models
	$(BIN)/bgone models pull isnet u2net --accept-licence
	$(BIN)/bgone models quantize u2net
	$(BIN)/python -m bench.quality

# The README's pictures are taken by the browser tests; this copies the latest ones over.
screenshots:
	mkdir -p docs/screenshots
	cp test-output/screenshots/account-with-usage.png docs/screenshots/account.png
	cp test-output/screenshots/playground.png docs/screenshots/playground.png

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache test-output
