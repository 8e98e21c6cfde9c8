"""What the execution assets store and show, as pure functions of a finished replay.

Each function returns an `AssetReport` (tables to write, plain metadata, one small PNG), like
`lib/backtest/reports.py`, so the Dagster assets only load inputs, call one function and write.
A day and a range are the same thing here (a range is one continuous replay over several days),
so `execution_report` serves both; its ``execution_daily`` table splits the PnL by UTC day.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import polars as pl

from tardis_assets.lib.backtest.metrics import METRIC_NAMES
from tardis_assets.lib.backtest.params import LLMStrategyParams
from tardis_assets.lib.backtest.reports import AssetReport, params_hash
from tardis_assets.lib.execution.charts import execution_png
from tardis_assets.lib.execution.outputs import (
    EQUITY_SCHEMA,
    FILLS_SCHEMA,
    ORDERS_SCHEMA,
    PNL_NAMES,
    TS,
    ExecutionResult,
)

RUN_ID = {"run_id": pl.String()}

DAILY_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "date": pl.Date(),
    "pnl": pl.Float64(),
    "alpha": pl.Float64(),
    "spread_impact": pl.Float64(),
    "fees": pl.Float64(),
    "funding": pl.Float64(),
    "n_fills": pl.Int64(),
    "traded_notional": pl.Float64(),
    "maker_share": pl.Float64(),
}

SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "params_hash": pl.String(),
    "params": pl.String(),
    "config": pl.String(),
    "exchange": pl.String(),
    "symbol": pl.String(),
    "first_time": TS,
    "last_time": TS,
    "n_marks": pl.Int64(),
    **{name: pl.Float64() for name in METRIC_NAMES},
    **{f"pnl_{name}": pl.Float64() for name in PNL_NAMES},
    "passive_fill_rate": pl.Float64(),
    "maker_share": pl.Float64(),
    "n_orders": pl.Int64(),
    "n_fills": pl.Int64(),
    "n_decisions": pl.Int64(),
    "events": pl.Int64(),
    "depth_source": pl.String(),
    "maker_fee_bps": pl.Float64(),
    "taker_fee_bps": pl.Float64(),
}

TABLE_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "execution_orders": {**RUN_ID, **ORDERS_SCHEMA},
    "execution_fills": {**RUN_ID, **FILLS_SCHEMA},
    "execution_equity": {**RUN_ID, **EQUITY_SCHEMA},
    "execution_daily": DAILY_SCHEMA,
    "execution_summary": SUMMARY_SCHEMA,
}


def _with_run(frame: pl.DataFrame, run_id: str) -> pl.DataFrame:
    return frame.select(pl.lit(run_id, dtype=pl.String).alias("run_id"), pl.all())


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else float("nan")


def daily_breakdown(result: ExecutionResult, run_id: str) -> pl.DataFrame:
    """PnL and its parts per UTC day (a day's PnL is its last mark minus the previous one)."""
    capital = result.run.config.capital
    eq = result.equity.select(
        pl.col("time"),
        pl.col("equity"),
        (pl.col("time") - pl.duration(microseconds=1)).dt.date().alias("date"),
    )
    days = eq.group_by("date", maintain_order=True).agg(pl.col("equity").last().alias("close"))
    days = days.with_columns(
        (pl.col("close") - pl.col("close").shift(1).fill_null(capital)).alias("pnl")
    )
    fills = result.fills.with_columns(
        pl.col("time").dt.date().alias("date"),
        (
            pl.when(pl.col("side") == "buy").then(1.0).otherwise(-1.0)
            * (pl.col("price") - pl.col("mid").fill_null(pl.col("price")))
            * pl.col("qty")
        ).alias("spread"),
        (pl.col("price") * pl.col("qty")).alias("notional"),
    )
    per_fill = fills.group_by("date").agg(
        pl.col("spread").sum().alias("spread_impact"),
        pl.col("fee").sum().alias("fees"),
        pl.len().cast(pl.Int64).alias("n_fills"),
        pl.col("notional").sum().alias("traded_notional"),
        pl.col("qty").filter(pl.col("liquidity") == "maker").sum().alias("maker_qty"),
        pl.col("qty").sum().alias("qty"),
    )
    funding = result.funding.group_by(pl.col("time").dt.date().alias("date")).agg(
        pl.col("payment").sum().alias("funding")
    )
    out = (
        days.join(per_fill, on="date", how="left")
        .join(funding, on="date", how="left")
        .with_columns(
            pl.col("spread_impact", "fees", "funding", "traded_notional").fill_null(0.0),
            pl.col("n_fills").fill_null(0),
        )
        .with_columns(
            (pl.col("pnl") + pl.col("spread_impact") + pl.col("fees") + pl.col("funding")).alias(
                "alpha"
            ),
            pl.when(pl.col("qty") > 0)
            .then(pl.col("maker_qty") / pl.col("qty"))
            .otherwise(None)
            .alias("maker_share"),
            pl.lit(run_id, dtype=pl.String).alias("run_id"),
        )
    )
    return out.select(list(DAILY_SCHEMA)).cast(DAILY_SCHEMA)


def _outcome(result: ExecutionResult) -> dict[str, float | int | str]:
    """What a replay produced, deterministic: the summary row and the metadata both carry it."""
    stats = result.stats
    return {
        **{k: _finite(v) for k, v in result.metrics.items()},
        **{f"pnl_{k}": _finite(v) for k, v in result.pnl.items()},
        "passive_fill_rate": _finite(float(stats["passive_fill_rate"])),
        "maker_share": _finite(float(stats["maker_share"])),
        "n_orders": int(stats["n_orders"]),
        "n_fills": int(stats["n_fills"]),
        "n_decisions": int(stats["n_decisions"]),
        "events": int(stats["rows"]),
        "depth_source": str(stats["depth_source"]),
        "maker_fee_bps": float(stats["maker_fee_bps"]),
        "taker_fee_bps": float(stats["taker_fee_bps"]),
    }


def execution_report(
    result: ExecutionResult,
    *,
    run_id: str,
    params: LLMStrategyParams | None = None,
    title: str | None = None,
) -> AssetReport:
    """`execution_results` (a day) and `execution_range` (several days): tables, metadata, PNG.

    Tables: ``execution_orders``, ``execution_fills``, ``execution_equity`` (each with the
    run_id first), ``execution_daily`` (PnL decomposition per day) and ``execution_summary``
    (one row). Metadata: the bar engine's metrics, the PnL decomposition (signal alpha,
    spread/impact, fees, funding, implementation shortfall), passive fill rate, counts, speed.
    """
    run = result.run
    ph = params_hash(params) if params is not None else ""
    equity = result.equity
    outcome = _outcome(result)
    stats = result.stats
    config_json = json.dumps(dataclasses.asdict(run.config), sort_keys=True)
    summary = pl.DataFrame(
        [
            {
                "run_id": run_id,
                "params_hash": ph,
                "params": json.dumps(dataclasses.asdict(params), sort_keys=True)
                if params is not None
                else "",
                "config": config_json,
                "exchange": run.data.exchange,
                "symbol": run.data.symbol,
                "first_time": equity.get_column("time")[0] if equity.height else None,
                "last_time": equity.get_column("time")[-1] if equity.height else None,
                "n_marks": equity.height,
                **outcome,
            }
        ],
        schema=SUMMARY_SCHEMA,
    )
    meta: dict[str, float | int | str] = {
        "run_id": run_id,
        "params_hash": ph,
        "exchange": run.data.exchange,
        "symbol": run.data.symbol,
        **outcome,
        # Timing varies run to run: metadata only, never in a table (re-runs are byte-identical).
        "events_per_second": float(stats["events_per_second"]),
        "replay_seconds": float(stats["seconds"]),
        "local_source": str(stats["local_source"]),
        "entry_latency_ms": run.config.entry_latency_ms,
        "response_latency_ms": run.config.response_latency_ms,
        "style": run.config.style,
        "queue_model": run.config.queue_model,
    }
    label = title or f"{run.data.exchange} {run.data.symbol} {run.config.style} execution"
    return AssetReport(
        tables={
            "execution_orders": _with_run(result.orders, run_id),
            "execution_fills": _with_run(result.fills, run_id),
            "execution_equity": _with_run(equity, run_id),
            "execution_daily": daily_breakdown(result, run_id),
            "execution_summary": summary,
        },
        metadata=meta,
        png=execution_png(equity, result.pnl, label),
    )
