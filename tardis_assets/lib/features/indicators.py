"""Indicators on bars, as polars expressions over one instrument's bars sorted by time.

Computed per day (no look-back into the previous partition) so that a partition's features are a
function of that partition alone: re-materializing a day in any order gives identical rows. The
price is a warm-up of ~26 bars per day with null MACD/RSI, which the prompts state explicitly.
"""

from __future__ import annotations

import polars as pl

INDICATOR_COLUMNS = ("ret_1", "rsi_14", "macd", "macd_signal", "macd_hist", "volatility_30")


def _ema(expr: pl.Expr, span: int) -> pl.Expr:
    return expr.ewm_mean(span=span, adjust=False, min_samples=span)


def rsi(close: pl.Expr, period: int = 14) -> pl.Expr:
    """Wilder's RSI: smoothed gains over smoothed losses with alpha = 1/period."""
    delta = close.diff()
    gain = delta.clip(lower_bound=0).ewm_mean(alpha=1 / period, adjust=False, min_samples=period)
    loss = (-delta).clip(lower_bound=0).ewm_mean(alpha=1 / period, adjust=False, min_samples=period)
    return (
        pl.when(loss == 0)
        .then(pl.when(gain == 0).then(50.0).otherwise(100.0))
        .otherwise(100.0 - 100.0 / (1.0 + gain / loss))
    )


def with_indicators(bars: pl.DataFrame) -> pl.DataFrame:
    """Add INDICATOR_COLUMNS per (exchange, symbol); input must be sorted by bar_start."""
    close = pl.col("close")
    macd = _ema(close, 12) - _ema(close, 26)
    over = ("exchange", "symbol")
    return (
        bars.with_columns(
            ret_1=(close / close.shift(1)).log().over(over),
            rsi_14=rsi(close).over(over),
            macd=macd.over(over),
        )
        .with_columns(macd_signal=_ema(pl.col("macd"), 9).over(over))
        .with_columns(
            macd_hist=pl.col("macd") - pl.col("macd_signal"),
            volatility_30=pl.col("ret_1").rolling_std(30, min_samples=30).over(over),
        )
    )
