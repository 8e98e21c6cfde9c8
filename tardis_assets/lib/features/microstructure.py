"""Per-bar features from the richer tardis types: quotes, book snapshots, derivative ticker.

Each function is pure: one frame of one tardis type in (polars DataFrame or LazyFrame, columns as
the tardis readers return them), one row per (exchange, symbol, bar_start) out, same kind back.
Bars are keyed like the trade bars, by the exchange ``timestamp`` floored to the bar size, with
``bar_start`` as ``Datetime("us", "UTC")``, so they join on (exchange, symbol, bar_start).

"close" values are the last observation in the bar in (``timestamp``, ``seq``) order: exchange
time, then arrival order (the lake's ``seq``) among rows that share a timestamp. Quotes or levels
with a missing side carry no spread, mid or imbalance: they are skipped rather than counted as
zero. Means are ordered sums (see ``bars.ordered_sum``) so a re-run stores the same bits.
``attach_microstructure`` joins whatever types are present onto bars and leaves the
columns of absent types null, so a day without quotes still builds.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from tardis_assets.lib.features.bars import bar_us, ordered_mean, with_arrival_order
from tardis_assets.lib.features.tables import BARS
from tardis_assets.lib.market.tardis.schemas import SEQ

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

KEYS = ("exchange", "symbol", "bar_start")

FEATURE_COLUMNS = (
    "spread_mean",
    "spread_close",
    "mid_mean",
    "mid_close",
    "book_imbalance_mean",
    "book_imbalance_close",
    "funding_rate",
    "open_interest",
)
FEATURE_SCHEMA: dict[str, pl.DataType] = {
    name: BARS.polars_schema[name] for name in FEATURE_COLUMNS
}


def _bar_start(bar_seconds: int) -> pl.Expr:
    step = bar_us(bar_seconds)
    return ((pl.col("timestamp") // step) * step).cast(pl.Datetime("us", "UTC")).alias("bar_start")


def _last(expr: pl.Expr) -> pl.Expr:
    """Last non-null value in (timestamp, seq) order (rows are sorted so before aggregating)."""
    return expr.drop_nulls().last()


def _per_bar(frame: Frame, bar_seconds: int, *aggs: pl.Expr) -> Frame:
    return (
        with_arrival_order(frame)
        .sort("exchange", "symbol", "timestamp", SEQ, maintain_order=True)
        .with_columns(_bar_start(bar_seconds))
        .group_by(*KEYS, maintain_order=True)
        .agg(*aggs)
        .sort(*KEYS)
    )


def quote_features(quotes: Frame, bar_seconds: int = 60) -> Frame:
    """Spread and mid per bar from tardis ``quotes`` (mean over updates, and close)."""
    both = pl.col("ask_price").is_not_null() & pl.col("bid_price").is_not_null()
    spread = pl.when(both).then(pl.col("ask_price") - pl.col("bid_price"))
    mid = pl.when(both).then((pl.col("ask_price") + pl.col("bid_price")) / 2)
    return _per_bar(
        quotes,
        bar_seconds,
        ordered_mean(spread).alias("spread_mean"),
        _last(spread).alias("spread_close"),
        ordered_mean(mid).alias("mid_mean"),
        _last(mid).alias("mid_close"),
    )


def book_imbalance_features(snapshots: Frame, bar_seconds: int = 60) -> Frame:
    """Top-of-book size imbalance (bid - ask) / (bid + ask) per bar from book_snapshot_5/25.

    +1 means all resting size at the touch is on the bid, -1 all on the ask.
    """
    bid, ask = pl.col("bids[0].amount"), pl.col("asks[0].amount")
    total = bid + ask
    imbalance = pl.when(total > 0).then((bid - ask) / total)
    return _per_bar(
        snapshots,
        bar_seconds,
        ordered_mean(imbalance).alias("book_imbalance_mean"),
        _last(imbalance).alias("book_imbalance_close"),
    )


def ticker_features(ticker: Frame, bar_seconds: int = 60) -> Frame:
    """Funding rate and open interest per bar: the last value the exchange published in the bar."""
    return _per_bar(
        ticker,
        bar_seconds,
        _last(pl.col("funding_rate")).alias("funding_rate"),
        _last(pl.col("open_interest")).alias("open_interest"),
    )


def attach_microstructure(
    bars: pl.DataFrame,
    *,
    quotes: pl.DataFrame | pl.LazyFrame | None = None,
    snapshots: pl.DataFrame | pl.LazyFrame | None = None,
    ticker: pl.DataFrame | pl.LazyFrame | None = None,
    bar_seconds: int = 60,
) -> pl.DataFrame:
    """``bars`` (keyed by exchange, symbol, bar_start) plus every FEATURE_SCHEMA column.

    Types not given leave their columns null; bars keep their rows and order (left joins).
    """
    out = bars
    for frame, fn in (
        (quotes, quote_features),
        (snapshots, book_imbalance_features),
        (ticker, ticker_features),
    ):
        if frame is None:
            continue
        feats = fn(frame, bar_seconds)
        if isinstance(feats, pl.LazyFrame):
            feats = feats.collect()
        out = out.join(feats, on=list(KEYS), how="left", maintain_order="left")
    missing = [
        pl.lit(None, dtype).alias(name)
        for name, dtype in FEATURE_SCHEMA.items()
        if name not in out.columns
    ]
    return out.with_columns(missing).cast(FEATURE_SCHEMA)
