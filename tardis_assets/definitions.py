"""The code location: every asset, check, job and resource of tardis_assets."""

from __future__ import annotations

import dagster as dg

from tardis_assets.defs.backtest.assets import backtest_results
from tardis_assets.defs.backtest.checks import backtest_no_trade_before_signal
from tardis_assets.defs.backtest.optimization import (
    backtest_range,
    llm_strategy_optimization,
    strategy_optimization,
    walk_forward,
)
from tardis_assets.defs.features.assets import build_bars_asset
from tardis_assets.defs.features.checks import bars_no_long_gaps, bars_ohlc_consistent
from tardis_assets.defs.jobs import JOBS
from tardis_assets.defs.resources import (
    LLMResource,
    MarketResource,
    WarehouseResource,
    default_llm_resource,
    default_market_resource,
)
from tardis_assets.defs.risk.assets import risk_report
from tardis_assets.defs.schedules import build_schedules, build_sensors
from tardis_assets.defs.signals.assets import llm_signals
from tardis_assets.defs.signals.checks import llm_signals_coverage
from tardis_assets.defs.signals.costs import llm_costs
from tardis_assets.defs.ticks.assets import build_raw_asset, enabled_raw_types, news
from tardis_assets.defs.ticks.checks import build_quality_check

RAW_TYPES = enabled_raw_types()
ASSETS = [
    *(build_raw_asset(t) for t in RAW_TYPES),
    news,
    build_bars_asset(RAW_TYPES),
    llm_signals,
    llm_costs,
    backtest_results,
    backtest_range,
    strategy_optimization,
    llm_strategy_optimization,
    walk_forward,
    risk_report,
]
CHECKS = [
    *(build_quality_check(t) for t in RAW_TYPES),
    bars_ohlc_consistent,
    bars_no_long_gaps,
    llm_signals_coverage,
    backtest_no_trade_before_signal,
]


def build_resources(
    *,
    warehouse: WarehouseResource | None = None,
    market: MarketResource | None = None,
    llm: LLMResource | None = None,
) -> dict[str, dg.ConfigurableResource]:
    """Resources with defaults from the environment; tests and the CLI override pieces."""
    return {
        "warehouse": warehouse or WarehouseResource(),
        "market": market or default_market_resource(),
        "llm": llm or default_llm_resource(),
    }


def build_definitions(**overrides: dg.ConfigurableResource) -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=JOBS,
        schedules=build_schedules(),
        sensors=build_sensors(),
        # Steps of a run share one process: a separate process per step costs seconds of
        # imports each, and the duckdb pool is enforced either way.
        executor=dg.in_process_executor,
        resources=build_resources(**overrides),
    )


defs = build_definitions()
