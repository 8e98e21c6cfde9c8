"""Dagster wiring for running the code location on Celery workers (executor, worker app)."""
