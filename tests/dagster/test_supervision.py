"""A run killed inside a pool step never blocks the next; a waiting run gives up boundedly with a
sentence, and SIGTERM stops it. Holder and waiter are real processes on one real instance."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from tardis_assets.defs.pipeline import run_layers
from tardis_assets.lib.settings import load_settings

DAY = "2025-03-01"
DRIVER = Path(__file__).with_name("pool_run.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An instance whose pool 'llm' admits one run at a time."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    granularity: op\n"
        "    default_limit: 1\n"
    )
    return home


@pytest.fixture
def day_of_bars(home: Path, tmp_path: Path, monkeypatch) -> Iterator[Path]:
    """Bars for DAY in a data folder the processes share."""
    sys.path.insert(0, str(DRIVER.parent))
    from pool_run import resources

    from tardis_assets.defs.registry import build_registry

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    data = tmp_path / "data"
    registry = build_registry(load_settings(env={}, cwd=tmp_path))
    with dg.DagsterInstance.get() as instance:
        run_layers(registry, ["raw_trades", "news", "bars"], DAY, resources(data, 0), instance)
    yield data


def start(data: Path, home: Path, kind: str, latency: float, max_wait: float) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO)}
    # Its own process group: killing it kills the log tailers Dagster starts beside a run too.
    return subprocess.Popen(
        [sys.executable, str(DRIVER), str(data), DAY, kind, str(latency), str(max_wait)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen) -> None:
    """kill -9 of the process and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def wait_for(predicate, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def pool_info(home: Path):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return instance.event_log_storage.get_concurrency_info("llm")


def test_kill_9_inside_a_pool_step_does_not_block_the_next_run(home: Path, day_of_bars: Path):
    holder = start(day_of_bars, home, "pattern", latency=0.5, max_wait=600)
    wait_for(lambda: pool_info(home).claimed_slots, "the holder to claim the llm slot")
    (dead_run,) = {s.run_id for s in pool_info(home).claimed_slots}
    kill_group(holder)
    # Without a fix the slot stays claimed by the dead run and this run waits for ever.
    second = start(day_of_bars, home, "risk", latency=0, max_wait=120)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err[-2000:]
    assert "run succeeded" in out
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(dead_run)
        assert run.status == dg.DagsterRunStatus.FAILURE
        info = instance.event_log_storage.get_concurrency_info("llm")
        assert info.claimed_slots == [] and info.pending_steps == []


def test_a_waiting_run_gives_up_with_one_sentence(home: Path, day_of_bars: Path):
    holder = start(day_of_bars, home, "pattern", latency=0.5, max_wait=600)
    try:
        wait_for(lambda: pool_info(home).claimed_slots, "the holder to claim the llm slot")
        waiter = start(day_of_bars, home, "risk", latency=0, max_wait=2)
        _, err = waiter.communicate(timeout=120)
        assert waiter.returncode == 1, err[-2000:]
        assert "Traceback" not in err
        (line,) = [x for x in err.splitlines() if x.startswith("tardis-assets: ")]
        assert "llm_signals 2025-03-01|risk: waited" in line
        assert "for a slot of pool llm (limit 1), held by run" in line
        assert f"pid {holder.pid}, alive" in line
        pending = [s for s in pool_info(home).pending_steps if s.run_id != _holder_run(home)]
        assert pending == []  # the waiter removed its claim on the way out
    finally:
        kill_group(holder)


def test_sigterm_stops_a_waiting_run(home: Path, day_of_bars: Path):
    holder = start(day_of_bars, home, "pattern", latency=0.5, max_wait=600)
    try:
        wait_for(lambda: pool_info(home).claimed_slots, "the holder to claim the llm slot")
        holder_run = _holder_run(home)
        waiter = start(day_of_bars, home, "risk", latency=0, max_wait=600)
        wait_for(
            lambda: any(s.run_id != holder_run for s in pool_info(home).pending_steps),
            "the waiter to queue for the slot",
        )
        (waiting_run,) = {s.run_id for s in pool_info(home).pending_steps} - {holder_run}
        waiter.send_signal(signal.SIGTERM)
        _, err = waiter.communicate(timeout=30)
        assert waiter.returncode == 128 + signal.SIGTERM, err[-2000:]
        assert "stopped by SIGTERM" in err and "Traceback" not in err
        # It took its helpers with it: no log tailer of the waiting run is left behind.
        assert processes_mentioning(waiting_run) == []
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert instance.get_run_by_id(waiting_run).status == dg.DagsterRunStatus.FAILURE
        assert all(s.run_id != waiting_run for s in pool_info(home).pending_steps)
    finally:
        kill_group(holder)


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that name ``text`` (a run id in a log file path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmd:
                found.append(cmd)
    return found


def _holder_run(home: Path) -> str:
    return next(iter({s.run_id for s in pool_info(home).claimed_slots}), "")


def test_a_run_whose_process_died_before_it_started_is_reaped(home: Path) -> None:
    """Killed between creating its run and starting it (found by bench/crash_soak.py): the run
    stays NOT_STARTED for ever unless the next run fails it."""
    from tardis_assets.operate.proctree import start_time
    from tardis_assets.operate.supervisor import HOST_TAG, PID_TAG, START_TAG, reap_dead_runs

    gone = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(gone.pid), START_TAG: start_time(gone.pid)}
    gone.kill()
    gone.wait(timeout=30)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.add_run(
            dg.DagsterRun(job_name="tardis_assets_run", status=dg.DagsterRunStatus.NOT_STARTED,
                          tags=tags)
        )  # fmt: skip
        assert reap_dead_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
