"""What latency is worth: the same signals and strategy replayed under other latencies.

The model latency is the LLM's: each signal's ``available_at`` is moved to its window end plus the
given latency (``measured`` keeps the stored, real latencies). The order latency is the wire's:
order-entry and response latency both set to the given value. Everything else (signals,
parameters, market, fees) is held fixed, so differences in PnL, Sharpe and implementation
shortfall are what those milliseconds cost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import polars as pl

from tardis_assets.lib.backtest.params import LLMStrategyParams
from tardis_assets.lib.backtest.reports import AssetReport
from tardis_assets.lib.execution.charts import latency_png
from tardis_assets.lib.execution.config import (
    MODEL_LATENCIES_MS,
    ORDER_LATENCIES_MS,
    ExecutionConfig,
)
from tardis_assets.lib.execution.engine import run_execution
from tardis_assets.lib.execution.outputs import ExecutionResult
from tardis_assets.lib.execution.sources import MarketData

LATENCY_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "model_latency": pl.String(),
    "model_latency_ms": pl.Float64(),
    "order_latency_ms": pl.Float64(),
    "pnl": pl.Float64(),
    "total_return": pl.Float64(),
    "sharpe": pl.Float64(),
    "max_drawdown": pl.Float64(),
    "implementation_shortfall": pl.Float64(),
    "implementation_shortfall_bps": pl.Float64(),
    "model_delay": pl.Float64(),
    "order_delay": pl.Float64(),
    "spread_impact": pl.Float64(),
    "fees": pl.Float64(),
    "funding": pl.Float64(),
    "alpha": pl.Float64(),
    "traded_notional": pl.Float64(),
    "n_orders": pl.Int64(),
    "n_fills": pl.Int64(),
}


def _row(
    result: ExecutionResult, run_id: str, model_ms: float | None, order_ms: float
) -> dict[str, object]:
    fills = result.fills
    notional = (
        float((fills.get_column("price") * fills.get_column("qty")).sum())
        if (fills.height)
        else 0.0
    )
    measured = result.orders.get_column("model_latency_us").drop_nulls()
    shown_ms = (
        float(measured.median()) / 1_000.0 if model_ms is None and measured.len() else model_ms
    )
    is_quote = result.pnl["implementation_shortfall"]
    return {
        "run_id": run_id,
        "model_latency": "measured" if model_ms is None else f"{model_ms:g} ms",
        "model_latency_ms": shown_ms,
        "order_latency_ms": order_ms,
        "pnl": result.pnl["pnl"],
        "total_return": result.metrics["total_return"],
        "sharpe": result.metrics["sharpe"],
        "max_drawdown": result.metrics["max_drawdown"],
        "implementation_shortfall": is_quote,
        "implementation_shortfall_bps": is_quote / notional * 1e4 if notional > 0 else np.nan,
        "model_delay": result.pnl["model_delay"],
        "order_delay": result.pnl["order_delay"],
        "spread_impact": result.pnl["spread_impact"],
        "fees": result.pnl["fees"],
        "funding": result.pnl["funding"],
        "alpha": result.pnl["alpha"],
        "traded_notional": notional,
        "n_orders": result.orders.height,
        "n_fills": fills.height,
    }


def latency_table(
    data: MarketData,
    signals: pl.DataFrame,
    params: LLMStrategyParams,
    config: ExecutionConfig | None = None,
    *,
    run_id: str = "",
    model_latencies_ms: Sequence[float | None] = MODEL_LATENCIES_MS,
    order_latencies_ms: Sequence[float] = ORDER_LATENCIES_MS,
) -> pl.DataFrame:
    """One replay per (model latency, order latency); a row of results each."""
    if not model_latencies_ms or not order_latencies_ms:
        raise ValueError("latency_study needs at least one model and one order latency")
    base = config or ExecutionConfig()
    rows = []
    for model_ms in model_latencies_ms:
        for order_ms in order_latencies_ms:
            cfg = dataclasses.replace(
                base,
                model_latency_ms=model_ms,
                entry_latency_ms=order_ms,
                response_latency_ms=order_ms,
            )
            rows.append(_row(run_execution(data, signals, params, cfg), run_id, model_ms, order_ms))
    return pl.DataFrame(rows, schema=LATENCY_SCHEMA)


def latency_study(
    data: MarketData,
    signals: pl.DataFrame,
    params: LLMStrategyParams,
    config: ExecutionConfig | None = None,
    *,
    run_id: str,
    model_latencies_ms: Sequence[float | None] = MODEL_LATENCIES_MS,
    order_latencies_ms: Sequence[float] = ORDER_LATENCIES_MS,
) -> AssetReport:
    """`latency_study`: table ``latency_study`` and a plot of PnL, Sharpe and implementation
    shortfall against model latency (one line per order latency)."""
    table = latency_table(
        data,
        signals,
        params,
        config,
        run_id=run_id,
        model_latencies_ms=model_latencies_ms,
        order_latencies_ms=order_latencies_ms,
    )
    fastest = table.sort("model_latency_ms", "order_latency_ms").row(0, named=True)
    slowest = table.sort("model_latency_ms", "order_latency_ms", descending=True).row(0, named=True)
    meta: dict[str, float | int | str] = {
        "run_id": run_id,
        "n_runs": table.height,
        "pnl_fastest": float(fastest["pnl"]),
        "pnl_slowest": float(slowest["pnl"]),
        "pnl_cost_of_latency": float(fastest["pnl"]) - float(slowest["pnl"]),
        "table_markdown": _markdown(
            table.select(
                "model_latency",
                "order_latency_ms",
                "pnl",
                "sharpe",
                "implementation_shortfall_bps",
                "n_fills",
            )
        ),
    }
    return AssetReport(tables={"latency_study": table}, metadata=meta, png=latency_png(table))


def _markdown(frame: pl.DataFrame) -> str:
    cols = frame.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.iter_rows():
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
