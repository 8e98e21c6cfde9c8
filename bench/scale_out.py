"""Scale-out: the same backfill with 1 Celery worker and with N, on a cluster on this machine.

Each side starts its own cluster (``operate/cluster.py``: PostgreSQL behind PgBouncer, Redis,
``dagster dev``, the workers) on a fresh data folder, runs the same ``tardis-assets
backfill`` of every day-partitioned asset, and times it from submission to completion. Same
days, same assets, same settings; only the number of workers differs. The
content of every table is compared between the two lakes (the 1-worker side starts from the LLM
answers the other side paid for: an answer's measured latency decides when its signal became
available, so independent answers would make different backtests), and every log of the runs
(event log, compute logs, worker logs) is searched for lock errors.

Each worker stands for a machine of its own: it is pinned to ``--cpus-per-worker`` CPUs of this
host, with its steps' thread pools sized to them (``lib/cluster/cpus.py``). Unpinned, one
worker's step already spreads over every core of the host, so 1 vs 2 workers would measure the
host, not the assets. The control plane (webserver, daemon, run coordinators, PostgreSQL,
PgBouncer, Redis) is not pinned and shares the same cores, which only makes the ratio conservative.

Before either side, one small day runs in this process so that numba's on-disk cache holds
every kernel: on a checkout that never ran them, the first side's workers would otherwise
compile them inside their timed backfill and the second side would not.

Where the time goes is printed from the event log: per asset the compute seconds, the time its
steps waited in the broker queue for a free worker, and each worker's busy share of the wall
time. A day is two instruments of ``--trades-per-day`` synthetic trades each (with their
quotes, books and ticker): about 37 s of one CPU per instrument-day at the default 5M trades
(470-604 compute-seconds for 16 instrument-days with 1 worker, as the machine's load varies).

``--driver`` is the backfill command's: ``direct`` (the default here) launches each day's next
layer as soon as the runs it needs succeed; ``daemon`` submits a Dagster backfill, whose fixed
30 s loop creates each layer's runs and marks the backfill done, so both sides' times move in
steps of about 30 s and carry two to four such loops at the end.

    .venv/bin/python bench/scale_out.py [--days 8] [--workers 2] [--instruments a:X,b:Y]
        [--trades-per-day N] [--cpus-per-worker 1] [--driver direct|daemon]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from tardis_assets.defs.pipeline import materialize_days
from tardis_assets.defs.registry import build_registry
from tardis_assets.defs.resources import resources_from
from tardis_assets.lib.cluster.logscan import file_texts, lock_lines
from tardis_assets.lib.settings import load_settings
from tardis_assets.lib.storage.digest import lake_hashes
from tardis_assets.lib.warehouse import Warehouse
from tardis_assets.operate.backfill import DRIVERS, run_backfill
from tardis_assets.operate.cluster import LocalCluster, settings_env
from tardis_assets.operate.runlogs import backfill_runs, compute_log_files, event_texts

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INSTRUMENTS = "binance-futures:BTCUSDT,binance-futures:ETHUSDT"
DEFAULT_TRADES_PER_DAY = 5_000_000
WARM_TRADES_PER_DAY = 20_000  # enough to reach every kernel, small enough to take seconds
T = dg.DagsterEventType


@dataclass
class Side:
    workers: int
    seconds: float
    hashes: dict[str, tuple[int, str]]
    locks: list[str]
    steps: dict[str, dict[str, float]]  # asset -> compute, queue, steps
    busy: dict[str, float]  # worker -> busy seconds
    cpu: dict[str, float]  # service (worker, dagster, postgres, pgbouncer, redis) -> CPU s


def _step_times(instance: dg.DagsterInstance, run_ids: list[str]):
    """Per asset: compute seconds, seconds its steps queued for a worker; per worker: busy s."""
    per_asset: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    busy: dict[str, float] = defaultdict(float)
    for run_id in run_ids:
        marks: dict[str, dict[str, float | str]] = defaultdict(dict)
        for record in instance.get_records_for_run(run_id, limit=1_000_000).records:
            entry, event = record.event_log_entry, record.event_log_entry.dagster_event
            if event is None or entry.step_key is None:
                continue
            mark = marks[entry.step_key]
            message = event.message or ""
            if event.event_type == T.ENGINE_EVENT and "Submitting celery task" in message:
                mark["submit"] = entry.timestamp
            elif event.event_type == T.ENGINE_EVENT and "in celery worker" in message:
                mark["taken"] = entry.timestamp
                meta = event.engine_event_data.metadata if event.engine_event_data else {}
                worker = meta.get("Celery worker")
                mark["worker"] = str(worker.value) if worker is not None else "?"
            elif event.event_type == T.STEP_START:
                mark.setdefault("start", entry.timestamp)
            elif event.event_type in (T.STEP_SUCCESS, T.STEP_FAILURE):
                mark["end"] = entry.timestamp
        for key, mark in marks.items():
            asset = key.split("_", 1)[0] if key.startswith("raw_") else key
            asset = (
                "checks"
                if any(
                    c in key
                    for c in ("_quality", "_consistent", "_gaps", "_coverage", "_before_signal")
                )
                else asset
            )
            row = per_asset[asset]
            if "start" in mark and "end" in mark:
                row["compute"] += float(mark["end"]) - float(mark["start"])
                row["steps"] += 1
            if "submit" in mark and "taken" in mark:
                row["queue"] += float(mark["taken"]) - float(mark["submit"])
            if "taken" in mark and "end" in mark:
                busy[str(mark["worker"])] += float(mark["end"]) - float(mark["taken"])
    return per_asset, busy


def copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite file (its WAL included)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as a, sqlite3.connect(dst) as b:
        a.backup(b)


@dataclass(frozen=True)
class Plan:
    """What both sides run: the same days, instruments, day size and CPUs per worker."""

    days: list[date]
    instruments: str
    trades_per_day: int
    cpus_per_worker: int | None
    keep: Path | None
    driver: str


def side_env(root: Path, instruments: str, trades_per_day: int) -> dict[str, str]:
    """The settings of a run under ``root``: its project file and the offline LLM stand-in."""
    config = root / "tardis_assets.toml"
    names = ", ".join(json.dumps(i.strip()) for i in instruments.split(",") if i.strip())
    config.write_text(
        f"[market]\ninstruments = [{names}]\nsynthetic_trades_per_day = {trades_per_day}\n"
    )
    return {
        **settings_env(),
        "TARDIS_CONFIG": str(config),
        "TARDIS_LLM_PROVIDER": "offline",  # the stand-in: no key, no network, no spend
        "TARDIS_LLM_BASE_URL": "",
    }


def warm_kernels(plan: Plan) -> float:
    """Run one small day in this process first, so numba's on-disk cache holds every kernel.

    Why: the kernels are compiled on first use into ``__pycache__`` next to their sources, and
    a checkout that never ran them would have the first side's workers compile them (about a
    minute of CPU each, inside the timed backfill) and the second side find them compiled.
    Both sides then start from the same warm cache, as a cluster does after its first day.
    Returns the seconds it took.
    """
    root = Path(tempfile.mkdtemp(prefix="scale-out-warm-"))
    started = time.monotonic()
    try:
        env = side_env(root, plan.instruments, WARM_TRADES_PER_DAY)
        settings = load_settings(env={**env, "TARDIS_DATA_DIR": str(root / "data")}, cwd=root)
        (root / "home").mkdir()
        with dg.instance_for_test(temp_dir=str(root / "home")) as instance:
            materialize_days(
                build_registry(settings),
                plan.days[:1],
                resources_from(settings),
                instance,
                report=lambda _: None,
                log_level="WARNING",
                ranges=False,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return time.monotonic() - started


def run_side(workers: int, plan: Plan, llm_cache: Path, seeded: bool) -> Side:
    """One cluster, one backfill. ``seeded``: start from the LLM answers in ``llm_cache``
    (they carry the measured latencies that decide when signals became available, hence the
    backtests); else start empty, pay, and leave the answers in ``llm_cache``."""
    root = Path(tempfile.mkdtemp(prefix=f"scale-out-{workers}w-"))
    pg_dir = Path(tempfile.mkdtemp(prefix="scale-out-pg-"))
    env = side_env(root, plan.instruments, plan.trades_per_day)
    cluster = LocalCluster(
        root=root / "cluster",
        data_dir=root / "data",
        dagster_yaml=REPO / "deploy" / "dagster.yaml",
        workspace=REPO / "workspace.yaml",
        workers=workers,
        cwd=root,
        settings=env,
        postgres_dir=pg_dir,
        cpus_per_worker=plan.cpus_per_worker,
    )
    settings = load_settings(env={**env, "TARDIS_DATA_DIR": str(root / "data")}, cwd=root)
    registry = build_registry(settings)
    if seeded:
        copy_sqlite(llm_cache, settings.data.llm_cache)
    try:
        with cluster:
            pins = " ".join(
                f"{w.name}=cpu{','.join(map(str, w.cpus))}" for w in cluster.celery if w.cpus
            )
            print(f"{workers} worker(s): cluster up at {cluster.url} {pins}", flush=True)
            cpu_before = {name: tree.cpu_seconds() for name, tree, _ in cluster.services()}
            started = time.monotonic()
            outcome = run_backfill(
                plan.days[0].isoformat(),
                plan.days[-1].isoformat(),
                None,
                cluster.url,
                registry,
                timeout_s=4 * 3600,
                out=lambda line: print(f"  {line}", flush=True),
                driver=plan.driver,
            )
            wall = time.monotonic() - started
            assert cluster.head is not None
            home = cluster.head.dagster_home
            with cluster.instance() as instance:
                run_ids = [r.run_id for r in backfill_runs(instance, outcome.run_tag)]
                texts = list(event_texts(instance, run_ids))
                steps, busy = _step_times(instance, run_ids)
            cpu = {
                name: tree.cpu_seconds() - cpu_before.get(name, 0.0)
                for name, tree, _ in cluster.services()
            }
            logs = compute_log_files(home) + [w.log_path for w in cluster.celery]
            locks = lock_lines([*texts, *file_texts(logs)])
        wh = Warehouse.at(root / "data" / "lake", root / "data" / "warehouse.duckdb")
        # Per-run LLM statistics (HTTP calls vs cache hits of *this* run) differ by design.
        hashes = {t: h for t, h in lake_hashes(wh).items() if t != "llm_partition_latest"}
        if not seeded:
            copy_sqlite(settings.data.llm_cache, llm_cache)
        print(f"{workers} worker(s): {outcome.seconds:.1f} s (wall {wall:.1f} s)", flush=True)
        return Side(workers, outcome.seconds, hashes, locks, steps, busy, cpu)
    finally:
        if plan.keep is not None:
            shutil.copytree(root, plan.keep / root.name, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(pg_dir, ignore_errors=True)


def report(side: Side) -> None:
    print(f"\n{side.workers} worker(s), {side.seconds:.1f} s: where the time went")
    print(f"  {'asset':22s} {'steps':>5s} {'compute s':>10s} {'queued s':>9s}")
    for asset, row in sorted(side.steps.items(), key=lambda kv: -kv[1]["compute"]):
        print(f"  {asset:22s} {row['steps']:5.0f} {row['compute']:10.1f} {row['queue']:9.1f}")
    total = sum(r["compute"] for r in side.steps.values())
    print(f"  {'total':22s} {'':5s} {total:10.1f}")
    for worker, seconds in sorted(side.busy.items()):
        print(f"  worker {worker}: busy {seconds:.1f} s = {seconds / side.seconds:.0%} of the time")
    # The control plane shares the workers' cores here (on a cluster it has its own machine).
    used = ", ".join(f"{name} {seconds:.0f}" for name, seconds in side.cpu.items())
    print(f"  CPU seconds during the backfill: {used}")


def _unwind_on_sigterm(*_: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so each side's ``finally`` stops its cluster and removes its
    folders (by default the signal ends the process and leaves the cluster running). Later
    SIGTERMs are ignored: stopping the cluster can signal this process's group again."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(128 + signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 3, 1))
    parser.add_argument("--instruments", default=DEFAULT_INSTRUMENTS)
    parser.add_argument("--trades-per-day", type=int, default=DEFAULT_TRADES_PER_DAY)
    parser.add_argument(
        "--cpus-per-worker", type=int, default=1, help="0: do not pin (workers share the host)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="copy both data folders here")
    parser.add_argument(
        "--driver",
        choices=DRIVERS,
        default="direct",
        help="who orders the layers (tardis-assets backfill --driver): this command, or "
        "Dagster's backfill daemon",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _unwind_on_sigterm)
    plan = Plan(
        days=[args.start + timedelta(days=i) for i in range(args.days)],
        instruments=args.instruments,
        trades_per_day=args.trades_per_day,
        cpus_per_worker=args.cpus_per_worker or None,
        keep=args.keep,
        driver=args.driver,
    )
    print(
        f"scale_out: {args.days} days from {args.start}, instruments {args.instruments}, "
        f"{args.trades_per_day:,} synthetic trades per instrument-day, "
        f"CPUs per worker {args.cpus_per_worker or 'all (not pinned)'}, driver {args.driver}"
    )
    print(f"numba kernels compiled or found in their cache in {warm_kernels(plan):.1f} s")
    answers = Path(tempfile.mkdtemp(prefix="scale-out-llm-")) / "cache.sqlite"
    # The wide side pays for the LLM answers; the 1-worker side reads them from a copy of its
    # cache (no HTTP), which makes the 1-worker time, and so the ratio, conservative.
    try:
        wide = run_side(args.workers, plan, answers, seeded=False)
        base = run_side(1, plan, answers, seeded=True)
    finally:
        shutil.rmtree(answers.parent, ignore_errors=True)
    report(base)
    report(wide)
    same = base.hashes == wide.hashes
    if not same:
        for table in sorted(set(base.hashes) | set(wide.hashes)):
            if base.hashes.get(table) != wide.hashes.get(table):
                print(f"content differs: {table} {base.hashes.get(table)} {wide.hashes.get(table)}")
    locks = base.locks + wide.locks
    for line in locks[:20]:
        print(f"lock error: {line}")
    ratio = base.seconds / wide.seconds
    print(
        f"SUMMARY scale_out {args.workers} workers {wide.seconds:.1f}s vs 1 worker "
        f"{base.seconds:.1f}s = {ratio:.2f}x | "
        f"{'identical content' if same else 'content differs'} | lock errors {len(locks)}"
    )


if __name__ == "__main__":
    main()
