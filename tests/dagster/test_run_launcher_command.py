"""What the cluster's run launcher forks, and how it names a run's process
(``operate/run_launcher.py``; the launcher itself runs in ``dagster dev`` in
``tests/e2e/test_e2e_prefork_launcher.py``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from dagster._core.errors import DagsterLaunchFailedError

from tardis_assets.operate.run_launcher import (
    PreforkRunLauncher,
    split_command,
    worker_alive,
    worker_id,
)

PYTHON = "/venv/bin/python"


@pytest.mark.parametrize(
    ("command", "split"),
    [
        # Dagster's default entry point: the console script, run by the location's interpreter.
        (
            ["dagster", "api", "execute_run", "{}"],
            (PYTHON, "dagster", ["api", "execute_run", "{}"]),
        ),
        # An entry point given as ``python -m``: its own interpreter.
        (
            ["/other/python", "-m", "dagster", "api", "execute_run", "{}"],
            ("/other/python", "dagster", ["api", "execute_run", "{}"]),
        ),
        (["/usr/local/bin/my-wrapper", "api", "execute_run"], None),
        ([], None),
    ],
)
def test_split_command(command: list[str], split: tuple | None) -> None:
    assert split_command(command, PYTHON) == split


def test_an_entry_point_that_cannot_be_forked_is_one_clear_error() -> None:
    launcher = PreforkRunLauncher()
    with pytest.raises(DagsterLaunchFailedError, match=r"run r1: .*my-wrapper.*DefaultRunLauncher"):
        launcher.start_process("r1", ["/usr/local/bin/my-wrapper", "api"], PYTHON)


def test_worker_tag_names_one_process() -> None:
    assert worker_alive(worker_id(os.getpid()))
    pid = os.getpid()
    # The same pid with another start time is another process (the pid was reused).
    assert not worker_alive(f"{pid}:1")
    # A process already gone when it was tagged has no start time: a live pid is not it.
    assert not worker_alive(f"{pid}:")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    tag = worker_id(child.pid)
    child.wait()
    assert not worker_alive(tag)
