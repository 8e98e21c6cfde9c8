"""The one registry of the code location: every asset, check, job, schedule and sensor.

Built from a ``Settings`` object (``lib/settings.py``), never from the environment directly, so
the graph is a function of the configuration it is given. ``definitions.py`` (what Dagster
loads), the pipeline runner, the backfill command and the CLI all build the same registry from
the same settings; nothing imports back from ``definitions.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from tardis_assets.defs.backtest.assets import backtest_results
from tardis_assets.defs.backtest.checks import backtest_no_trade_before_signal
from tardis_assets.defs.backtest.optimization import (
    llm_strategy_optimization,
    strategy_optimization,
    walk_forward,
)
from tardis_assets.defs.backtest.range_backtest import backtest_range
from tardis_assets.defs.catalog import catalog_sync_sensor
from tardis_assets.defs.cluster.executor import executor_for
from tardis_assets.defs.execution.assets import build_execution_assets
from tardis_assets.defs.features.assets import build_bars_asset
from tardis_assets.defs.features.checks import bars_no_long_gaps, bars_ohlc_consistent
from tardis_assets.defs.jobs import JOBS
from tardis_assets.defs.resources import resources_from
from tardis_assets.defs.risk.assets import risk_report
from tardis_assets.defs.schedules import build_schedules, build_sensors
from tardis_assets.defs.signals.assets import llm_signals
from tardis_assets.defs.signals.checks import llm_signals_coverage
from tardis_assets.defs.signals.costs import llm_costs
from tardis_assets.defs.ticks.assets import build_raw_asset, news
from tardis_assets.defs.ticks.checks import build_quality_check
from tardis_assets.lib.settings import Settings


@dataclass(frozen=True)
class Registry:
    """What the code location defines, for one configuration."""

    settings: Settings
    assets: tuple[dg.AssetsDefinition, ...]
    checks: tuple[dg.AssetChecksDefinition, ...]
    jobs: tuple[dg.UnresolvedAssetJobDefinition, ...]
    schedules: tuple[dg.ScheduleDefinition, ...]
    sensors: tuple[dg.SensorDefinition, ...]

    @property
    def raw_types(self) -> tuple[str, ...]:
        return self.settings.market.raw_types

    def names(self, *, partitioned: bool | None = None) -> list[str]:
        """Asset names in definition order; ``partitioned`` keeps daily (True) or range (False)
        assets only."""
        return [
            key.to_user_string()
            for a in self.assets
            if partitioned is None or (a.partitions_def is not None) == partitioned
            for key in a.keys
        ]

    @property
    def range_assets(self) -> list[str]:
        """Unpartitioned assets: they read whatever days are stored, so they run last."""
        return self.names(partitioned=False)


def build_registry(settings: Settings) -> Registry:
    raw_types = settings.market.raw_types
    assets = (
        *(build_raw_asset(t) for t in raw_types),
        news,
        build_bars_asset(raw_types),
        llm_signals,
        llm_costs,
        backtest_results,
        *build_execution_assets(raw_types),
        backtest_range,
        strategy_optimization,
        llm_strategy_optimization,
        walk_forward,
        risk_report,
    )
    checks = (
        *(build_quality_check(t) for t in raw_types),
        bars_ohlc_consistent,
        bars_no_long_gaps,
        llm_signals_coverage,
        backtest_no_trade_before_signal,
    )
    return Registry(
        settings=settings,
        assets=assets,
        checks=checks,
        jobs=tuple(JOBS),
        schedules=tuple(build_schedules(settings.schedules_on)),
        sensors=(*build_sensors(settings.schedules_on), catalog_sync_sensor),
    )


def build_definitions(settings: Settings, **overrides: dg.ConfigurableResource) -> dg.Definitions:
    """The Definitions Dagster loads; ``overrides`` replace single resources (tests, e2e)."""
    registry = build_registry(settings)
    return dg.Definitions(
        assets=list(registry.assets),
        asset_checks=list(registry.checks),
        jobs=list(registry.jobs),
        schedules=list(registry.schedules),
        sensors=list(registry.sensors),
        # In-process by default; each step on any Celery worker when the settings say so.
        executor=executor_for(settings.executor),
        resources={**resources_from(settings), **overrides},
    )
