"""Inputs shared by the signal-layer tests (imported by name: tests/signals is on sys.path)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from tardis_assets.lib.features.bars import bars_from_trades
from tardis_assets.lib.features.indicators import with_indicators
from tardis_assets.lib.market.synthetic import SyntheticMarket

DAY = date(2026, 11, 20)  # after every model cutoff of the default routing table
OLD_DAY = date(2024, 1, 10)  # before every cutoff


def day_bars(day: date = DAY, symbol: str = "BTCUSDT", exchange: str = "binance-futures",
             trades_per_day: int = 5_000) -> pl.DataFrame:  # fmt: skip
    """One synthetic day of 1-minute bars with indicators (trades in arrival order)."""
    trades = SyntheticMarket(trades_per_day=trades_per_day).trades(exchange, symbol, day)
    if "seq" not in trades.columns:  # arrival order, as ingest records it
        trades = trades.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("seq"))
    return with_indicators(bars_from_trades(trades, 60, day))


def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def news(*rows: tuple[datetime, str, list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "published_at": [r[0] for r in rows],
            "headline": [r[1] for r in rows],
            "symbols": [r[2] for r in rows],
        },
        schema={
            "published_at": pl.Datetime("us", "UTC"),
            "headline": pl.String,
            "symbols": pl.List(pl.String),
        },
    )
