"""Seeded random-walk 1-minute bars: reference data of the backtest tests and of bench/sweep.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)


def synthetic_ohlc(
    n_bars: int, seed: int = 7, start_price: float = 30_000.0, vol: float = 8e-4
) -> dict[str, np.ndarray]:
    """Open/high/low/close of a geometric random walk with fat-tailed minute returns.

    Each open equals the previous close plus a small gap, like exchange minute bars.
    """
    if n_bars < 1:
        raise ValueError(f"n_bars must be >= 1, got {n_bars}")
    rng = np.random.default_rng(seed)
    rets = vol * rng.standard_t(4, size=n_bars) / np.sqrt(2.0)
    close = start_price * np.exp(np.cumsum(rets))
    gap = 1.0 + 5e-5 * rng.standard_normal(n_bars)
    open_ = np.empty(n_bars)
    open_[0] = start_price
    open_[1:] = close[:-1] * gap[1:]
    wiggle = np.abs(vol * 0.5 * rng.standard_normal(n_bars))
    high = np.maximum(open_, close) * (1.0 + wiggle)
    low = np.minimum(open_, close) * (1.0 - wiggle)
    return {"open": open_, "high": high, "low": low, "close": close}


def synthetic_bars(n_bars: int, seed: int = 7, start: datetime = DEFAULT_START) -> pl.DataFrame:
    """A bars frame in the layout `run_llm_strategy` expects (no spread column)."""
    ohlc = synthetic_ohlc(n_bars, seed)
    stamps = pl.datetime_range(
        start, start + timedelta(minutes=n_bars - 1), "1m", eager=True, time_zone="UTC"
    ).dt.cast_time_unit("us")
    return pl.DataFrame({"bar_start": stamps, **ohlc})
