"""Stopping a process tree by pid: children that ignore SIGTERM and orphans are still ended.

Real processes: a parent that starts a SIGTERM-ignoring child and a grandchild, like the
``dagster dev`` tree whose services outlived a plain SIGTERM.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tardis_assets.operate.proctree import ProcessTree, alive, descendants

pytestmark = pytest.mark.e2e

# The parent starts a child that ignores SIGTERM; that child starts a sleeping grandchild (which
# inherits the ignored SIGTERM).
PARENT = """
import subprocess, sys, time
child = '''
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("ready", flush=True)
time.sleep(600)
'''
subprocess.Popen([sys.executable, "-c", child], stdout=open(sys.argv[1], "w"))
time.sleep(600)
"""


def _wait_for(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_stop_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    marker = tmp_path / "ready.txt"
    proc = subprocess.Popen([sys.executable, "-c", PARENT, str(marker)], start_new_session=True)
    tree = ProcessTree(proc)
    try:
        _wait_for(lambda: marker.exists() and marker.read_text().startswith("ready"))
        _wait_for(lambda: len(descendants(proc.pid)) == 2)
        tree.remember()
        pids = tree.live()
        assert len(pids) == 3, pids
        # SIG_IGN is inherited across fork and exec: the grandchild ignores SIGTERM too.
        stubborn = set(descendants(proc.pid))
        started = time.monotonic()
        # A generous grace: on a loaded machine the parent may take a moment to be scheduled and
        # die on SIGTERM, and only the SIGTERM-ignoring pair must be left for SIGKILL.
        killed = tree.stop(grace_s=4.0)
        assert time.monotonic() - started < 15
        assert set(killed) == stubborn  # the parent ended on SIGTERM; the others needed KILL
        assert not [p for p in pids if alive(p)]
        assert proc.returncode is not None
    finally:
        tree.stop(grace_s=0.5)


def test_orphans_are_remembered(tmp_path: Path) -> None:
    """A grandchild whose parent already exited is re-parented away but still stopped."""
    marker = tmp_path / "ready.txt"
    proc = subprocess.Popen([sys.executable, "-c", PARENT, str(marker)], start_new_session=True)
    tree = ProcessTree(proc)
    try:
        _wait_for(lambda: marker.exists() and marker.read_text().startswith("ready"))
        _wait_for(lambda: len(descendants(proc.pid)) == 2)
        tree.remember()
        pids = tree.live()
        proc.kill()  # the parent dies first: its child and grandchild become orphans
        proc.wait()
        assert descendants(proc.pid) == []
        orphans = [p for p in pids if p != proc.pid]
        assert all(alive(p) for p in orphans)
        tree.stop(grace_s=1.0)
        assert not [p for p in orphans if alive(p)]
    finally:
        tree.stop(grace_s=0.5)
