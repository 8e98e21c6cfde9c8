"""The Celery app a worker runs: ``celery -A tardis_assets.defs.cluster.celery_app worker``.

A worker needs only its own environment: the broker and backend (TARDIS_CELERY_BROKER /
_BACKEND), PostgreSQL for Dagster's storage (the DAGSTER_PG_* variables the instance's
dagster.yaml names), and the project's settings (TARDIS_CONFIG / TARDIS_DATA_DIR pointing at the
shared lake). Each task carries the run's instance reference and a pointer to the code location,
so the worker loads the same definitions and writes its events straight to PostgreSQL.

``app`` is module state because Celery's ``-A`` option looks the app up by attribute, as Dagster
looks up ``defs`` in ``definitions.py``; nothing else in the project imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from celery import Celery
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

from tardis_assets.lib.cluster.celery_settings import broker_urls, celery_settings
from tardis_assets.lib.settings import load_settings


def build_app(env: Mapping[str, str]) -> Celery:
    """dagster-celery's app and tasks, with the project's shared settings (acks late, ...)."""
    broker, backend = broker_urls(env)
    settings = load_settings(env)
    app = make_app(
        {
            "broker": broker,
            "backend": backend,
            "config_source": celery_settings(settings.executor.visibility_timeout_s),
        }
    )
    create_task(app)
    create_execute_job_task(app)
    create_resume_job_task(app)
    return app


app = build_app(os.environ)
