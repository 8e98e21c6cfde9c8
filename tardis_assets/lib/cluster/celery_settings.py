"""The Celery settings shared by the processes that submit steps and the workers that run them.

Defined once because both sides must agree: a run worker (Dagster's Celery executor) publishes
one task per step, a Celery worker anywhere takes it. Why each setting:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a step is acknowledged when it ends, not
  when it is taken. A worker process killed mid-step (``kill -9``, a lost machine) leaves the
  step to be delivered again: at once when only the pool process died, after the visibility
  timeout when the whole worker did. Early acknowledgement (Celery's default) loses the step and
  the run waits for ever.
- ``worker_prefetch_multiplier = 1``: a worker reserves no more steps than it has free
  processes, so a busy worker never sits on a step an idle one could run.
- ``visibility_timeout``: how long an unacknowledged step stays with a silent worker; it must
  exceed the longest step (else a running step is delivered twice, which the lake's atomic
  partition writes and the LLM cache's claims make harmless but costly). The restore sweep runs
  every few seconds (kombu's default is about every 100 s), so redelivery follows the timeout.
- ``priority_steps`` 0-9: Redis keeps one list per priority step and serves the lowest number
  first; kombu's default has four steps (0, 3, 6, 9), which puts every step of dagster-celery's
  default priority (5) in one list. Ten steps let a run's ``dagster-celery/run_priority`` tag
  order its steps before or after other runs' (``STEP_PRIORITY_DEFAULT`` + the tag's value).

Broker and backend URLs can carry passwords: they are read from the environment by each process
(``BROKER_ENV``, ``BACKEND_ENV``) and never written into settings, run config or logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tardis_assets.lib.errors import ConfigError

BROKER_ENV = "TARDIS_CELERY_BROKER"
BACKEND_ENV = "TARDIS_CELERY_BACKEND"
QUEUE = "dagster"  # dagster-celery's queue: every worker takes every step from it
RESTORE_INTERVAL_S = 5
PRIORITY_STEPS = tuple(range(10))  # Redis serves 0 first
STEP_PRIORITY_DEFAULT = 5  # dagster-celery's priority of a step without tags


def celery_settings(visibility_timeout_s: int) -> dict[str, Any]:
    """Celery "lowercase" settings for both sides (executor ``config_source`` and the workers)."""
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": QUEUE,
        "broker_connection_retry_on_startup": True,
        # A nested dict replaces dagster-celery's whole default: its retry knobs are kept.
        "broker_transport_options": {
            "max_retries": 3,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
            "visibility_timeout": visibility_timeout_s,
            "unacked_restore_interval": RESTORE_INTERVAL_S,
            "unacked_restore_throttle": 1,
            "priority_steps": list(PRIORITY_STEPS),
        },
    }


def broker_urls(env: Mapping[str, str]) -> tuple[str, str]:
    """(broker, result backend) from the environment; a missing one is a clear error."""
    missing = [name for name in (BROKER_ENV, BACKEND_ENV) if not env.get(name)]
    if missing:
        raise ConfigError(
            f"the Celery executor needs {' and '.join(missing)} (broker and result backend URLs)",
            remedy="Set them to the Redis of the cluster, e.g. redis://host:6379/0 and "
            "redis://host:6379/1 (see README, Beyond one machine).",
        )
    return env[BROKER_ENV], env[BACKEND_ENV]
