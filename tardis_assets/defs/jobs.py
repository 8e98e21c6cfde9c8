"""Partitioned jobs, one per partitioning of the layer chain (a run has one partition key)."""

from __future__ import annotations

import dagster as dg

from tardis_assets.defs.partitions import daily, daily_by_kind

market_job = dg.define_asset_job(
    "market_daily",
    selection=dg.AssetSelection.groups("ticks", "features"),
    partitions_def=daily,
    description="Ticks, news and bars for one UTC day.",
)
signals_job = dg.define_asset_job(
    "signals_daily",
    selection=dg.AssetSelection.assets("llm_signals"),
    partitions_def=daily_by_kind,
    description="LLM signals for one (day, kind).",
)
backtest_job = dg.define_asset_job(
    "backtest_daily",
    selection=dg.AssetSelection.assets("backtest_results"),
    partitions_def=daily,
    description="Daily backtest of the LLM-signal strategy.",
)
JOBS = [market_job, signals_job, backtest_job]
