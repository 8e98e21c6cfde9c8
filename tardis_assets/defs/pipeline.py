"""Materialize the whole graph for a list of days, layer by layer, in dependency order.

Dagster runs carry one partition key, and ``deps`` do not block on missing upstream partitions, so
the order (ticks+news+bars per day, then each signal kind, then the backtest) is enforced here.
Every run is a real Dagster run in the given instance, so it shows in the UI with its metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import dagster as dg

from tardis_assets.definitions import ASSETS, CHECKS, RAW_TYPES
from tardis_assets.lib.llm import KINDS

Reporter = Callable[[str], None]
RANGE_ASSETS = (
    "llm_costs",
    "backtest_range",
    "strategy_optimization",
    "llm_strategy_optimization",
    "walk_forward",
    "risk_report",
)


def run_layers(
    selection: Sequence[str],
    partition_key: str | None,
    resources: dict[str, dg.ConfigurableResource],
    instance: dg.DagsterInstance,
    log_level: str,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*ASSETS, *CHECKS],
        selection=dg.AssetSelection.assets(*selection)
        | dg.AssetSelection.checks_for_assets(*selection),
        partition_key=partition_key,
        resources=resources,
        instance=instance,
        raise_on_error=True,
        # Step events are DEBUG; INFO keeps the console to what a user reads (progress, counts).
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )


def materialize_days(
    days: Sequence[date],
    resources: dict[str, dg.ConfigurableResource],
    instance: dg.DagsterInstance,
    report: Reporter = print,
    log_level: str = "INFO",
) -> list[dg.ExecuteInProcessResult]:
    """Run every layer for ``days``; raise on the first failed run (later layers would fail)."""
    results = []
    for day in days:
        key = day.isoformat()
        report(f"{key}: ticks, news, bars")
        market = [*(f"raw_{t}" for t in RAW_TYPES), "news", "bars"]
        results.append(run_layers(market, key, resources, instance, log_level))
        for kind in KINDS:
            report(f"{key}: llm_signals[{kind}]")
            multi = dg.MultiPartitionKey({"date": key, "kind": kind})
            results.append(run_layers(["llm_signals"], multi, resources, instance, log_level))
        report(f"{key}: backtest_results")
        results.append(run_layers(["backtest_results"], key, resources, instance, log_level))
    # Range-level assets last: they read every day materialized above.
    for name in RANGE_ASSETS:
        report(name)
        results.append(run_layers([name], None, resources, instance, log_level))
    return results
