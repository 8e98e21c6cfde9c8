"""Validation of bar frames and their conversion to the arrays the kernel runs on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from tardis_assets.lib.backtest.metrics import MINUTES_PER_YEAR

US_PER_YEAR = 365.0 * 24.0 * 3600.0 * 1e6
PRICE_COLUMNS = ("open", "high", "low", "close")


@dataclass(frozen=True)
class BarArrays:
    """Bars as contiguous numpy arrays (timestamps in µs since the epoch, UTC)."""

    bar_start_us: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    half_spread_frac: np.ndarray
    bars_per_year: float

    def __len__(self) -> int:
        return int(self.open.shape[0])


def utc_us(frame: pl.DataFrame, column: str, what: str) -> np.ndarray:
    dtype = frame.schema[column]
    if not isinstance(dtype, pl.Datetime):
        raise ValueError(f"{what}: column {column!r} must be a Datetime, got {dtype}")
    if dtype.time_zone is None:
        raise ValueError(
            f"{what}: column {column!r} has no time zone; timestamps must be UTC-aware"
        )
    series = frame.get_column(column).dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    return series.to_physical().to_numpy().astype(np.int64, copy=False)


def fill_half_spread(open_: np.ndarray, spread_close: np.ndarray | None) -> np.ndarray:
    """Half the quoted spread as a fraction of the fill price, per bar.

    The fill at bar i's open uses the spread quoted at the close of bar i-1 (the latest quote
    before the fill); bar 0 uses its own close spread as the best estimate. Missing quotes carry
    the previous one forward, and bars before any quote pay no spread.
    """
    n = open_.shape[0]
    if spread_close is None:
        return np.zeros(n)
    s = np.asarray(spread_close, dtype=np.float64)
    bad = np.isfinite(s) & (s < 0)
    if bad.any():
        raise ValueError(f"bars: spread_close is negative at row {int(np.argmax(bad))}")
    known = np.isfinite(s)
    idx = np.where(known, np.arange(n), -1)
    np.maximum.accumulate(idx, out=idx)
    filled = np.where(idx >= 0, s[np.maximum(idx, 0)], 0.0)
    at_fill = np.empty(n)
    at_fill[0] = filled[0]
    at_fill[1:] = filled[:-1]
    return at_fill / 2.0 / open_


def prepare_bars(bars: pl.DataFrame, bars_per_year: float | None = None) -> BarArrays:
    """Check a bar frame (sorted, UTC, finite positive prices) and extract its arrays.

    ``bars_per_year`` defaults to 365 days divided by the median bar spacing, so daily and
    minute bars both annualize correctly; a single bar is taken as a 1-minute bar.
    """
    if not isinstance(bars, pl.DataFrame):
        raise TypeError(f"bars must be a polars DataFrame, got {type(bars).__name__}")
    missing = [c for c in ("bar_start", *PRICE_COLUMNS) if c not in bars.columns]
    if missing:
        raise ValueError(f"bars: missing column(s) {missing}; have {bars.columns}")
    if bars.height == 0:
        raise ValueError("bars: no bars in the requested range (empty frame)")
    nulls = bars.get_column("bar_start").is_null()
    if nulls.any():
        raise ValueError(f"bars: bar_start is null at row {int(nulls.arg_max())}")
    ts = utc_us(bars, "bar_start", "bars")
    steps = np.diff(ts)
    if (steps <= 0).any():
        row = int(np.argmax(steps <= 0)) + 1
        raise ValueError(f"bars: bar_start must be strictly increasing; row {row} is not")
    arrays = {}
    for col in PRICE_COLUMNS:
        a = bars.get_column(col).cast(pl.Float64).to_numpy().astype(np.float64, copy=True)
        bad = ~np.isfinite(a) | (a <= 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"bars: {col} must be a finite positive price; row {row} is {a[row]}")
        arrays[col] = a
    spread = None
    if "spread_close" in bars.columns:
        spread = bars.get_column("spread_close").cast(pl.Float64).fill_null(np.nan).to_numpy()
    if bars_per_year is None:
        bars_per_year = (
            US_PER_YEAR / float(np.median(steps)) if steps.size else float(MINUTES_PER_YEAR)
        )
    if not np.isfinite(bars_per_year) or bars_per_year <= 0:
        raise ValueError(f"bars_per_year must be positive, got {bars_per_year!r}")
    return BarArrays(
        bar_start_us=ts,
        open=arrays["open"],
        high=arrays["high"],
        low=arrays["low"],
        close=arrays["close"],
        half_spread_frac=fill_half_spread(arrays["open"], spread),
        bars_per_year=float(bars_per_year),
    )
