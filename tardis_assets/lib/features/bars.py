"""Time bars from tardis trades, as polars lazy expressions.

One lazy plan serves both an in-memory frame (tests, small days) and a Parquet file scanned with
the streaming engine, so a 50M-row day is aggregated in bounded memory without a second
implementation to keep in sync.

Bars are keyed by the exchange ``timestamp`` (when the trade happened), floored to the bar size.
Within a bar the order of trades is (``timestamp``, ``seq``): exchange time, then arrival order
among the many trades that share one timestamp, so ``open`` and ``close`` are the first and the
last trade as the exchange reported them, whatever order a scan of the files returns.
Sums (volume, notional, buy and sell volume) are added in that same order, one trade after the
other: a parallel float sum depends on how threads split the rows, so a re-run would store bars
that differ in the last bits and every content hash downstream would move.
Minutes without trades are filled so every day has a complete grid: open=high=low=close=previous
close, zero volume and trades. Minutes before the day's first trade are dropped (no price yet).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TypeVar

import polars as pl

from tardis_assets.lib.days import US_PER_DAY, day_start_us
from tardis_assets.lib.features.tables import BARS
from tardis_assets.lib.market.tardis.schemas import SEQ

# The order of rows within a bar: exchange time, then arrival order among ties.
ORDER = ["timestamp", SEQ]
F = TypeVar("F", pl.DataFrame, pl.LazyFrame)
BAR_COLUMNS = (
    "exchange",
    "symbol",
    "bar_start",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "vwap",
    "trades",
    "buy_volume",
    "sell_volume",
    "imbalance",
)


def with_arrival_order(frame: F) -> F:
    """``frame`` with a ``seq`` column: lake files carry one; an in-memory frame without it is
    taken to be in arrival order (as tardis files and the synthetic market produce rows)."""
    names = frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns
    if SEQ in names:
        return frame
    return frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(SEQ))


def ordered_sum(expr: pl.Expr) -> pl.Expr:
    """Sum of ``expr``'s non-null values added one by one in the group's row order (0 if none).

    A prefix sum is sequential by construction, unlike ``sum``/``mean``, whose result depends on
    how rows are split across threads; rows must be in (``timestamp``, ``seq``) order already.
    """
    return expr.drop_nulls().cum_sum().last().fill_null(0.0)


def ordered_mean(expr: pl.Expr) -> pl.Expr:
    """Mean of ``expr``'s non-null values from ``ordered_sum`` (null if there are none)."""
    count = expr.drop_nulls().len()
    return pl.when(count > 0).then(ordered_sum(expr) / count)


def bar_us(bar_seconds: int) -> int:
    """A bar's length in µs; a bar must divide a UTC day evenly."""
    if bar_seconds <= 0 or 86_400 % bar_seconds:
        raise ValueError(f"bar_seconds must divide a day evenly, got {bar_seconds}")
    return bar_seconds * 1_000_000


def bars_plan(trades: pl.LazyFrame, bar_seconds: int = 60, day: date | None = None) -> pl.LazyFrame:
    """Aggregate trades into OHLCV bars (no gap filling; see ``fill_gaps``)."""
    step = bar_us(bar_seconds)
    if day is not None:
        start = day_start_us(day)
        trades = trades.filter(pl.col("timestamp").is_between(start, start + US_PER_DAY - 1))
    buy = pl.col("side") == "buy"
    sell = pl.col("side") == "sell"
    return (
        trades.sort("exchange", "symbol", *ORDER, maintain_order=True)
        .with_columns(bar=(pl.col("timestamp") // step) * step)
        .group_by("exchange", "symbol", "bar", maintain_order=True)
        .agg(
            open=pl.col("price").first(),
            high=pl.col("price").max(),
            low=pl.col("price").min(),
            close=pl.col("price").last(),
            volume=ordered_sum(pl.col("amount")),
            notional=ordered_sum(pl.col("price") * pl.col("amount")),
            trades=pl.len().cast(pl.Int64),
            buy_volume=ordered_sum(pl.col("amount").filter(buy)),
            sell_volume=ordered_sum(pl.col("amount").filter(sell)),
        )
        .with_columns(
            bar_start=pl.col("bar").cast(pl.Datetime("us", "UTC")),
            vwap=pl.col("notional") / pl.col("volume"),
        )
        .drop("bar", "notional")
    )


def fill_gaps(bars: pl.DataFrame, bar_seconds: int, day: date) -> pl.DataFrame:
    """Complete the bar grid of ``day`` for each instrument (see module docstring)."""
    if bars.is_empty():
        return _finish(bars)
    start = pl.lit(day_start_us(day)).cast(pl.Datetime("us", "UTC"))
    grid = pl.datetime_range(
        start, start + pl.duration(days=1), f"{bar_seconds}s", closed="left", eager=True
    ).alias("bar_start")
    out = []
    for (exchange, symbol), group in bars.sort("bar_start").group_by(
        "exchange", "symbol", maintain_order=True
    ):
        full = (
            pl.DataFrame({"bar_start": grid})
            .join(group, on="bar_start", how="left")
            .with_columns(close=pl.col("close").forward_fill())
            .filter(pl.col("close").is_not_null())
            .with_columns(
                exchange=pl.lit(exchange, pl.String),
                symbol=pl.lit(symbol, pl.String),
                open=pl.col("open").fill_null(pl.col("close")),
                high=pl.col("high").fill_null(pl.col("close")),
                low=pl.col("low").fill_null(pl.col("close")),
                vwap=pl.col("vwap").fill_null(pl.col("close")),
                volume=pl.col("volume").fill_null(0.0),
                trades=pl.col("trades").fill_null(0),
                buy_volume=pl.col("buy_volume").fill_null(0.0),
                sell_volume=pl.col("sell_volume").fill_null(0.0),
            )
        )
        out.append(full)
    return _finish(pl.concat(out, how="diagonal_relaxed"))


def _finish(bars: pl.DataFrame) -> pl.DataFrame:
    if bars.is_empty():
        return pl.DataFrame(schema=BAR_SCHEMA)
    flow = pl.col("buy_volume") + pl.col("sell_volume")
    return (
        bars.with_columns(
            imbalance=pl.when(flow > 0)
            .then((pl.col("buy_volume") - pl.col("sell_volume")) / flow)
            .otherwise(0.0)
        )
        .select(BAR_COLUMNS)
        .cast(BAR_SCHEMA)
        .sort("exchange", "symbol", "bar_start")
    )


BAR_SCHEMA = {name: BARS.polars_schema[name] for name in BAR_COLUMNS}


def bars_from_trades(
    trades: pl.DataFrame, bar_seconds: int = 60, day: date | None = None
) -> pl.DataFrame:
    """Bars of an in-memory trades frame; gaps filled when ``day`` is given."""
    raw = bars_plan(with_arrival_order(trades).lazy(), bar_seconds, day).collect()
    return fill_gaps(raw, bar_seconds, day) if day is not None else _finish(raw)


def bars_from_parquet(
    paths: Path | list[Path], bar_seconds: int = 60, day: date | None = None
) -> pl.DataFrame:
    """Bars of tardis trades Parquet file(s), scanned with polars' streaming engine."""
    files = [str(p) for p in ([paths] if isinstance(paths, Path) else paths)]
    raw = bars_plan(with_arrival_order(pl.scan_parquet(files)), bar_seconds, day).collect(
        engine="streaming"
    )
    return fill_gaps(raw, bar_seconds, day) if day is not None else _finish(raw)
