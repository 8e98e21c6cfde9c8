"""The executor of every run of the code location, chosen by configuration only.

``in_process`` (the default): all steps of a run in the run's own process; a separate process per
step costs seconds of imports for about a second of work. ``celery``: each step is a Celery task
that any worker on any machine takes (dagster-celery), which is what lets a backfill of thousands
of partitions spread over many machines. The broker and backend URLs stay environment references
(``{"env": ...}``), resolved in each run worker when the run starts, so a password in them never
reaches the definitions, the UI or the event log.
"""

from __future__ import annotations

import dagster as dg

from tardis_assets.lib.cluster.celery_settings import BACKEND_ENV, BROKER_ENV, celery_settings
from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.settings import ExecutorSettings


def executor_for(settings: ExecutorSettings) -> dg.ExecutorDefinition:
    """The Dagster executor the settings name."""
    if not settings.distributed:
        return dg.in_process_executor
    try:
        from dagster_celery import celery_executor
    except ImportError:
        raise ConfigError(
            "executor 'celery' needs dagster-celery, which is not installed",
            remedy="Install the cluster extra: pip install 'tardis_assets[cluster]'.",
        ) from None
    return celery_executor.configured(
        {
            "broker": {"env": BROKER_ENV},
            "backend": {"env": BACKEND_ENV},
            "config_source": celery_settings(settings.visibility_timeout_s),
        },
        name="celery",
    )
