"""`tardis-assets cluster up/down/status`: the cluster of ``operate/cluster.py`` from a shell.

``up`` starts PostgreSQL (behind PgBouncer), Redis, ``dagster dev`` (webserver and daemon, on
port 3000 so that ``tardis-assets backfill`` finds it without ``--url``) and N Celery workers,
records their pids in ``<data>/cluster/cluster.json`` and returns; the services keep running.
``down`` stops exactly the recorded processes (pid plus kernel start time, so a reused pid is
never hit).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tardis_assets.lib.errors import OperationError
from tardis_assets.lib.settings import Settings
from tardis_assets.operate.backfill import DEFAULT_URL, default_workspace
from tardis_assets.operate.cluster import (
    LocalCluster,
    read_state,
    running,
    settings_env,
    stop_recorded,
)

DEFAULT_PORT = int(DEFAULT_URL.rsplit(":", 1)[1])
DEFAULT_WORKERS = 2
DEPLOY_YAML = Path("deploy") / "dagster.yaml"


def cluster_root(settings: Settings) -> Path:
    return settings.data.dir / "cluster"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cluster_command", required=True)
    up = sub.add_parser(
        "up", help="start PostgreSQL, PgBouncer, Redis, dagster dev and N Celery workers"
    )
    up.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="Celery workers")
    up.add_argument("--concurrency", type=int, default=1, help="steps at once per worker")
    up.add_argument(
        "--cpus-per-worker",
        type=int,
        default=None,
        help="pin each worker to this many CPUs of its own (one machine per worker on one "
        "host); default: every worker may use the whole host",
    )
    up.add_argument("--port", type=int, default=DEFAULT_PORT, help="webserver port")
    up.add_argument(
        "--dagster-yaml",
        type=Path,
        default=DEPLOY_YAML,
        help="the cluster's Dagster instance (default: deploy/dagster.yaml of the repository)",
    )
    sub.add_parser("down", help="stop every process `cluster up` started")
    sub.add_parser("status", help="which services of the cluster run")


def up(args: argparse.Namespace, settings: Settings) -> int:
    root = cluster_root(settings)
    state = read_state(root)
    if state is not None and running(state):
        raise OperationError(
            f"a cluster already runs from {root} ({', '.join(running(state))}) at {state['url']}",
            remedy="Use it, or stop it first with `tardis-assets cluster down`.",
        )
    if args.workers < 1 or args.concurrency < 1:
        raise OperationError("--workers and --concurrency must be at least 1")
    if args.cpus_per_worker is not None and args.cpus_per_worker < 1:
        raise OperationError("--cpus-per-worker must be at least 1")
    if not args.dagster_yaml.is_file():
        raise OperationError(
            f"no Dagster instance file at {args.dagster_yaml}",
            remedy="Run from the repository (it has deploy/dagster.yaml) or pass --dagster-yaml.",
        )
    cluster = LocalCluster(
        root=root,
        data_dir=settings.data.dir,
        dagster_yaml=args.dagster_yaml.resolve(),
        workspace=default_workspace(root),
        workers=args.workers,
        port=args.port,
        settings=settings_env(),
        concurrency=args.concurrency,
        cpus_per_worker=args.cpus_per_worker,
    )
    cluster.up()
    state_file = cluster.write_state()
    assert cluster.postgres is not None and cluster.pooler is not None
    assert cluster.redis is not None
    print(f"cluster up: Dagster UI {cluster.url}")
    print(f"  PostgreSQL {cluster.postgres.url_redacted} (Dagster storage)")
    print(f"  PgBouncer 127.0.0.1:{cluster.pooler.port} (its connection pool, what Dagster uses)")
    print(f"  Redis {cluster.redis.url(0)} (Celery broker), {len(cluster.celery)} worker(s):")
    for worker in cluster.celery:
        pinned = f" on CPUs {','.join(map(str, worker.cpus))}" if worker.cpus else ""
        print(f"    {worker.hostname}{pinned} log {worker.log_path}")
    print(f"  shared data {settings.data.dir}; pids in {state_file}")
    url = "" if cluster.url == DEFAULT_URL else f" --url {cluster.url}"
    print(f"next: tardis-assets backfill --from 2025-03-01 --to 2025-03-08{url}")
    print("stop: tardis-assets cluster down")
    return 0


def down(settings: Settings) -> int:
    root = cluster_root(settings)
    stopped = stop_recorded(root)
    print(f"cluster down: stopped {', '.join(stopped)}" if stopped else "no cluster was running")
    return 0


def status(settings: Settings) -> int:
    state = read_state(cluster_root(settings))
    if state is None:
        print("no cluster was started from here")
        return 1
    live = running(state)
    for service in state["services"]:
        mark = "running" if service["name"] in live else "stopped"
        print(f"{service['name']:10s} {mark:8s} pid {service['pid']:7d}  log {service['log']}")
    print(f"Dagster UI {state['url']}")
    return 0 if len(live) == len(state["services"]) else 1


def run_from_args(args: argparse.Namespace, settings: Settings) -> int:
    if args.cluster_command == "up":
        return up(args, settings)
    if args.cluster_command == "down":
        return down(settings)
    return status(settings)
