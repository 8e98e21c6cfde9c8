"""Start and stop Celery workers that run the code location's steps.

Each worker is started as it would be on a machine of its own: its own process tree, its own
environment (built by ``worker_env`` from the roles' variables only: broker, PostgreSQL, the
project's settings and shared data folder), its own log. Nothing else is shared with the
process that starts it, so what works here works with the same variables on another host.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tardis_assets.lib.cluster.celery_settings import QUEUE
from tardis_assets.lib.cluster.cpus import pin_to, thread_env
from tardis_assets.operate.proctree import ProcessTree
from tardis_assets.operate.service import wait_until_ready

APP = "tardis_assets.defs.cluster.celery_app"
READY_TIMEOUT_S = 120.0
# What a worker inherits from the environment that starts it besides its role's variables:
# the basics a process needs to run at all (no keys, no other project's settings).
BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME", "VIRTUAL_ENV")


def worker_env(role: Mapping[str, str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A worker's environment: the basics of ``base`` (default: this process's) plus ``role``
    (broker, DAGSTER_PG_*, DAGSTER_HOME, TARDIS_* settings, provider keys if any)."""
    source = os.environ if base is None else base
    env = {k: source[k] for k in BASE_ENV if k in source}
    env.update(role)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class CeleryWorker:
    """One ``celery worker`` process (prefork pool of ``concurrency`` processes).

    ``cpus``: pin the worker's whole process tree to these CPUs and size its steps' thread
    pools to them (``lib/cluster/cpus.py``: a worker as on a machine of that size); empty: the
    worker may use the whole host.
    """

    name: str
    env: Mapping[str, str]
    log_path: Path
    concurrency: int = 1
    cwd: Path | None = None
    cpus: tuple[int, ...] = ()
    tree: ProcessTree | None = field(default=None, init=False)

    @property
    def hostname(self) -> str:
        """Celery's node name, also what dagster-celery records as a step's "Celery worker"."""
        return f"{self.name}@{os.uname().nodename}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            APP,
            "worker",
            "--loglevel",
            "INFO",
            "-n",
            self.hostname,
            "-Q",
            QUEUE,
            "-c",
            str(self.concurrency),
            "--prefetch-multiplier",
            "1",
            "-O",
            "fair",
            "--without-gossip",
            "--without-mingle",
        ]

    def start(self, wait: bool = True) -> CeleryWorker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_bytes(b"")
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env={**self.env, **thread_env(self.cpus)} if self.cpus else dict(self.env),
                # In the child before exec: the pool processes it forks inherit the CPU set.
                preexec_fn=functools.partial(pin_to, self.cpus) if self.cpus else None,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.tree = ProcessTree(process)
        if wait:
            try:
                self.wait_ready()
            except BaseException:
                self.stop()
                raise
        return self

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until Celery logs that this node is ready to take tasks."""
        assert self.tree is not None
        ready = re.compile(rf"{re.escape(self.hostname)} ready\.")
        wait_until_ready(
            self.tree,
            lambda: ready.search(self.log_path.read_text(errors="replace")) is not None,
            f"celery worker {self.name}",
            self.log_path,
            timeout_s,
            every_s=0.2,
        )

    @property
    def pids(self) -> list[int]:
        """The worker's live processes (main and pool)."""
        if self.tree is None:
            return []
        self.tree.remember()
        return self.tree.live()

    def kill(self) -> list[int]:
        """``kill -9`` of the whole worker: what another machine sees when this one dies."""
        return self.tree.kill() if self.tree is not None else []

    def stop(self) -> list[int]:
        """Warm shutdown (SIGTERM: the current step may finish within the grace period), then
        SIGKILL; an unfinished step is not acknowledged and goes to another worker."""
        if self.tree is None:
            return []
        killed = self.tree.stop()
        self.tree = None
        return killed
