"""Reliability of the cluster layout: PostgreSQL storage, steps on two Celery workers.

- a backfill across two workers leaves the same content, table by table, as the embedded
  in-process run of the same days;
- ``kill -9`` of the worker running a step: the step is delivered again to the other worker, the
  run completes, the content is the same, and no LLM answer is paid twice;
- no log of any run (event log, compute logs, service logs) names a lock.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from datetime import date, timedelta

import dagster as dg
import pytest

from tardis_assets.defs.registry import build_registry
from tardis_assets.lib.cluster.cpus import host_cpus
from tardis_assets.lib.settings import load_settings
from tardis_assets.operate.backfill import BackfillOutcome, run_backfill
from tardis_assets.operate.runlogs import backfill_runs

# A backfill through the daemon is paced by its 30 s loop: minutes, more on a loaded machine.
pytestmark = [pytest.mark.cluster, pytest.mark.timeout(2400)]

START = date(2025, 3, 1)
KILL_STEP = "llm_signals"  # the longest step, and the one that pays


def days(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def backfill(run, project, n_days: int, out: list[str]) -> BackfillOutcome:
    """``tardis-assets backfill`` of every day-partitioned asset against the cluster."""
    settings = load_settings(env={**project, "TARDIS_DATA_DIR": str(run.data_dir)})
    return run_backfill(
        START.isoformat(),
        (START + timedelta(days=n_days - 1)).isoformat(),
        None,
        run.cluster.url,
        build_registry(settings),
        timeout_s=1500,
        out=out.append,
    )


def llm_ledger(run) -> tuple[int, int, int]:
    """(ledger rows, distinct questions paid for, HTTP attempts) of the cluster's lake."""
    row = run.warehouse().read(
        "SELECT count(*) AS n, count(DISTINCT unit_keys) AS u, sum(attempts) AS a FROM llm_calls"
    )
    return tuple(int(v) for v in row.row(0))


def billed_requests(server) -> tuple[int, int]:
    """(requests the stand-in billed, idempotency keys it billed more than once)."""
    log = server.stats()["log"]
    billed = [e for e in log if e["billed"] and not e["replayed"]]
    twice = [k for k, n in Counter(e["key"] for e in billed if e["key"]).items() if n > 1]
    return len(billed), len(twice)


def step_workers(instance: dg.DagsterInstance, run_ids: list[str], step: str) -> list[str]:
    """The Celery workers that took ``step``, in the order they took it."""
    taken = []
    for run_id in run_ids:
        for record in instance.get_records_for_run(run_id, limit=100_000).records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is None or entry.step_key != step:
                continue
            if event.event_type == dg.DagsterEventType.ENGINE_EVENT and "in celery worker" in (
                event.message or ""
            ):
                meta = event.engine_event_data.metadata if event.engine_event_data else {}
                worker = meta.get("Celery worker")
                taken.append(str(worker.value) if worker is not None else "?")
    return taken


def test_backfill_on_two_workers_equals_in_process(
    start_cluster, embedded_hashes, project, llm_server
):
    """The way the scale-out benchmark runs: each worker pinned to a CPU of its own."""
    n = 6
    run = start_cluster(2, cpus_per_worker=1)
    pinned = [{p: os.sched_getaffinity(p) for p in w.pids} for w in run.cluster.celery]
    for worker, affinity in zip(run.cluster.celery, pinned, strict=True):
        assert affinity and all(cpus == set(worker.cpus) for cpus in affinity.values()), affinity
    if len(host_cpus()) >= 2:
        assert run.cluster.celery[0].cpus != run.cluster.celery[1].cpus
    lines: list[str] = []
    started = time.monotonic()
    outcome = backfill(run, project, n, lines)
    seconds = time.monotonic() - started
    assert outcome.succeeded, "\n".join(lines)
    with run.cluster.instance() as instance:
        run_ids = [r.run_id for r in backfill_runs(instance, outcome.run_tag)]
        workers = {
            w
            for step in ("bars", "news", "raw_trades", KILL_STEP)
            for w in step_workers(instance, run_ids, step)
        }
    assert len(workers) == 2, f"steps ran on {workers}, not on both workers"
    assert run.lock_errors(run_ids) == []
    rows, distinct, attempts = llm_ledger(run)
    billed, twice = billed_requests(llm_server)
    print(f"ledger rows {rows}, distinct {distinct}, attempts {attempts}; billed {billed}")
    assert rows == distinct == billed == attempts > 0 and twice == 0

    assert run.hashes() == embedded_hashes(days(n), run.llm_cache)
    print(f"6-day backfill on 2 workers: {seconds:.1f} s, {len(run_ids)} runs, workers {workers}")


# 1.5 s per LLM answer: the signal step of two days takes some 15 s, long enough to kill a
# worker in its middle; the step is redelivered after the visibility timeout (60 s).
@pytest.mark.parametrize("llm_server", [1.5], indirect=True)
def test_kill_a_worker_mid_step(start_cluster, embedded_hashes, project, llm_server):
    n = 2
    run = start_cluster(2)
    lines: list[str] = []
    result: dict[str, object] = {}

    def submit() -> None:
        try:
            result["outcome"] = backfill(run, project, n, lines)
        except BaseException as exc:  # reported by the assertion below
            result["error"] = exc

    thread = threading.Thread(target=submit, daemon=True)
    thread.start()
    victim = None
    deadline = time.monotonic() + 600
    with run.cluster.instance() as instance:
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            # The backfill id is not known yet: look at the latest runs of the instance.
            for record in instance.get_run_records(limit=50):
                taken = step_workers(instance, [record.dagster_run.run_id], KILL_STEP)
                if taken:
                    victim = taken[0]
                    break
            time.sleep(0.3)
    assert victim is not None, "\n".join(lines)
    time.sleep(3)  # well inside the step
    worker = next(w for w in run.cluster.celery if w.hostname == victim)
    killed = worker.kill()
    assert killed, f"worker {victim} was not running"
    print(f"kill -9 of {victim} (pids {killed}) during {KILL_STEP}")
    thread.join(timeout=900)
    assert not thread.is_alive(), "the backfill did not finish after the kill"
    assert "error" not in result, f"{result.get('error')}\n" + "\n".join(lines)
    outcome = result["outcome"]
    assert isinstance(outcome, BackfillOutcome) and outcome.succeeded, "\n".join(lines)

    with run.cluster.instance() as instance:
        run_ids = [r.run_id for r in backfill_runs(instance, outcome.run_tag)]
        taken = {r: step_workers(instance, [r], KILL_STEP) for r in run_ids}
    survivor = next(w.hostname for w in run.cluster.celery if w.hostname != victim)
    # In one run: taken by the killed worker, then delivered again to the other one.
    assert any(t and t[0] == victim and survivor in t[1:] for t in taken.values()), taken
    print(f"{KILL_STEP} taken by, per run: {[t for t in taken.values() if t]}")
    assert run.lock_errors(run_ids) == []
    rows, distinct, attempts = llm_ledger(run)
    billed, twice = billed_requests(llm_server)
    assert twice == 0, "an answer was billed twice"
    assert rows == distinct == billed > 0, (rows, distinct, billed, attempts)

    assert run.hashes() == embedded_hashes(days(n), run.llm_cache)
