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
from tardis_assets.lib.llm import KINDS

Reporter = Callable[[str], None]


def run_layers(
    registry: Registry,
    selection: Sequence[str],
    partition_key: str | dg.MultiPartitionKey | None,
    resources: dict[str, dg.ConfigurableResource],
    instance: dg.DagsterInstance,
    log_level: str = "INFO",
) -> dg.ExecuteInProcessResult:
    """One real Dagster run of ``selection`` (and its checks) for one partition key."""
    return dg.materialize(
        [*registry.assets, *registry.checks],
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
    registry: Registry,
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
        market = [*(f"raw_{t}" for t in registry.raw_types), "news", "bars"]
        results.append(run_layers(registry, market, key, resources, instance, log_level))
        for kind in KINDS:
            report(f"{key}: llm_signals[{kind}]")
            multi = dg.MultiPartitionKey({"date": key, "kind": kind})
            results.append(
                run_layers(registry, ["llm_signals"], multi, resources, instance, log_level)
            )
        report(f"{key}: backtest_results")
        results.append(
            run_layers(registry, ["backtest_results"], key, resources, instance, log_level)
        )
    # Range-level assets last: they read every day materialized above.
    for name in registry.range_assets:
        report(name)
        results.append(run_layers(registry, [name], None, resources, instance, log_level))
    return results
