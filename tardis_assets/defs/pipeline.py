"""Materialize the whole graph for a list of days, layer by layer, in dependency order.

Dagster runs carry one partition key, and ``deps`` do not block on missing upstream partitions, so
the order (ticks+news+bars per day, then each signal kind, then the backtest) is enforced here.
Every run is a real Dagster run in the given instance, so it shows in the UI with its metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import dagster as dg

from tardis_assets.defs.registry import Registry
from tardis_assets.defs.support.outcome import (
    RunCrashed,
    crash_report,
    quiet_console_logger,
    stop_reason,
)
from tardis_assets.lib.llm import KINDS
from tardis_assets.operate.supervisor import DEFAULT_MAX_WAIT_S, supervised

Reporter = Callable[[str], None]


JOB = "tardis_assets_run"


def run_layers(
    registry: Registry,
    selection: Sequence[str],
    partition_key: str | dg.MultiPartitionKey | None,
    resources: dict[str, dg.ConfigurableResource],
    instance: dg.DagsterInstance,
    log_level: str = "INFO",
    *,
    verbose: bool = False,
    max_pool_wait_s: float = DEFAULT_MAX_WAIT_S,
) -> dg.ExecuteInProcessResult:
    """One real Dagster run of ``selection`` (and its checks) for one partition key.

    An expected failure raises ``RunStopped`` (one sentence, no traceback on the console); any
    other failure raises ``RunCrashed`` with its stack. ``verbose`` keeps Dagster's own console
    logger, which prints every event and the full tracebacks. The run is supervised: dead runs
    are reaped first, a step waits for a pool slot at most ``max_pool_wait_s``, and SIGTERM or
    SIGINT stop it cleanly (``operate/supervisor.py``).
    """
    loggers = {} if verbose else {"console": quiet_console_logger}
    defs = dg.Definitions(
        assets=[*registry.assets, *registry.checks],
        jobs=[
            dg.define_asset_job(
                JOB,
                selection=dg.AssetSelection.assets(*selection)
                | dg.AssetSelection.checks_for_assets(*selection),
            )
        ],
        resources=resources,
        loggers=loggers,
    )
    label = str(partition_key) if partition_key is not None else None
    where = f"{', '.join(selection)} {label}" if label else ", ".join(selection)
    with supervised(instance, where, max_wait_s=max_pool_wait_s) as (run_id, tags):
        result = defs.resolve_job_def(JOB).execute_in_process(
            partition_key=label,
            instance=instance,
            raise_on_error=False,
            run_id=run_id,
            tags=tags,
            # Step events are DEBUG; INFO keeps the console to what a user reads.
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
    if not result.success:
        stopped = stop_reason(result, label)
        if stopped is not None:
            raise stopped
        raise RunCrashed(crash_report(result))
    return result


def materialize_days(
    registry: Registry,
    days: Sequence[date],
    resources: dict[str, dg.ConfigurableResource],
    instance: dg.DagsterInstance,
    report: Reporter = print,
    log_level: str = "INFO",
    *,
    verbose: bool = False,
    max_pool_wait_s: float = DEFAULT_MAX_WAIT_S,
    ranges: bool = True,
) -> list[dg.ExecuteInProcessResult]:
    """Run every layer for ``days``; raise on the first failed run (later layers would fail).

    ``ranges=False`` stops after the daily layers (what a backfill of days materializes).
    """
    results = []

    def run(selection: list[str], key: str | dg.MultiPartitionKey | None) -> None:
        results.append(
            run_layers(
                registry,
                selection,
                key,
                resources,
                instance,
                log_level,
                verbose=verbose,
                max_pool_wait_s=max_pool_wait_s,
            )
        )

    for day in days:
        key = day.isoformat()
        report(f"{key}: ticks, news, bars")
        run([*(f"raw_{t}" for t in registry.raw_types), "news", "bars"], key)
        for kind in KINDS:
            report(f"{key}: llm_signals[{kind}]")
            run(["llm_signals"], dg.MultiPartitionKey({"date": key, "kind": kind}))
        report(f"{key}: backtest_results, execution_results")
        run(["backtest_results", "execution_results"], key)
    # Range-level assets last: they read every day materialized above.
    for name in registry.range_assets if ranges else []:
        report(name)
        run([name], None)
    return results
