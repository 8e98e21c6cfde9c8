"""Backtest layer: the LLM-signal strategy per UTC day, traded only once signals are available."""

import json

import dagster as dg

from tardis_assets.defs.partitions import by_date, daily
from tardis_assets.defs.resources import WarehouseResource
from tardis_assets.defs.support.context import day_of
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.metadata import plain_metadata, png_markdown
from tardis_assets.defs.support.params_config import params_config
from tardis_assets.lib.backtest import LLMStrategyParams
from tardis_assets.lib.errors import MissingInputError
from tardis_assets.lib.llm import KINDS

StrategyConfig = params_config(
    "StrategyConfig",
    LLMStrategyParams,
    "Parameters of the LLM-signal strategy (fields and defaults: LLMStrategyParams).",
)


def default_strategy_run_id() -> str:
    """The run id of the daily backtest with default parameters (what summaries report)."""
    from tardis_assets.lib.backtest.reports import params_hash

    return params_hash(LLMStrategyParams())


@dg.asset(
    partitions_def=daily,
    deps=["bars", dg.AssetDep("llm_signals", partition_mapping=by_date)],
    group_name="backtest",
    kinds={"numba", "parquet"},
    retry_policy=RETRY,
    automation_condition=dg.AutomationCondition.eager(),
    description=(
        "Daily backtest of the LLM-signal strategy per instrument (tables backtest_per_bar and "
        "backtest_summary): a signal trades from the first bar starting at or after its "
        "available_at, at that bar's open, with fees, slippage and half the quoted spread."
    ),
)
def backtest_results(
    context: dg.AssetExecutionContext, config: StrategyConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with expected_failures("backtest_results", context.partition_key):
        return _backtest_day(context, config.params(), warehouse)


def _backtest_day(
    context: dg.AssetExecutionContext, params: LLMStrategyParams, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    import polars as pl

    from tardis_assets.lib.backtest.reports import backtest_report, params_hash
    from tardis_assets.lib.backtest.tables import BACKTEST_PER_BAR, BACKTEST_SUMMARY
    from tardis_assets.lib.features.tables import BARS
    from tardis_assets.lib.signals import LLM_SIGNALS

    day = day_of(context.partition_key)
    wh = warehouse.warehouse()
    bars = wh.read_partition(BARS, {"date": day})
    if bars is None or bars.is_empty():
        raise MissingInputError(f"no bars for {day}", remedy="Materialize bars for that day first.")
    bars = bars.sort("exchange", "symbol", "bar_start")
    signals = wh.read_partitions(LLM_SIGNALS, ({"date": day, "kind": k} for k in KINDS))
    # Same params, same id: re-runs replace their rows instead of adding new ones.
    run_id = params_hash(params)
    per_bar, summary, reports = [], [], []
    for (exchange, symbol), group in bars.group_by("exchange", "symbol", maintain_order=True):
        sig = signals.filter((pl.col("exchange") == exchange) & (pl.col("symbol") == symbol))
        report = backtest_report(group, sig, params, run_id=run_id)
        keys = {"date": pl.lit(day), "exchange": pl.lit(exchange), "symbol": pl.lit(symbol)}
        per_bar.append(report.tables["backtest_per_bar"].with_columns(**keys))
        summary.append(report.tables["backtest_summary"].with_columns(**keys))
        reports.append(report)
    key = {"date": day, "run_id": run_id}
    wh.write(BACKTEST_PER_BAR, key, pl.concat(per_bar))
    wh.write(BACKTEST_SUMMARY, key, pl.concat(summary))
    first = reports[0]
    return dg.MaterializeResult(
        metadata={
            **plain_metadata(first.metadata),
            "params": dg.MetadataValue.json(json.loads(summary[0]["params"][0])),
            "equity_curve": png_markdown(first.png, "equity and drawdown"),
            "signals_used": dg.MetadataValue.int(int((signals["status"] == "ok").sum())),
        }
    )
