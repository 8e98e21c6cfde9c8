"""What every server of the local cluster shares: waiting until it answers, stopping it by pid.

PostgreSQL, PgBouncer and Redis run in the foreground as children of the process that starts
them, each as a ``ProcessTree``, so their whole process tree is known and stopped by pid.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Self

from tardis_assets.lib.errors import OperationError
from tardis_assets.operate.proctree import ProcessTree


def find_binary(name: str, folder: Path, product: str, package: str) -> str:
    """``name`` on PATH or in ``folder`` (Debian's sbin is not on every user's PATH), else an
    error that says which Debian package provides it."""
    found = shutil.which(name) or (str(folder / name) if (folder / name).exists() else None)
    if found is None:
        raise OperationError(
            f"{product} is not installed: no {name} on PATH",
            remedy=f"Install it with `apt-get install -y {package}` (Debian) and try again.",
        )
    return found


def wait_until_ready(
    tree: ProcessTree, ready: Callable[[], bool], name: str, log: Path, timeout_s: float
) -> None:
    """Poll ``ready()`` until it is true; raise if the process exits or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if tree.process.poll() is not None:
            raise OperationError(
                f"{name} exited with code {tree.process.returncode} at start (log {log})"
            )
        if ready():
            return
        time.sleep(0.1)
    raise OperationError(f"{name} not ready after {timeout_s:.0f} s (log {log})")


class LocalServer:
    """Stop by pid, and use as a context manager; subclasses set ``tree`` in ``start()``."""

    tree: ProcessTree | None

    @property
    def host(self) -> str:
        """Every server of the local cluster listens on loopback only."""
        return "127.0.0.1"

    def start(self) -> Self:
        raise NotImplementedError

    def launch(self, cmd: list[str], output: int | IO[bytes], ready: Callable[[], None]) -> None:
        """Start ``cmd`` in a session of its own as this server's process tree, then call
        ``ready()`` (which waits until it answers); on any failure stop the tree and re-raise."""
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.tree = ProcessTree(process)
        try:
            ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> list[int]:
        """Stop the server's whole process tree; returns the pids that needed SIGKILL."""
        if self.tree is None:
            return []
        killed = self.tree.stop()
        self.tree = None
        return killed

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
