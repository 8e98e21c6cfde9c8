"""The cluster's run launcher (``operate/run_launcher.py``) in a real ``dagster dev``.

The instance takes the run queue, launcher and run monitoring sections of
``deploy/dagster.yaml`` as they are (storage stays SQLite in a temporary DAGSTER_HOME, so no
PostgreSQL is needed), and the daemon launches every run through it. The tests show that a
run's process is a child of the fork server and runs to success, that termination (through the
instance, as the UI does it) cancels a run, and that a run whose process is killed with SIGKILL
is failed by run monitoring instead of staying STARTED.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from e2e_kit import REPO, dev_server

from tardis_assets.lib.cluster import forkserver
from tardis_assets.operate.devserver import DevServer
from tardis_assets.operate.graphql import FINISHED_RUN, DagsterGraphQL, RunInfo
from tardis_assets.operate.proctree import alive
from tardis_assets.operate.run_launcher import WORKER_TAG, PreforkRunLauncher, worker_pid

pytestmark = pytest.mark.e2e

LOCATION = Path(__file__).with_name("e2e_prefork_location.py")
TEST_TAG = "tardis/prefork_test"
MONITOR_POLL_S = 2
RUN_TIMEOUT_S = 120.0


def instance_yaml() -> str:
    """The cluster profile's run queue, launcher and run monitoring (with a short monitoring
    interval), on the default SQLite storage."""
    deployed = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    monitoring = {**deployed["run_monitoring"], "poll_interval_seconds": MONITOR_POLL_S}
    return yaml.safe_dump(
        {
            "telemetry": {"enabled": False},
            "run_coordinator": deployed["run_coordinator"],
            "run_launcher": deployed["run_launcher"],
            "run_monitoring": monitoring,
        }
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("prefork")
    (root / "dagster.yaml").write_text(instance_yaml())
    with dev_server(root, LOCATION, "prefork", root / "dagster.yaml") as dev:
        yield dev


@pytest.fixture(scope="module")
def client(server: DevServer) -> Iterator[DagsterGraphQL]:
    with DagsterGraphQL(server.url) as gql:
        yield gql


def launch(client: DagsterGraphQL, asset: str) -> tuple[str, str]:
    """Queue a run of ``asset``; returns (run id, the test tag's value)."""
    (repository,) = {node["repository"] for node in client.asset_nodes().values()}
    value = secrets.token_hex(4)
    return client.launch_run(repository, [asset], {TEST_TAG: value}), value


def wait_run(client: DagsterGraphQL, value: str, until) -> RunInfo:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        runs = client.runs(tag=(TEST_TAG, value))
        if runs and until(runs[0]):
            return runs[0]
        assert time.monotonic() < deadline, f"run {runs[0] if runs else value} not there in time"
        time.sleep(0.5)


def started_worker(client: DagsterGraphQL, value: str) -> int:
    """The pid of a started run's process, from the launcher's tag."""
    run = wait_run(client, value, lambda r: r.status == "STARTED" and WORKER_TAG in r.tags)
    return worker_pid(run.tags[WORKER_TAG])


def test_a_run_is_forked_from_the_fork_server(server: DevServer, client: DagsterGraphQL) -> None:
    _, value = launch(client, "whoami")
    run = wait_run(client, value, lambda r: r.status in FINISHED_RUN)
    assert run.status == "SUCCESS", run
    record = json.loads((server.data_dir / "whoami.json").read_text())
    # The in-process executor: the asset ran in the run's own process, the one the tag names.
    assert worker_pid(run.tags[WORKER_TAG]) == record["pid"]
    assert record["parent_cmdline"][1:3] == ["-m", forkserver.__name__], record
    assert "dagster._cli" in record["parent_cmdline"]


def test_terminate_cancels_the_run(server: DevServer, client: DagsterGraphQL) -> None:
    run_id, value = launch(client, "sleeper")
    pid = started_worker(client, value)
    with dg.DagsterInstance.from_config(str(server.dagster_home)) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, PreforkRunLauncher)
        assert launcher.terminate(run_id)
    run = wait_run(client, value, lambda r: r.status in FINISHED_RUN)
    assert run.status == "CANCELED", run
    deadline = time.monotonic() + 30
    while alive(pid):
        assert time.monotonic() < deadline, f"run process {pid} still alive after cancel"
        time.sleep(0.2)


def test_a_killed_run_process_fails_its_run(client: DagsterGraphQL) -> None:
    _, value = launch(client, "sleeper")
    pid = started_worker(client, value)
    os.kill(pid, signal.SIGKILL)
    run = wait_run(client, value, lambda r: r.status in FINISHED_RUN)
    assert run.status == "FAILURE", run
