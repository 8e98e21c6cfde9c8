"""Kill a pipeline process tree with SIGKILL at chosen points, re-run it, and judge the result.

Why: every write of this project is meant to survive ``kill -9`` at any instant (atomic lake
files, a write-ahead LLM journal, one payer per request, runs that die never block the next).
This module is the one implementation of the check, shared by ``bench/crash_soak.py`` (random
points over the whole ``tardis-assets demo``) and the test of three fixed points:

* ``run_until_killed`` starts a command, waits for a ``KillPoint`` (a step has started in the
  Dagster instance, the LLM stand-in has received N requests, or N seconds have passed) and
  SIGKILLs the process and every descendant at once;
* ``table_digests`` hashes the lake's content per table, ignoring only what differs between two
  clean runs by design (``VOLATILE``), so a crashed-and-re-run lake can be compared with a clean
  one;
* ``ledger_usd`` / ``billed`` are the LLM ledger's total and the stand-in's own bill;
* ``stuck`` counts runs left unfinished and pool slots still held.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

from tardis_assets.lib.llm import OfflineServer
from tardis_assets.lib.llm.offline_answers import billed_usd
from tardis_assets.lib.llm.routing import load_routing
from tardis_assets.lib.storage.digest import frame_digest
from tardis_assets.operate.proctree import ProcessTree

POLL_S = 0.05
# Columns that differ between two clean runs of the same day by design: who ran it and when, and
# the LLM's measured wall-clock latency (signals become available after it).
VOLATILE: Mapping[str, tuple[str, ...]] = {
    "raw_files": ("lake_path", "ingested_at"),
    # ``replayed``: an answer paid by a killed run is fetched again from the provider's
    # idempotency store, free; what it is and costs (compared) does not change.
    "llm_calls": ("call_id", "run_id", "latency_ms", "requested_at_us", "replayed"),
    "llm_signals": ("available_at",),
}
# Tables that differ between two clean runs as a whole: per-run statistics (a re-run reports its
# cache hits), and executions replayed at the measured LLM latency (fills move with it).
NOT_COMPARED_PREFIXES = ("llm_partition_stats", "execution_", "range_execution_")
NOT_COMPARED = ("latency_study", "llm_bar_vs_tick")
LIVE_STATUSES = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)


@dataclass(frozen=True)
class KillPoint:
    """When to kill: once ``step`` has started (in a run begun after the command), or once the
    stand-in has ``llm_requests`` more requests, or ``after_s`` after the start; then wait
    ``delay_s``. With several conditions, the first one met counts."""

    step: str | None = None
    llm_requests: int | None = None
    after_s: float | None = None
    delay_s: float = 0.0

    def describe(self) -> str:
        parts = [
            *([f"step {self.step} started"] if self.step else []),
            *([f"{self.llm_requests} LLM requests"] if self.llm_requests is not None else []),
            *([f"{self.after_s:.1f} s"] if self.after_s is not None else []),
        ]
        return " or ".join(parts) + (f" + {self.delay_s:g} s" if self.delay_s else "")


@dataclass(frozen=True)
class Attempt:
    """One started command: killed at its point, or finished first (``returncode``)."""

    point: KillPoint
    killed: bool
    returncode: int | None
    seconds: float
    pids_killed: int


def _started_steps(instance: dg.DagsterInstance, before: set[str]) -> set[str]:
    steps: set[str] = set()
    for run in instance.get_runs(limit=50):
        if run.run_id in before:
            continue
        for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START):
            if entry.dagster_event is not None and entry.dagster_event.step_key:
                steps.add(entry.dagster_event.step_key)
    return steps


def run_until_killed(
    command: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    point: KillPoint,
    home: Path,
    server: OfflineServer | None = None,
    log: Path | None = None,
    timeout_s: float = 900.0,
) -> Attempt:
    """Start ``command`` and SIGKILL its whole process tree at ``point``.

    ``home`` is the DAGSTER_HOME the command uses (its steps are watched there); ``server`` the
    stand-in it calls (its requests are counted). Output goes to ``log`` (appended) or nowhere.
    """
    with dg.DagsterInstance.from_config(str(home)) as instance:
        before = {run.run_id for run in instance.get_runs()}
        base = server.request_count() if server is not None else 0
        out = log.open("ab") if log is not None else subprocess.DEVNULL
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                list(command), cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT
            )
            tree = ProcessTree(proc)
            while proc.poll() is None:
                tree.remember()
                if _reached(point, instance, before, server, base, time.monotonic() - started):
                    time.sleep(point.delay_s)
                    if proc.poll() is not None:
                        break
                    killed = tree.kill()
                    return Attempt(point, True, None, time.monotonic() - started, len(killed))
                if time.monotonic() - started > timeout_s:
                    tree.kill()
                    raise TimeoutError(f"{' '.join(command)} still running after {timeout_s} s")
                time.sleep(POLL_S)
        finally:
            if log is not None:
                out.close()  # type: ignore[union-attr]
    return Attempt(point, False, proc.returncode, time.monotonic() - started, 0)


def _reached(
    point: KillPoint,
    instance: dg.DagsterInstance,
    before: set[str],
    server: OfflineServer | None,
    base: int,
    elapsed: float,
) -> bool:
    if point.after_s is not None and elapsed >= point.after_s:
        return True
    if (
        point.llm_requests is not None
        and server is not None
        and server.request_count() - base >= point.llm_requests
    ):
        return True
    return point.step is not None and point.step in _started_steps(instance, before)


def _compared(table: str) -> bool:
    return table not in NOT_COMPARED and not table.startswith(NOT_COMPARED_PREFIXES)


def table_frame(lake: Path, table: str) -> pl.DataFrame:
    """Every published file of ``table`` (hidden staging files are not published), with its
    partition path as a column, volatile columns dropped, rows in a canonical order."""
    frames = []
    for path in sorted((lake / table).rglob("*.parquet")):
        rel = path.relative_to(lake / table)
        if any(part.startswith(".") for part in rel.parts):
            continue
        frame = pl.read_parquet(path, hive_partitioning=False)
        frames.append(frame.with_columns(pl.lit(str(rel.parent)).alias("_partition")))
    if not frames:
        return pl.DataFrame()
    whole = pl.concat(frames, how="diagonal_relaxed")
    whole = whole.drop([c for c in VOLATILE.get(table, ()) if c in whole.columns])
    return whole.sort(whole.columns, nulls_last=True)


def table_digests(lake: Path) -> dict[str, str]:
    """sha256 of each compared table's canonical content (``table_frame``), by table name."""
    digests = {}
    for folder in sorted(p for p in lake.iterdir() if p.is_dir() and _compared(p.name)):
        rows, digest = frame_digest(table_frame(lake, folder.name))
        digests[folder.name] = f"{rows}:{digest[:16]}"
    return digests


def ledger_usd(lake: Path) -> float:
    """The LLM ledger's total (``llm_calls``, every call ever sent, with what it cost)."""
    frame = table_frame(lake, "llm_calls")
    return float(frame["cost_usd"].sum()) if frame.height else 0.0


def billed(server: OfflineServer) -> float:
    """What the stand-in billed, from its own request log, at the routing table's prices."""
    return billed_usd(server.stats()["log"], load_routing().models)


def stuck(home: Path) -> tuple[int, int]:
    """(runs not finished, pool slots claimed or pending) in the instance at ``home``."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(statuses=list(LIVE_STATUSES)))
        storage = instance.event_log_storage
        slots = 0
        for pool in storage.get_concurrency_keys():
            info = storage.get_concurrency_info(pool)
            slots += len(info.claimed_slots) + len(info.pending_steps)
    return len(runs), slots


def summary_line(kills: int, same: bool, ledger: float, bill: float, runs: int, slots: int) -> str:
    """The soak's last line: the expected words when everything holds, the true values when not."""
    content = "content identical" if same else "content DIFFERS"
    money = (
        "ledger = bill"
        if round(ledger, 2) == round(bill, 2)
        else f"ledger ${ledger:.4f} != bill ${bill:.4f}"
    )
    left = f"stuck runs {runs}" + (f" (+{slots} held pool slots)" if slots else "")
    return f"SUMMARY crash_soak {kills} kills | {content} | {money} | {left}"


def prepare_project(root: Path, config: str, base_url: str, dagster_yaml: str) -> dict[str, str]:
    """A private project under ``root`` (``config`` as its tardis_assets.toml, its own
    DAGSTER_HOME with ``dagster_yaml``) and the environment of a pipeline process on it, calling
    the stand-in at ``base_url``."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(dagster_yaml)
    (root / "tardis_assets.toml").write_text(config)
    env = {
        **os.environ,
        "TARDIS_CONFIG": str(root / "tardis_assets.toml"),
        "DAGSTER_HOME": str(home),
        "TARDIS_LLM_PROVIDER": "offline",
        "TARDIS_LLM_BASE_URL": base_url,
    }
    env.pop("TARDIS_DATA_DIR", None)
    return env


@dataclass(frozen=True)
class SoakResult:
    """What a crash soak found; ``line`` is its summary."""

    attempts: list[Attempt]
    clean: dict[str, str]
    crashed: dict[str, str]
    ledger: float
    bill: float
    runs_left: int
    slots_left: int
    final_returncode: int

    @property
    def kills(self) -> int:
        return sum(a.killed for a in self.attempts)

    @property
    def same(self) -> bool:
        return self.clean == self.crashed and self.final_returncode == 0

    @property
    def differing(self) -> list[str]:
        tables = sorted(set(self.clean) | set(self.crashed))
        return [t for t in tables if self.clean.get(t) != self.crashed.get(t)]

    @property
    def line(self) -> str:
        return summary_line(
            self.kills, self.same, self.ledger, self.bill, self.runs_left, self.slots_left
        )


def crash_soak(
    command: Sequence[str],
    root: Path,
    config: str,
    points: Sequence[KillPoint],
    dagster_yaml: str,
    latency_s: float = 0.0,
) -> SoakResult:
    """A clean run of ``command`` under root/clean; then under root/crashed one attempt per
    point, each SIGKILLed at its point and the next one its re-run, and a last re-run to the end.

    ``config`` is the project file, with ``{data}`` where the data folder goes. Each project has
    its own stand-in (``latency_s`` per answer), so the crashed one's bill is its own.
    """

    def project(name: str, server: OfflineServer) -> tuple[Path, dict[str, str]]:
        where = root / name
        text = config.replace("{data}", str(where / "data"))
        return where, prepare_project(where, text, server.base_url, dagster_yaml)

    def clean_run() -> dict[str, str]:
        with OfflineServer(latency_s=latency_s) as server:
            where, env = project("clean", server)
            done = subprocess.run(list(command), cwd=where, env=env, capture_output=True)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).decode(errors="replace")[-3000:]
            raise RuntimeError(f"the clean run failed ({done.returncode}):\n{tail}")
        return table_digests(where / "data" / "lake")

    # The clean reference shares nothing with the crashed project, so it runs beside it.
    with ThreadPoolExecutor(max_workers=1) as pool, OfflineServer(latency_s=latency_s) as server:
        reference = pool.submit(clean_run)
        where, env = project("crashed", server)
        log = where / "attempts.log"
        attempts = [
            run_until_killed(command, env, where, point, where / "home", server, log)
            for point in points
        ]
        with log.open("ab") as out:
            final = subprocess.run(
                list(command), cwd=where, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        crashed = table_digests(where / "data" / "lake")
        ledger, bill = ledger_usd(where / "data" / "lake"), billed(server)
        clean = reference.result()
    runs, slots = stuck(where / "home")
    return SoakResult(attempts, clean, crashed, ledger, bill, runs, slots, final.returncode)
