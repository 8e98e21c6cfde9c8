"""Remember every process a command starts and stop them all by pid (Linux /proc, no psutil).

Why: ``dagster dev`` runs a code server, a gRPC server, the webserver, the daemon and run workers
as children; SIGTERM to the parent alone (or to each child once) left several running. Children
may also be re-parented to init when their parent exits first, so the tree is walked repeatedly
while the command runs and every pid seen is kept, keyed with its kernel start time so that a pid
reused by an unrelated process is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STOP_GRACE_S = 10.0
KILL_WAIT_S = 5.0


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces or parens)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()


def _children_map() -> dict[int, list[int]]:
    """ppid -> child pids: one /proc scan serves a whole tree walk."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat_fields(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid``, parents before children."""
    tree = _children_map()
    found: list[int] = []
    stack = list(tree.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(tree.get(child, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system) used by ``pids`` and every child they have reaped.

    /proc counts a reaped child's time in its parent (cutime/cstime), so over the live
    processes of a tree this is the whole tree's CPU so far, short processes included; a
    process gone since (or re-parented to init) is missed, so it is a lower bound.
    """
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie counts as gone (it holds nothing but its table entry)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def start_time(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[19] if fields is not None else None


def same_process(pid: int, started: str | None) -> bool:
    """True while ``pid`` runs as the process first seen with kernel start time ``started``: a
    pid reused since, or one whose start time was never seen (``None``), is not it."""
    return alive(pid) and start_time(pid) == started


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@dataclass
class ProcessTree:
    """A started process and every descendant seen since; ``stop()`` ends them all."""

    process: subprocess.Popen[bytes]
    # pid -> kernel start time when first seen.
    known: dict[int, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.remember()

    def remember(self) -> None:
        """Add the current tree; call it now and then while the command runs."""
        for pid in (self.process.pid, *descendants(self.process.pid)):
            self.known.setdefault(pid, start_time(pid))

    def live(self) -> list[int]:
        """Remembered pids still running as the same process (not a reused pid)."""
        return _live(self.known)

    def cpu_seconds(self) -> float:
        """CPU the tree has used so far (``cpu_seconds``; the tree is walked again first)."""
        self.remember()
        return cpu_seconds(self.live())

    def stop(self, grace_s: float = STOP_GRACE_S) -> list[int]:
        """SIGTERM every remembered pid, wait up to ``grace_s``, SIGKILL the rest.

        Returns the pids that needed SIGKILL. The direct child is reaped; orphans re-parented to
        init are init's to reap (a zombie holds no port, file lock or memory).
        """
        self.remember()
        killed = stop_known(self.known, grace_s, on_poll=self._poll)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=KILL_WAIT_S)
        return killed

    def kill(self) -> list[int]:
        """SIGKILL every remembered pid at once: a crash with no chance to clean up, or what a
        lost machine looks like to the others. Waits (bounded) until the kernel has ended them,
        reaps the direct child, and returns the pids."""
        self.remember()
        pids = self.live()
        _signal(pids, signal.SIGKILL)
        _wait_gone(self.known, KILL_WAIT_S, self._poll)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=KILL_WAIT_S)
        return pids

    def _poll(self) -> None:
        self.process.poll()  # reap the direct child so it does not linger as a zombie
        self.remember()  # a child spawned during shutdown is caught too


def _live(known: dict[int, str | None]) -> list[int]:
    return [p for p, started in known.items() if same_process(p, started)]


def _wait_gone(known: dict[int, str | None], timeout_s: float, on_poll: Callable[[], None]) -> None:
    # SIGKILL is delivered asynchronously: wait (bounded) until the kernel has ended them.
    deadline = time.monotonic() + timeout_s
    while _live(known) and time.monotonic() < deadline:
        on_poll()
        time.sleep(0.05)


def stop_known(
    known: dict[int, str | None],
    grace_s: float = STOP_GRACE_S,
    on_poll: Callable[[], None] | None = None,
) -> list[int]:
    """Stop processes remembered as pid -> kernel start time (a pid reused since is skipped):
    SIGTERM, up to ``grace_s`` for them to exit, then SIGKILL. Returns the pids killed.

    Also for processes this process did not start (``tardis-assets cluster down`` stops what an
    earlier ``cluster up`` recorded); ``on_poll`` runs while waiting (reaping, remembering).
    """
    poll = on_poll or (lambda: None)
    _signal(_live(known), signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        poll()
        if not _live(known):
            break
        time.sleep(0.2)
    killed = _live(known)
    _signal(killed, signal.SIGKILL)
    _wait_gone(known, KILL_WAIT_S, poll)
    return killed


def tree_of(pid: int) -> dict[int, str | None]:
    """``pid`` and its live descendants as pid -> kernel start time."""
    return {p: start_time(p) for p in (pid, *descendants(pid))}
