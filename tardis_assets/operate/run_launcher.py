"""A Dagster run launcher that forks each run's process from one that has Dagster imported.

Why: Dagster's default launcher asks the code server to spawn ``python -m dagster api
execute_run`` per run, and that process spends most of its 3-4 CPU-s importing Dagster,
SQLAlchemy, Alembic and Celery before it sends the first step to a worker. On a head node of
a backfill (three runs per instrument-day) that is CPU the workers' control plane competes for.
This launcher runs the same command, with the same arguments Dagster's container launchers
build (``ExecuteRunArgs``), as a child of a fork server (``lib/cluster/forkserver.py``) that
imported those libraries once. The code location itself is not preloaded: each run imports the
project from disk, as a spawned process would.

Configured in the cluster's ``dagster.yaml`` (``deploy/dagster.yaml``):

    run_launcher:
      module: tardis_assets.operate.run_launcher
      class: PreforkRunLauncher
      config: {preload: [...]}   # optional: the libraries to import once

What a run's process is, for Dagster: it runs where the daemon runs (as with the default
launcher), its pid and start time are a run tag (``tardis/run_worker``), run monitoring asks
whether that process still lives (a killed run worker fails its run instead of hanging), and
termination sends it SIGTERM, which ``dagster api execute_run`` handles as an interrupt.

A run launcher is a Dagster extension point whose base class and argument types are only in
Dagster's internal modules (``dagster._core.launcher``, ``dagster._grpc.types``,
``dagster._serdes``), where Dagster's own Docker and Kubernetes launchers import them from too.
Dagster is pinned to one version (pyproject), and ``tests/e2e/test_e2e_prefork_launcher.py``
fails if those names move.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterLaunchFailedError
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, RunLauncher, WorkerStatus
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClass, ConfigurableClassData

from tardis_assets.lib.cluster.forkserver import ForkServer
from tardis_assets.operate.proctree import same_process, start_time

DAGSTER_SCRIPT = "dagster"  # the console script and the module it runs
WORKER_TAG = "tardis/run_worker"  # "<pid>:<kernel start time>" of the run's process
# What ``dagster api execute_run`` imports before its first step: Dagster's command line, the
# PostgreSQL storage and the Celery executor with their dependencies (SQLAlchemy, Alembic,
# psycopg2, Celery, kombu, redis). Never the code location (see the module docstring).
PRELOAD = ("dagster._cli", "dagster._cli.api", "dagster_postgres", "dagster_celery")


def split_command(command: Sequence[str], executable: str) -> tuple[str, str, list[str]] | None:
    """(interpreter, module, argv) of a ``python -m module ...`` command, or of the ``dagster``
    console script (Dagster's default entry point, run by the code location's ``executable``);
    None for any other command."""
    if len(command) >= 3 and command[1] == "-m":
        return command[0], command[2], list(command[3:])
    if command and command[0] == DAGSTER_SCRIPT:
        return executable, DAGSTER_SCRIPT, list(command[1:])
    return None


def worker_id(pid: int) -> str:
    """The tag value naming one process: its pid and kernel start time (a reused pid differs)."""
    return f"{pid}:{start_time(pid) or ''}"


def worker_pid(tag: str) -> int:
    """The pid in a ``worker_id`` tag."""
    return int(tag.partition(":")[0])


def worker_alive(tag: str) -> bool:
    """Whether the process ``tag`` names still runs (same pid, same start time; a tag without a
    start time names a process that had ended before it was tagged)."""
    pid, _, started = tag.partition(":")
    return same_process(int(pid), started or None)


class PreforkRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run as ``dagster api execute_run`` forked from a preloaded server."""

    def __init__(
        self, inst_data: ConfigurableClassData | None = None, preload: Sequence[str] = PRELOAD
    ) -> None:
        self._inst_data = inst_data
        self.preload = tuple(preload)
        self._servers: dict[str, ForkServer] = {}  # one per interpreter
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, dg.Field]:
        return {"preload": dg.Field([str], is_required=False, default_value=list(PRELOAD))}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> PreforkRunLauncher:
        return cls(inst_data=inst_data, preload=config_value.get("preload", PRELOAD))

    def start_process(self, run_id: str, command: Sequence[str], executable: str) -> int:
        """Fork ``command`` from its interpreter's fork server (started on first use); the pid."""
        split = split_command(command, executable)
        if split is None:
            raise DagsterLaunchFailedError(
                f"run {run_id}: its code location's entry point {command[0]!r} is neither the "
                "dagster command nor `python -m`, and only those can be forked; give that "
                "location Dagster's DefaultRunLauncher (remove run_launcher from dagster.yaml)"
            )
        executable, module, argv = split
        server = self._servers.setdefault(executable, ForkServer(self.preload, executable))
        return server.fork(module, argv)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        origin = run.job_code_origin
        if origin is None:
            raise dg.DagsterInvariantViolationError(
                f"run {run.run_id} has no code origin: it cannot be launched in a process"
            )
        command = ExecuteRunArgs(
            job_origin=origin, run_id=run.run_id, instance_ref=self._instance.get_ref()
        ).get_command_args()
        pid = self.start_process(run.run_id, command, origin.executable_path)
        self._instance.add_run_tags(run.run_id, {WORKER_TAG: worker_id(pid)})

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        tag = run.tags.get(WORKER_TAG)
        if not tag or not worker_alive(tag):
            self._instance.report_engine_event(
                "The run's process is not running: nothing to terminate.", run, cls=type(self)
            )
            return False
        self._instance.report_run_canceling(run)
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile: nothing to stop
            os.kill(worker_pid(tag), signal.SIGTERM)
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        tag = run.tags.get(WORKER_TAG)
        if not tag:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "the run has no process tag")
        if worker_alive(tag):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=tag)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run's process (pid {worker_pid(tag)}) ended without ending the run",
            run_worker_id=tag,
        )

    def dispose(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()
