"""Cluster fixtures: real PostgreSQL (behind PgBouncer), Redis, ``dagster dev``, Celery workers.

Every service listens on 127.0.0.1 on a free port with its files in a temporary folder, and is
stopped by the fixture that started it (by pid); the tests then check that none of those pids
survive. Nothing is mocked: the workers are separate ``celery worker`` processes with their own
environment, sharing only the lake folder, the broker and PostgreSQL, as on separate machines.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from tardis_assets.defs.pipeline import materialize_days
from tardis_assets.defs.registry import build_registry
from tardis_assets.defs.resources import resources_from
from tardis_assets.lib.cluster.logscan import file_texts, lock_lines
from tardis_assets.lib.errors import OperationError
from tardis_assets.lib.llm import OfflineServer
from tardis_assets.lib.settings import load_settings
from tardis_assets.lib.storage.digest import lake_hashes
from tardis_assets.lib.warehouse import Warehouse
from tardis_assets.operate.cluster import LocalCluster
from tardis_assets.operate.pgbouncer import pgbouncer_binary
from tardis_assets.operate.postgres import server_bin_dir
from tardis_assets.operate.proctree import alive
from tardis_assets.operate.redis import redis_binary
from tardis_assets.operate.runlogs import compute_log_files, event_texts

REPO = Path(__file__).resolve().parents[2]
# Small days: one instrument, trades and quotes, a light synthetic market.
CONFIG = """\
[market]
instruments = ["binance-futures:BTCUSDT"]
raw_types = ["trades", "quotes"]
synthetic_trades_per_day = 20000
"""


@pytest.fixture(scope="session")
def cluster_binaries() -> None:
    """PostgreSQL, PgBouncer and Redis from Debian's packages (``make cluster-packages``), else
    skip."""
    try:
        server_bin_dir()
        pgbouncer_binary()
        redis_binary()
    except OperationError as exc:
        pytest.skip(f"cluster tests need postgresql, pgbouncer and redis-server: {exc}")


@pytest.fixture
def llm_server(request: pytest.FixtureRequest) -> Iterator[OfflineServer]:
    """The offline LLM stand-in in a process of its own, reached over loopback by the workers;
    an indirect parameter sets its latency per request (a slow provider makes a long step)."""
    with OfflineServer(latency_s=getattr(request, "param", 0.0), in_process=False) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, llm_server: OfflineServer) -> dict[str, str]:
    """The project's settings for every role (file and variables); no secrets exist here."""
    config = tmp_path / "tardis_assets.toml"
    config.write_text(CONFIG)
    return {
        "TARDIS_CONFIG": str(config),
        "TARDIS_LLM_PROVIDER": "offline",
        "TARDIS_LLM_BASE_URL": llm_server.base_url,
        # Long enough for any step of these small days; short enough that a step of a killed
        # worker is handed to the other one within the test.
        "TARDIS_CELERY_VISIBILITY_TIMEOUT": "60",
    }


@dataclass
class ClusterRun:
    """A started cluster and where its shared data lives."""

    cluster: LocalCluster
    data_dir: Path
    lake_uri: str

    @property
    def llm_cache(self) -> Path:
        return self.data_dir / "llm_cache" / "cache.sqlite"

    def warehouse(self) -> Warehouse:
        return Warehouse.at(self.lake_uri, self.data_dir / "warehouse.duckdb")

    def hashes(self) -> dict[str, tuple[int, str]]:
        """Content of every table of the cluster's lake, as ``embedded_hashes`` computes it."""
        return comparable(lake_hashes(self.warehouse()))

    def lock_errors(self, run_ids: list[str]) -> list[str]:
        """Lines naming a lock in the event log of the runs, every compute log and every
        service log (workers, dagster dev, PostgreSQL, Redis)."""
        assert self.cluster.head is not None
        with self.cluster.instance() as instance:
            events = list(event_texts(instance, run_ids))
        logs = compute_log_files(self.cluster.head.dagster_home)
        logs += [log for _, _, log in self.cluster.services()]
        return lock_lines([*events, *file_texts(logs)])


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A folder for PostgreSQL's and PgBouncer's files outside pytest's private tmp_path: as
    root both run as the postgres user, who cannot enter it."""
    folder = Path(tempfile.mkdtemp(prefix="tardis-pg-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def start_cluster(
    tmp_path: Path, project: dict[str, str], cluster_binaries: None, server_dir: Path
) -> Iterator[Callable[[int], ClusterRun]]:
    """Start a cluster with N workers (once per test); stopped, and checked gone, at the end."""
    started: list[LocalCluster] = []
    pids: list[int] = []

    def start(workers: int, cpus_per_worker: int | None = None) -> ClusterRun:
        data = tmp_path / "cluster_data"
        lake_uri = (data / "lake").as_uri()  # the lake root as a file:// URI
        cluster = LocalCluster(
            root=tmp_path / "cluster",
            data_dir=data,
            dagster_yaml=REPO / "deploy" / "dagster.yaml",
            workspace=REPO / "workspace.yaml",
            workers=workers,
            cwd=tmp_path,
            settings={**project, "TARDIS_LAKE": lake_uri},
            postgres_dir=server_dir,
            cpus_per_worker=cpus_per_worker,
        )
        started.append(cluster)
        cluster.up()
        pids.extend(p for _, tree, _ in cluster.services() for p in tree.live())
        return ClusterRun(cluster, data, lake_uri)

    try:
        yield start
    finally:
        for cluster in started:
            for _, tree, _ in cluster.services():
                tree.remember()
                pids.extend(tree.known)
            cluster.down()
    left = [p for p in set(pids) if alive(p)]
    assert not left, f"processes of the cluster still running: {left}"


def comparable(hashes: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """Every table but the per-run LLM statistics (``llm_partition_latest``): how many HTTP
    calls and cache hits *this run* had differs by construction between the run that paid and
    one that read the same answers from the cache."""
    return {t: h for t, h in hashes.items() if t != "llm_partition_latest"}


@pytest.fixture
def embedded_hashes(
    tmp_path: Path, project: dict[str, str], llm_server: OfflineServer
) -> Callable[[list[date], Path], dict[str, tuple[int, str]]]:
    """The same days, same settings, run in this process (in-process executor, a temporary
    SQLite instance, a lake of its own): the reference content of every table.

    The LLM answers are inputs, like the tick files: an answer carries the latency it was
    measured with, which sets when its signal became available and so what the backtests and
    fills do. The reference therefore starts from a copy of the cluster's LLM cache (the answers
    the cluster paid for) and must not make a single HTTP call."""

    def run(days: list[date], llm_cache: Path) -> dict[str, tuple[int, str]]:
        data = tmp_path / "embedded_data"
        env = {**project, "TARDIS_DATA_DIR": str(data), "TARDIS_LAKE": (data / "lake").as_uri()}
        settings = load_settings(env=env, cwd=tmp_path)
        settings.data.llm_cache.parent.mkdir(parents=True, exist_ok=True)
        with (
            sqlite3.connect(f"file:{llm_cache}?mode=ro", uri=True) as src,
            sqlite3.connect(settings.data.llm_cache) as dst,
        ):
            src.backup(dst)  # a consistent copy, WAL included
        paid_before = llm_server.request_count()
        registry = build_registry(settings)
        home = tmp_path / "embedded_home"
        home.mkdir(exist_ok=True)
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            results = materialize_days(
                registry,
                days,
                resources_from(settings),
                instance,
                report=lambda _: None,
                ranges=False,
            )
        assert all(r.success for r in results)
        assert llm_server.request_count() == paid_before, "the reference run called the LLM"
        return comparable(lake_hashes(Warehouse.at(settings.data.lake, settings.data.catalog)))

    return run
