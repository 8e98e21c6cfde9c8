"""A whole cluster on this machine: PostgreSQL behind PgBouncer, Redis, ``dagster dev``, N workers.

Why one object: ``make scale-up`` / ``tardis-assets cluster up``, the cluster tests and the
scale-out benchmark start the same layout the README describes for separate machines, with the
same variables per role; only the addresses are loopback. Every service is a process tree this
module started and records (pid and kernel start time), so ``down()`` (or ``cluster down`` from
another process, through the state file) stops exactly those processes and nothing else.

Roles and what each one gets (nothing else is shared):
- head (``dagster dev``: webserver, daemon, code server, run workers): DAGSTER_HOME with
  ``deploy/dagster.yaml``, DAGSTER_PG_* (PgBouncer's address: every Dagster process reaches
  PostgreSQL through its pool, ``operate/pgbouncer.py``), the broker,
  TARDIS_EXECUTOR=celery, the settings;
- each worker: its own DAGSTER_HOME and log, DAGSTER_PG_*, the broker, the settings, the shared
  data folder (lake, inputs, LLM cache).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from tardis_assets.lib.cluster.cpus import cpu_sets, host_cpus
from tardis_assets.lib.errors import OperationError
from tardis_assets.operate.devserver import DevServer, DevServerError
from tardis_assets.operate.pgbouncer import PgBouncer
from tardis_assets.operate.postgres import PostgresServer
from tardis_assets.operate.proctree import (
    ProcessTree,
    alive,
    same_process,
    start_time,
    stop_known,
    tree_of,
)
from tardis_assets.operate.redis import RedisServer
from tardis_assets.operate.workers import CeleryWorker, worker_env

STATE_FILE = "cluster.json"
DAGSTER_YAML = "dagster.yaml"
# Settings a cluster passes on to every role from the environment that starts it: the project's
# own variables and the provider keys (values are handed over, never written to a file).
PASSED_PREFIXES = ("TARDIS_",)
PASSED_SUFFIXES = ("_API_KEY",)
NOT_PASSED = ("TARDIS_DATA_DIR", "TARDIS_EXECUTOR")  # the cluster sets these itself


def settings_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The project's variables and provider keys of ``env`` (default: this process's)."""
    source = os.environ if env is None else env
    return {
        k: v
        for k, v in source.items()
        if (k.startswith(PASSED_PREFIXES) or k.endswith(PASSED_SUFFIXES)) and k not in NOT_PASSED
    }


@dataclass
class LocalCluster:
    """The services of one cluster, their files under ``root``, the shared data in ``data_dir``.

    ``postgres_dir`` defaults to ``root/postgres``; as root it must be reachable by the
    ``postgres`` OS user (see ``operate/postgres.py``). ``cpus_per_worker`` pins each worker to
    CPUs of its own (``lib/cluster/cpus.py``), to stand for one machine per worker on one host;
    None leaves every worker the whole host.
    """

    root: Path
    data_dir: Path
    dagster_yaml: Path
    workspace: Path
    workers: int = 2
    port: int | None = None
    cwd: Path | None = None
    settings: Mapping[str, str] = field(default_factory=dict)
    postgres_dir: Path | None = None
    concurrency: int = 1
    cpus_per_worker: int | None = None
    postgres: PostgresServer | None = field(default=None, init=False)
    pooler: PgBouncer | None = field(default=None, init=False)
    redis: RedisServer | None = field(default=None, init=False)
    head: DevServer | None = field(default=None, init=False)
    celery: list[CeleryWorker] = field(default_factory=list, init=False)

    def role_env(self) -> dict[str, str]:
        """What every role shares: PostgreSQL, the broker, the executor, settings, the data."""
        assert self.pooler is not None and self.redis is not None
        return {
            **self.settings,
            **self.pooler.env(),
            **self.redis.env(),
            "TARDIS_EXECUTOR": "celery",
            "TARDIS_DATA_DIR": str(self.data_dir),
        }

    def worker_cpus(self) -> list[tuple[int, ...]]:
        """The CPU set of each worker (empty tuples: not pinned)."""
        if self.cpus_per_worker is None:
            return [()] * self.workers
        return cpu_sets(self.workers, self.cpus_per_worker, host_cpus())

    def _home(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.dagster_yaml, folder / DAGSTER_YAML)
        return folder

    def up(self) -> LocalCluster:
        """Start every service, in dependency order; on any failure stop what started."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.postgres = PostgresServer(self.postgres_dir or self.root / "postgres").start()
            self.pooler = PgBouncer(self.postgres.data_dir / "pgbouncer", self.postgres).start()
            self.redis = RedisServer(self.root / "redis").start()
            role = self.role_env()
            for i, cpus in enumerate(self.worker_cpus(), start=1):
                folder = self.root / f"worker{i}"
                env = worker_env({**role, "DAGSTER_HOME": str(self._home(folder / "home"))})
                worker = CeleryWorker(
                    f"w{i}", env, folder / "worker.log", self.concurrency, cpus=cpus
                )
                self.celery.append(worker.start(wait=False))
            home = self._home(self.root / "dagster_home")
            self.head = DevServer(
                dagster_home=home,
                data_dir=self.data_dir,
                workspace=self.workspace,
                port=self.port,
                cwd=self.cwd,
                extra_env=role,
            )
            self.head.start()
            self.port = self.head.port
            for worker in self.celery:
                worker.wait_ready()
        except DevServerError as exc:
            self.down()
            raise OperationError(f"the Dagster webserver/daemon did not start: {exc}") from None
        except BaseException:
            self.down()
            raise
        return self

    @property
    def url(self) -> str:
        assert self.head is not None
        return self.head.url

    def services(self) -> Iterator[tuple[str, ProcessTree, Path]]:
        """(name, process tree, log) of every running service, in start order."""
        if self.postgres and self.postgres.tree:
            yield "postgres", self.postgres.tree, self.postgres.data_dir / "postgres.log"
        if self.pooler and self.pooler.tree:
            yield "pgbouncer", self.pooler.tree, self.pooler.log_path
        if self.redis and self.redis.tree:
            yield "redis", self.redis.tree, self.redis.log_path
        for worker in self.celery:
            if worker.tree:
                yield worker.name, worker.tree, worker.log_path
        if self.head and self.head.tree:
            yield "dagster", self.head.tree, self.head.log_path

    def down(self) -> list[int]:
        """Stop workers, then Dagster, Redis, PgBouncer and PostgreSQL; returns the pids that
        needed SIGKILL."""
        killed: list[int] = []
        for worker in self.celery:
            killed += worker.stop()
        if self.head is not None:
            killed += self.head.stop()
        if self.redis is not None:
            killed += self.redis.stop()
        if self.pooler is not None:
            killed += self.pooler.stop()
        if self.postgres is not None:
            killed += self.postgres.stop()
        return killed

    def write_state(self) -> Path:
        """Record what runs, so ``cluster down`` in another process stops exactly these pids."""
        state = {
            "url": self.url,
            "data_dir": str(self.data_dir),
            "postgres": self.postgres.url_redacted if self.postgres else None,
            "broker": self.redis.url(0) if self.redis else None,
            "services": [
                {
                    "name": name,
                    "pid": tree.process.pid,
                    "start": start_time(tree.process.pid),
                    "log": str(log),
                }
                for name, tree, log in self.services()
            ],
        }
        path = self.root / STATE_FILE
        path.write_text(json.dumps(state, indent=2))
        return path

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        """The cluster's Dagster instance (its PostgreSQL) in this process, to read run logs.

        The instance's dagster.yaml reads DAGSTER_PG_* from the environment: they are set for
        the block and restored after it."""
        assert self.head is not None and self.postgres is not None
        saved = {k: os.environ.get(k) for k in self.postgres.env()}
        os.environ.update(self.postgres.env())
        try:
            with dg.DagsterInstance.from_config(str(self.head.dagster_home)) as inst:
                yield inst
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def __enter__(self) -> LocalCluster:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()


def read_state(root: Path) -> dict | None:
    path = root / STATE_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text())


def running(state: dict) -> list[str]:
    """Names of the recorded services still running as the same process."""
    return [s["name"] for s in state["services"] if same_process(s["pid"], s["start"])]


def stop_recorded(root: Path) -> list[str]:
    """Stop the services a ``cluster up`` recorded under ``root``; returns the names stopped.

    Workers and Dagster first (they hold connections), PostgreSQL last with a fast shutdown.
    """
    state = read_state(root)
    if state is None:
        return []
    stopped = []
    for service in reversed(state["services"]):
        pid, started = service["pid"], service["start"]
        if not same_process(pid, started):
            continue
        known = tree_of(pid)
        if service["name"] == "postgres":
            for child in known:
                if Path(_exe(child)).name == "postgres":
                    with suppress(ProcessLookupError):
                        os.kill(child, signal.SIGINT)  # fast shutdown of the postmaster
                    break
            deadline = time.monotonic() + 15
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        stop_known(known)
        stopped.append(service["name"])
    (root / STATE_FILE).unlink(missing_ok=True)
    return stopped


def _exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""
