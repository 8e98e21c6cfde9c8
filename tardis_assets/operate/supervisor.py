"""Runs that die must not block the next one; a run that waits must wait boundedly and stop on
SIGTERM/SIGINT.

Dagster keeps a pool slot claimed by a run whose process was killed (``kill -9``), and the run
stays STARTED for ever; every later step of that pool then waits. Its in-process wait loop spins
on one core and ignores SIGTERM and SIGINT (they are deferred to the next step boundary, which a
waiting step never reaches). Three parts fix that for runs started by this project:

- every run is tagged with the host, pid and pid start time of the process that runs it;
- ``reap_dead_runs`` marks runs whose process is gone failed and frees their slots, plus the
  slots still held by runs that already finished (which Dagster also leaves behind); it runs
  before every run and every second while one waits;
- ``supervised`` watches a run from a thread: a step pending on a pool longer than the limit is
  given up with a sentence naming the pool and its holders, and SIGTERM/SIGINT stop the run at
  once. The watcher learns of the signals through ``signal.set_wakeup_fd``: Python's C-level
  handler writes every signal number to that socket whatever Python-level handler Dagster has
  installed (Dagster's only sets a flag it reads at the next step), and, unlike a blocked signal
  mask, nothing of it is inherited by the processes a run starts. Either way the run is marked
  failed and its claims are removed before the process exits, so nothing is left held. Stopping
  abruptly is safe: every write of the project is an atomic rename or a durable commit.

Runs launched by the daemon or the webserver are covered by Dagster itself (the code server
marks a killed run worker failed; ``run_monitoring.free_slots_after_run_end_seconds`` in
dagster.yaml frees its slots).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import dagster as dg

from tardis_assets.operate.proctree import alive, descendants, start_time

HOST_TAG, PID_TAG, START_TAG = "tardis/host", "tardis/pid", "tardis/pid_start"
DEFAULT_MAX_WAIT_S = 600.0
_WATCH_INTERVAL_S = 0.5
# NOT_STARTED too: a process killed between creating its run and starting it leaves one.
_LIVE = (
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}

Printer = Callable[[str], None]


def fd_printer(fd: int) -> Printer:
    """A printer to file descriptor ``fd`` (a copy of the stderr the process had at the start).

    Dagster's compute-log capture points fd 2 at a log file while a step runs and copies that file
    to the real stderr from a tailer child; the watch kills that child before it exits, so a
    sentence printed through fd 2 then would never reach the user's terminal.
    """
    return lambda line: os.write(fd, (line + "\n").encode()) and None


def run_tags() -> dict[str, str]:
    """The tags that let any later process tell whether this process still runs the run."""
    pid = os.getpid()
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(pid), START_TAG: start_time(pid) or ""}


def owner_alive(tags: dict[str, str]) -> bool | None:
    """True/False for a run started on this host by this project, None when unknown."""
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG):
        return None
    pid = int(tags[PID_TAG])
    return alive(pid) and (not tags.get(START_TAG) or start_time(pid) == tags[START_TAG])


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail runs whose process is gone, free every slot held by a finished run; return the ids."""
    reaped: list[str] = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=list(_LIVE))):
        run = record.dagster_run
        if owner_alive(dict(run.tags)) is False:
            instance.report_run_failed(
                run,
                f"the process {run.tags[PID_TAG]} on {run.tags[HOST_TAG]} that ran this run is "
                "gone (killed?); marked failed and its pool slots freed",
            )
            reaped.append(run.run_id)
    storage = instance.event_log_storage
    for run_id in storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            if run_id not in reaped:
                reaped.append(run_id)
    return reaped


def _pending_since(instance: dg.DagsterInstance, run_id: str) -> tuple[str, float] | None:
    """(pool, enqueued timestamp) of a step of ``run_id`` still waiting for a slot, if any."""
    storage = instance.event_log_storage
    for pool in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(pool)
        for step in info.pending_steps:
            if step.run_id == run_id and step.assigned_timestamp is None:
                return pool, step.enqueued_timestamp.timestamp()
    return None


def _holders(instance: dg.DagsterInstance, pool: str) -> str:
    parts = []
    for slot in instance.event_log_storage.get_concurrency_info(pool).claimed_slots:
        run = instance.get_run_by_id(slot.run_id)
        state = {True: "alive", False: "gone", None: "elsewhere"}[
            owner_alive(dict(run.tags)) if run else None
        ]
        pid = run.tags.get(PID_TAG, "?") if run else "?"
        parts.append(f"run {slot.run_id[:8]} (step {slot.step_key}, pid {pid}, {state})")
    return ", ".join(parts) or "no run (the slots were just freed)"


@dataclass
class _Watch:
    instance: dg.DagsterInstance
    run_id: str
    label: str
    max_wait_s: float
    out: Printer
    wakeup: socket.socket
    done: threading.Event = field(default_factory=threading.Event)

    def stop_run(self, sentence: str, code: int) -> None:
        """Fail the run, remove its claims, say why, and end the process."""
        run = self.instance.get_run_by_id(self.run_id)
        if run is not None and not run.is_finished:
            self.instance.report_run_failed(run, sentence)
        self.instance.event_log_storage.free_concurrency_slots_for_run(self.run_id)
        # Helpers the run started (Dagster's compute-log tailers) would outlive an exit that
        # skips their cleanup.
        for pid in descendants(os.getpid()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.out(f"tardis-assets: {sentence}")
        sys.stdout.flush()
        sys.stderr.flush()
        # The main thread may have queued for the slot again meanwhile (it polls); any later
        # leftover belongs to a failed run, which the next run's reap frees.
        self.instance.event_log_storage.free_concurrency_slots_for_run(self.run_id)
        os._exit(code)

    def signal_received(self) -> int | None:
        """A stop signal written to the wakeup socket since the last look, if any."""
        ready, _, _ = select.select([self.wakeup], [], [], _WATCH_INTERVAL_S)
        if not ready:
            return None
        try:
            data = self.wakeup.recv(256)
        except BlockingIOError:
            return None
        stops = [b for b in data if b in _STOP_SIGNALS]
        return stops[0] if stops else None

    def loop(self) -> None:
        while not self.done.is_set():
            signo = self.signal_received()
            if self.done.is_set():
                return
            if signo is not None:
                name = signal.Signals(signo).name
                self.stop_run(
                    f"{self.label}: stopped by {name}; the run is marked failed and holds no "
                    "pool slot",
                    128 + signo,
                )
            reap_dead_runs(self.instance)
            pending = _pending_since(self.instance, self.run_id)
            if pending is not None:
                pool, since = pending
                waited = time.time() - since
                if waited > self.max_wait_s:
                    limit = self.instance.event_log_storage.get_concurrency_info(pool).slot_count
                    self.stop_run(
                        f"{self.label}: waited {waited:.0f} s for a slot of pool {pool} "
                        f"(limit {limit}), held by {_holders(self.instance, pool)}. Wait for "
                        "that run to end, raise the pool's limit (`dagster instance concurrency "
                        "set`), or raise max_pool_wait_s",
                        1,
                    )


@contextlib.contextmanager
def supervised(
    instance: dg.DagsterInstance,
    label: str,
    *,
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
    out: Printer | None = None,
) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (run id, tags) for a run the caller starts; watch it until the block ends.

    Only the main thread can install the signal watch (``set_wakeup_fd`` is the main thread's);
    elsewhere the run is reaped around and its wait bounded, but signals stay Dagster's.
    """
    reap_dead_runs(instance)
    run_id = str(uuid.uuid4())
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous: int | None = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    console = os.dup(sys.stderr.fileno())
    watch = _Watch(instance, run_id, label, max_wait_s, out or fd_printer(console), reader)
    thread = threading.Thread(target=watch.loop, name="tardis-run-watch", daemon=True)
    thread.start()
    try:
        yield run_id, run_tags()
    finally:
        watch.done.set()
        thread.join(timeout=5)
        if previous is not None:
            signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()
        os.close(console)
