# Every target creates .venv when it is missing, so a fresh clone needs only Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/data/.dagster_home
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test ui bench lint format install dagster-home

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 2>/dev/null || true
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

dagster-home:
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

run: $(STAMP) dagster-home
	$(BIN)/tardis-assets demo

test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq chromium >/dev/null 2>&1) || \
		echo "chromium not installable here: the browser test will be skipped")
	$(BIN)/python -m pytest -m "not bench" -q

ui: $(STAMP) dagster-home
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/synthetic_day.py
	$(BIN)/python bench/execution.py
	$(BIN)/python bench/llm_cost.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/llm_throughput.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
