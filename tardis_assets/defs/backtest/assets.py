"""Backtest layer: the LLM-signal strategy per UTC day, traded only once signals are available."""

import hashlib
import json
from dataclasses import asdict

import dagster as dg
import polars as pl

from tardis_assets.defs.common import DUCKDB_POOL, RETRY
from tardis_assets.defs.features.assets import BARS_WHERE, day_bounds
from tardis_assets.defs.partitions import by_date, daily
from tardis_assets.defs.resources import WarehouseResource, day_of
from tardis_assets.lib import tables
from tardis_assets.lib.backtest import LLMStrategyParams, run_llm_strategy
from tardis_assets.lib.warehouse import PartitionWrite


class StrategyConfig(dg.Config):
    """Parameters of the LLM-signal strategy (see LLMStrategyParams for their meaning)."""

    w_sentiment: float = 0.5
    w_pattern: float = 0.5
    entry_threshold: float = 0.2
    exit_threshold: float = 0.05
    min_confidence: float = 0.3
    max_risk: float = 0.8
    holding_bars: int = 0
    fee_bps: float = 5.0
    slippage_bps: float = 1.0

    def params(self) -> LLMStrategyParams:
        return LLMStrategyParams(**self.model_dump())


def run_id_of(params: LLMStrategyParams) -> str:
    """A stable id of the parameter set: same params, same rows, so re-runs replace, not add."""
    text = json.dumps(asdict(params), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dg.asset(
    partitions_def=daily,
    deps=["bars", dg.AssetDep("llm_signals", partition_mapping=by_date)],
    group_name="backtest",
    kinds={"numba", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=RETRY,
    automation_condition=dg.AutomationCondition.eager(),
    description=(
        "Daily backtest of the LLM-signal strategy per instrument (tables backtest_bars and "
        "backtest_summary): a signal trades from the first bar starting at or after its "
        "available_at, at that bar's open, with fees and slippage in bps."
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
    per_bar, summary = [], []
    for (exchange, symbol), group in bars.group_by("exchange", "symbol", maintain_order=True):
        sig = signals.filter((pl.col("exchange") == exchange) & (pl.col("symbol") == symbol))
        result = run_llm_strategy(group, sig, params)
        per_bar.append(
            result.per_bar.with_columns(
                run_id=pl.lit(run_id),
                date=pl.lit(day),
                exchange=pl.lit(exchange),
                symbol=pl.lit(symbol),
            )
        )
        m = result.metrics
        summary.append(
            {
                "run_id": run_id,
                "date": day,
                "exchange": exchange,
                "symbol": symbol,
                "params": json.dumps(asdict(params), sort_keys=True),
                "n_trades": result.n_trades,
                "total_return": m["total_return"],
                "sharpe": m["sharpe"],
                "sortino": m["sortino"],
                "max_drawdown": m["max_drawdown"],
                "win_rate": m["win_rate"],
                "turnover": m["turnover"],
                "exposure": m["exposure"],
                "metrics": json.dumps(m, sort_keys=True),
            }
        )
    per_bar_frame = pl.concat(per_bar).select(
        "run_id",
        "date",
        "exchange",
        "symbol",
        "bar_start",
        "position",
        "gross_return",
        "cost",
        "net_return",
        "equity",
    )
    summary_frame = pl.DataFrame(summary)
    where = "run_id = ? AND date = ?"
    wh.write(
        PartitionWrite("backtest_bars", per_bar_frame, where, (run_id, day), tables.BACKTEST_BARS),
        PartitionWrite(
            "backtest_summary", summary_frame, where, (run_id, day), tables.BACKTEST_SUMMARY
        ),
    )
    first = summary[0]
    return dg.MaterializeResult(
        metadata={
            "run_id": dg.MetadataValue.text(run_id),
            "rows": dg.MetadataValue.int(per_bar_frame.height),
            "n_trades": dg.MetadataValue.int(int(summary_frame["n_trades"].sum())),
            "total_return": dg.MetadataValue.float(float(first["total_return"])),
            "sharpe": dg.MetadataValue.float(float(first["sharpe"])),
            "max_drawdown": dg.MetadataValue.float(float(first["max_drawdown"])),
            "signals_used": dg.MetadataValue.int(int((signals["status"] == "ok").sum())),
        }
    )
