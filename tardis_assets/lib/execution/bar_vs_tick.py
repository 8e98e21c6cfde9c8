"""The price of the bar approximation: the tick engine beside the bar engine, same parameters.

For each parameter set (e.g. the top rows of ``llm_strategy_optimization``) both engines run the
same signals over the same range: the bar engine (`run_llm_strategy`: fills at the next bar open
with ``fee_bps`` + ``slippage_bps`` + half the quoted spread) and the tick engine (orders against
the replayed book, fees from the fee table, the LLM's measured latency). ``gap_*`` = tick - bar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import polars as pl

from tardis_assets.lib.backtest.engine import run_llm_strategy
from tardis_assets.lib.backtest.params import LLMStrategyParams
from tardis_assets.lib.backtest.reports import params_hash
from tardis_assets.lib.execution.config import ExecutionConfig
from tardis_assets.lib.execution.engine import run_execution
from tardis_assets.lib.execution.outputs import TS
from tardis_assets.lib.execution.sources import MarketData

COMPARED = ("total_return", "sharpe", "max_drawdown", "turnover", "n_trades")

GAP_SCHEMA: dict[str, pl.DataType] = {
    "rank": pl.Int64(),
    "params_hash": pl.String(),
    **{f"bar_{m}": pl.Float64() for m in COMPARED},
    **{f"tick_{m}": pl.Float64() for m in COMPARED},
    **{f"gap_{m}": pl.Float64() for m in COMPARED},
    "tick_pnl": pl.Float64(),
    "tick_alpha": pl.Float64(),
    "tick_spread_impact": pl.Float64(),
    "tick_fees": pl.Float64(),
    "tick_funding": pl.Float64(),
    "tick_n_fills": pl.Int64(),
}


def params_from_rows(rows: pl.DataFrame, base: LLMStrategyParams) -> list[LLMStrategyParams]:
    """Parameter sets from table rows (e.g. ``optimization_top``): columns named like
    `LLMStrategyParams` fields override ``base``; other columns are ignored."""
    names = {f.name for f in dataclasses.fields(LLMStrategyParams)}
    cols = [c for c in rows.columns if c in names]
    if not cols:
        raise ValueError(f"no LLMStrategyParams field among the columns {rows.columns}")
    out = []
    for row in rows.select(cols).iter_rows(named=True):
        values = {k: v for k, v in row.items() if v is not None}
        if "holding_bars" in values:
            values["holding_bars"] = int(values["holding_bars"])
        out.append(dataclasses.replace(base, **values))
    return out


def _bars_in(bars: pl.DataFrame, data: MarketData) -> pl.DataFrame:
    start = pl.lit(data.start_us).cast(pl.Int64).cast(TS)
    end = pl.lit(data.end_us).cast(pl.Int64).cast(TS)
    return bars.filter((pl.col("bar_start") >= start) & (pl.col("bar_start") < end))


def bar_vs_tick(
    bars: pl.DataFrame,
    signals: pl.DataFrame,
    params: Sequence[LLMStrategyParams],
    data: MarketData,
    config: ExecutionConfig | None = None,
    bars_per_year: float | None = None,
) -> pl.DataFrame:
    """One row per parameter set (in the given order, ``rank`` from 1): both engines' metrics
    and their gaps, plus the tick engine's PnL decomposition."""
    if not params:
        raise ValueError("bar_vs_tick needs at least one parameter set")
    config = config or ExecutionConfig()
    window = _bars_in(bars, data)
    if window.height == 0:
        raise ValueError("bars: none inside the replayed range")
    if "exchange" in window.columns:
        window = window.filter(pl.col("exchange") == data.exchange)
    if "symbol" in window.columns:
        window = window.filter(pl.col("symbol") == data.symbol)
    rows = []
    for rank, p in enumerate(params, start=1):
        bar = run_llm_strategy(window, signals, p, bars_per_year).metrics
        tick = run_execution(data, signals, p, config)
        row: dict[str, object] = {"rank": rank, "params_hash": params_hash(p)}
        for m in COMPARED:
            row[f"bar_{m}"] = float(bar[m])
            row[f"tick_{m}"] = float(tick.metrics[m])
            row[f"gap_{m}"] = float(tick.metrics[m]) - float(bar[m])
        for part in ("pnl", "alpha", "spread_impact", "fees", "funding"):
            row[f"tick_{part}"] = float(tick.pnl[part])
        row["tick_n_fills"] = tick.n_fills
        rows.append(row)
    return pl.DataFrame(rows, schema=GAP_SCHEMA)


def gap_metadata(gaps: pl.DataFrame) -> dict[str, float | int | str]:
    """What an optimization's metadata reports about the gap (mean gaps and a small table)."""
    meta: dict[str, float | int | str] = {"bar_vs_tick_n": gaps.height}
    for m in ("total_return", "sharpe"):
        meta[f"bar_vs_tick_mean_gap_{m}"] = float(gaps.get_column(f"gap_{m}").mean() or 0.0)
    table = gaps.select(
        "rank",
        "bar_total_return",
        "tick_total_return",
        "gap_total_return",
        "bar_sharpe",
        "tick_sharpe",
        "gap_sharpe",
    )
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    for r in table.iter_rows():
        lines.append(
            "| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |"
        )
    meta["bar_vs_tick_markdown"] = "\n".join(lines)
    return meta
