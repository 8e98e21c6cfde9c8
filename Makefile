# Every target creates .venv when it is missing, so a fresh clone needs only Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/data/.dagster_home
export PIP_DISABLE_PIP_VERSION_CHECK := 1

WORKERS ?= 2
# Test processes (pytest-xdist): a file's tests stay together, in order, in one process. Run in
# one process the suite keeps about 0.7 of a core busy on average: much of its time is waiting (a
# daemon's loop, a server starting, a killed run being reaped), which a second process fills.
TEST_PROCESSES ?= 2
# Debian's PostgreSQL keeps its server binaries out of PATH, and PgBouncer is in /usr/sbin.
CLUSTER_PACKAGES_PRESENT = ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && \
	(command -v pgbouncer || test -x /usr/sbin/pgbouncer) >/dev/null 2>&1 && \
	command -v redis-server >/dev/null 2>&1

.PHONY: run test ui bench lint format install dagster-home cluster-packages scale-up scale-down test-cluster

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

# PostgreSQL (Dagster storage) with PgBouncer (its connection pool) and Redis (Celery broker) for
# the cluster tests and scale-up.
cluster-packages:
	@$(CLUSTER_PACKAGES_PRESENT) || (command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq postgresql pgbouncer redis-server >/dev/null 2>&1); \
		$(CLUSTER_PACKAGES_PRESENT)) || \
		echo "postgresql/pgbouncer/redis-server not installable here: the cluster tests will be skipped"

test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq chromium >/dev/null 2>&1) || \
		echo "chromium not installable here: the browser test will be skipped")
	$(BIN)/python -m pytest -m "not bench and not cluster" -q --durations=15 \
		-n $(TEST_PROCESSES) --dist loadfile

ui: $(STAMP) dagster-home
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The same assets on Celery workers: PostgreSQL, Redis, dagster dev (UI on :3000) and
# $(WORKERS) workers, in the background; then `.venv/bin/tardis-assets backfill --from D --to D`.
scale-up: $(STAMP) cluster-packages
	$(BIN)/tardis-assets cluster up --workers $(WORKERS)

scale-down: $(STAMP)
	$(BIN)/tardis-assets cluster down

# PostgreSQL, Redis, dagster dev and Celery workers, started and stopped by the tests.
test-cluster: $(STAMP) cluster-packages
	$(BIN)/python -m pytest -m cluster -q

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/synthetic_day.py
	$(BIN)/python bench/execution.py
	$(BIN)/python bench/llm_cost.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/llm_throughput.py
	$(BIN)/python bench/scale_out.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
