"""Time bars from tardis trades, as polars lazy expressions.

One lazy plan serves both an in-memory frame (tests, small days) and a Parquet file scanned with
the streaming engine, so a 50M-row day is aggregated in bounded memory without a second
implementation to keep in sync.

Bars are keyed by the exchange ``timestamp`` (when the trade happened), floored to the bar size.
Minutes without trades are filled so every day has a complete grid: open=high=low=close=previous
close, zero volume and trades. Minutes before the day's first trade are dropped (no price yet).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from tardis_assets.lib.market.synthetic import day_start_us

US_PER_DAY = 86_400_000_000
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


def _bar_us(bar_seconds: int) -> int:
    if bar_seconds <= 0 or 86_400 % bar_seconds:
        raise ValueError(f"bar_seconds must divide a day evenly, got {bar_seconds}")
    return bar_seconds * 1_000_000


def bars_plan(trades: pl.LazyFrame, bar_seconds: int = 60, day: date | None = None) -> pl.LazyFrame:
    """Aggregate trades into OHLCV bars (no gap filling; see ``fill_gaps``)."""
    bar_us = _bar_us(bar_seconds)
    if day is not None:
        start = day_start_us(day)
        trades = trades.filter(pl.col("timestamp").is_between(start, start + US_PER_DAY - 1))
    buy = pl.col("side") == "buy"
    sell = pl.col("side") == "sell"
    return (
        trades.with_columns(bar=(pl.col("timestamp") // bar_us) * bar_us)
        .group_by("exchange", "symbol", "bar")
        .agg(
            open=pl.col("price").sort_by("timestamp").first(),
            high=pl.col("price").max(),
            low=pl.col("price").min(),
            close=pl.col("price").sort_by("timestamp").last(),
            volume=pl.col("amount").sum(),
            notional=(pl.col("price") * pl.col("amount")).sum(),
            trades=pl.len().cast(pl.Int64),
            buy_volume=pl.col("amount").filter(buy).sum(),
            sell_volume=pl.col("amount").filter(sell).sum(),
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


BAR_SCHEMA = {
    "exchange": pl.String,
    "symbol": pl.String,
    "bar_start": pl.Datetime("us", "UTC"),
    "open": pl.Float64,
    "high": pl.Float64,
    "low": pl.Float64,
    "close": pl.Float64,
    "volume": pl.Float64,
    "vwap": pl.Float64,
    "trades": pl.Int64,
    "buy_volume": pl.Float64,
    "sell_volume": pl.Float64,
    "imbalance": pl.Float64,
}


def bars_from_trades(
    trades: pl.DataFrame, bar_seconds: int = 60, day: date | None = None
) -> pl.DataFrame:
    """Bars of an in-memory trades frame; gaps filled when ``day`` is given."""
    raw = bars_plan(trades.lazy(), bar_seconds, day).collect()
    return fill_gaps(raw, bar_seconds, day) if day is not None else _finish(raw)


def bars_from_parquet(
    paths: Path | list[Path], bar_seconds: int = 60, day: date | None = None
) -> pl.DataFrame:
    """Bars of tardis trades Parquet file(s), scanned with polars' streaming engine."""
    files = [str(p) for p in ([paths] if isinstance(paths, Path) else paths)]
    raw = bars_plan(pl.scan_parquet(files), bar_seconds, day).collect(engine="streaming")
    return fill_gaps(raw, bar_seconds, day) if day is not None else _finish(raw)
