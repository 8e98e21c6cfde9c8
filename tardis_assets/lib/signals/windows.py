"""Prompt windows: what the signal layer knows per (instrument, bar window), never per tick.

A window of ``window_minutes`` bars is summarized by its last bar's indicators plus the window's
own OHLCV, and carries the headlines published inside it (with their publication times, for the
age decay of sentiment). The window's information is complete at its end, which is when a live
system would ask a model; the backtest therefore treats ``window end + latency`` as the earliest
time a signal can be traded.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tardis_assets.lib.features.bars import BAR_COLUMNS
from tardis_assets.lib.features.indicators import INDICATOR_COLUMNS
from tardis_assets.lib.market.synthetic import base_asset

US_PER_MINUTE = 60_000_000
# Everything a bar knows except its keys: OHLCV and flow, then the indicators.
FEATURE_COLUMNS = (*BAR_COLUMNS[3:], *INDICATOR_COLUMNS)


@dataclass(frozen=True)
class Window:
    exchange: str
    symbol: str
    start_us: int
    window_us: int
    features: dict[str, float | None]
    headlines: tuple[str, ...]
    headline_times_us: tuple[int, ...] = ()  # publication time of each headline

    @property
    def end_us(self) -> int:
        return self.start_us + self.window_us


def _round(value: object) -> float | None:
    # Rounding keeps prompts (and so cache keys) stable against float noise in the last digits.
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else float(f"{number:.10g}")


def windows(
    bars: pl.DataFrame, news: pl.DataFrame, window_minutes: int = 1, bar_seconds: int = 60
) -> list[Window]:
    """Summarize bars (with indicators) and news into prompt windows, in time order.

    A window must cover whole bars: a window shorter than a bar would end before the bar's close
    it reports, i.e. claim information before it existed.
    """
    window_us = window_minutes * US_PER_MINUTE
    bar_us = bar_seconds * 1_000_000
    if window_minutes <= 0 or bar_seconds <= 0 or window_us % bar_us:
        raise ValueError(
            f"window_minutes={window_minutes} must be a positive multiple of the bar size "
            f"({bar_seconds} s)"
        )
    if bars.is_empty():
        return []
    grouped = (
        bars.sort("exchange", "symbol", "bar_start")
        .with_columns(
            start_us=(pl.col("bar_start").dt.epoch("us") // window_us) * window_us,
        )
        .group_by("exchange", "symbol", "start_us", maintain_order=True)
        .agg(
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
            ((pl.col("vwap") * pl.col("volume")).sum() / pl.col("volume").sum()).alias("vwap"),
            pl.col("trades").sum(),
            pl.col("buy_volume").sum(),
            pl.col("sell_volume").sum(),
            pl.col("imbalance").last(),
            pl.col("ret_1").last(),
            pl.col("rsi_14").last(),
            pl.col("macd").last(),
            pl.col("macd_signal").last(),
            pl.col("macd_hist").last(),
            pl.col("volatility_30").last(),
        )
    )
    stamped = news.with_columns(
        start_us=(pl.col("published_at").dt.epoch("us") // window_us) * window_us
    ).sort("published_at")
    stamped = stamped.with_columns(published_us=pl.col("published_at").dt.epoch("us"))
    by_window: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for row in stamped.iter_rows(named=True):
        for asset in row["symbols"] or []:
            by_window.setdefault((asset.upper(), row["start_us"]), []).append(
                (row["headline"], row["published_us"])
            )
    out = []
    for row in grouped.iter_rows(named=True):
        asset = base_asset(row["symbol"])
        news_in = by_window.get((asset, row["start_us"]), [])
        out.append(
            Window(
                exchange=row["exchange"],
                symbol=row["symbol"],
                start_us=row["start_us"],
                window_us=window_us,
                features={name: _round(row[name]) for name in FEATURE_COLUMNS},
                headlines=tuple(h for h, _ in news_in),
                headline_times_us=tuple(t for _, t in news_in),
            )
        )
    return out
