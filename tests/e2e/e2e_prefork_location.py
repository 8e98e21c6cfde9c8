"""A code location of two assets, for the forked run launcher's end-to-end test.

``whoami`` records which process ran it (pid, parent pid, the parent's command line), so the
test can tell that a run's process was forked from the fork server; ``sleeper`` runs until it
is terminated or killed.
"""

import json
import os
import time
from pathlib import Path

import dagster as dg

SLEEP_S = 600.0


def _record_path() -> Path:
    return Path(os.environ["TARDIS_DATA_DIR"]) / "whoami.json"


@dg.asset
def whoami() -> None:
    """Write this run's process identity where the test reads it."""
    parent = os.getppid()
    cmdline = Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0")
    record = {
        "pid": os.getpid(),
        "ppid": parent,
        "parent_cmdline": [part.decode() for part in cmdline if part],
    }
    _record_path().write_text(json.dumps(record))


@dg.asset
def sleeper() -> None:
    """Run until the process is stopped."""
    time.sleep(SLEEP_S)


defs = dg.Definitions(assets=[whoami, sleeper], executor=dg.in_process_executor)
