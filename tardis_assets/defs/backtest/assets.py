"""Backtest layer: the LLM-signal strategy per UTC day, traded only once signals are available."""

import base64
import json

import dagster as dg
import polars as pl

from tardis_assets.defs.common import DUCKDB_POOL, RETRY
from tardis_assets.defs.features.assets import BARS_WHERE, day_bounds
from tardis_assets.defs.partitions import by_date, daily
from tardis_assets.defs.resources import WarehouseResource, day_of
from tardis_assets.lib.backtest import LLMStrategyParams
from tardis_assets.lib.backtest.reports import AssetReport, backtest_report, params_hash
from tardis_assets.lib.warehouse import PartitionWrite


class StrategyConfig(dg.Config):
    """Parameters of the LLM-signal strategy (see LLMStrategyParams for their meaning).

    The defaults trade the news: sentiment carries the decision, the price pattern only tips a
    borderline score, the risk score vetoes, and a position is held for at most 15 bars, about
    how long a headline moves this market.
    """

    w_sentiment: float = 1.0
    w_pattern: float = 0.2
    entry_threshold: float = 0.5
    exit_threshold: float = 0.05
    min_confidence: float = 0.3
    max_risk: float = 0.8
    holding_bars: int = 15
    stop_loss: float = 0.0
    take_profit: float = 0.0
    allow_short: bool = True
    position_size: float = 1.0
    fee_bps: float = 5.0
    slippage_bps: float = 1.0

    def params(self) -> LLMStrategyParams:
        return LLMStrategyParams(**self.model_dump())


def run_id_of(params: LLMStrategyParams) -> str:
    """Same params, same id: re-runs replace their rows instead of adding new ones."""
    return params_hash(params)


def png_markdown(report: AssetReport, title: str) -> dg.MetadataValue:
    """The report's small PNG inline in the UI (it lives in the event log, so it stays small)."""
    encoded = base64.b64encode(report.png).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def plain_metadata(metadata: dict) -> dict[str, dg.MetadataValue]:
    """Numbers as float/int metadata (the UI plots them across partitions), text as text."""
    out: dict[str, dg.MetadataValue] = {}
    for key, value in metadata.items():
        if isinstance(value, (bool, str)):
            out[key] = dg.MetadataValue.text(str(value))
        elif isinstance(value, int):
            out[key] = dg.MetadataValue.int(value)
        else:
            out[key] = dg.MetadataValue.float(float(value))
    return out


@dg.asset(
    partitions_def=daily,
    deps=["bars", dg.AssetDep("llm_signals", partition_mapping=by_date)],
    group_name="backtest",
    kinds={"numba", "duckdb"},
    pool=DUCKDB_POOL,
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
    day = day_of(context.partition_key)
    wh = warehouse.warehouse()
    bounds = day_bounds(day)
    bars = wh.read(
        f"SELECT * FROM bars WHERE {BARS_WHERE} ORDER BY exchange, symbol, bar_start", bounds
    )
    signals = wh.read(f"SELECT * FROM llm_signals WHERE {BARS_WHERE}", bounds)
    if bars.is_empty():
        raise dg.Failure(f"partition {day}: no bars; materialize bars first", allow_retries=False)
    params = config.params()
    run_id = run_id_of(params)
    per_bar, summary, reports = [], [], []
    for (exchange, symbol), group in bars.group_by("exchange", "symbol", maintain_order=True):
        sig = signals.filter((pl.col("exchange") == exchange) & (pl.col("symbol") == symbol))
        report = backtest_report(group, sig, params, run_id=run_id)
        keys = {"date": pl.lit(day), "exchange": pl.lit(exchange), "symbol": pl.lit(symbol)}
        per_bar.append(report.tables["backtest_per_bar"].with_columns(**keys))
        summary.append(report.tables["backtest_summary"].with_columns(**keys))
        reports.append(report)
    where = "run_id = ? AND date = ?"
    wh.write(
        PartitionWrite("backtest_per_bar", pl.concat(per_bar), where, (run_id, day), None),
        PartitionWrite("backtest_summary", pl.concat(summary), where, (run_id, day), None),
    )
    first = reports[0]
    return dg.MaterializeResult(
        metadata={
            **plain_metadata(first.metadata),
            "params": dg.MetadataValue.json(json.loads(summary[0]["params"][0])),
            "equity_curve": png_markdown(first, "equity and drawdown"),
            "signals_used": dg.MetadataValue.int(int((signals["status"] == "ok").sum())),
        }
    )
