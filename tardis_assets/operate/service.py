"""What every server of the local cluster shares: waiting until it answers, stopping it by pid.

PostgreSQL, PgBouncer and Redis run in the foreground as children of the process that starts
them, each as a ``ProcessTree``, so their whole process tree is known and stopped by pid.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from abc import ABC, abstractmethod
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


def log_tail(path: Path, chars: int = 600) -> str:
    """The end of a service's log, for the message that says why it did not start."""
    try:
        return path.read_text(errors="replace")[-chars:].strip()
    except OSError:
        return "(no log)"


def wait_until_ready(
    tree: ProcessTree,
    ready: Callable[[], bool],
    name: str,
    log: Path,
    timeout_s: float,
    every_s: float = 0.1,
) -> None:
    """Poll ``ready()`` every ``every_s`` until it is true; raise, with the end of ``log``, if
    the process exits or ``timeout_s`` passes. Each poll also records the tree's new processes,
    so a start that fails half-way is still stopped whole."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        tree.remember()
        if tree.process.poll() is not None:
            raise OperationError(
                f"{name} exited with code {tree.process.returncode} at start; "
                f"log {log}: {log_tail(log)}"
            )
        if ready():
            return
        time.sleep(every_s)
    raise OperationError(f"{name} not ready after {timeout_s:.0f} s; log {log}: {log_tail(log)}")


class LocalServer(ABC):
    """Stop by pid, and use as a context manager; subclasses set ``tree`` in ``start()``."""

    tree: ProcessTree | None

    @property
    def host(self) -> str:
        """Every server of the local cluster listens on loopback only."""
        return "127.0.0.1"

    @abstractmethod
    def start(self) -> Self:
        """Start the server and return once it answers (``launch`` does the common part)."""

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
