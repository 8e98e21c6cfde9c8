"""Aligning LLM signal rows to the bars at which they can first be traded.

A signal row becomes usable at the first bar whose ``bar_start >= available_at`` and never in the
bar that produced it (even if a clock skew put ``available_at`` inside that bar). From then on the
*latest* row of each kind describes that kind: a failed or low-confidence latest row means "no
view" (NaN), never a default value and never an older answer kept alive.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tardis_assets.lib.backtest.inputs import utc_us
from tardis_assets.lib.llm.contracts import KINDS, VALUE_RANGES

SIGNAL_COLUMNS = ("bar_start", "kind", "value", "confidence", "status", "available_at")


def validate_signals(signals: pl.DataFrame) -> pl.DataFrame:
    """Check columns, kinds and value ranges of ok rows; return the frame with a row number."""
    if not isinstance(signals, pl.DataFrame):
        raise TypeError(f"signals must be a polars DataFrame, got {type(signals).__name__}")
    missing = [c for c in SIGNAL_COLUMNS if c not in signals.columns]
    if missing:
        raise ValueError(f"signals: missing column(s) {missing}; have {signals.columns}")
    frame = signals.with_row_index("_row")
    bad_kind = frame.filter(~pl.col("kind").is_in(KINDS) | pl.col("kind").is_null())
    if bad_kind.height:
        row = bad_kind.row(0, named=True)
        raise ValueError(f"signals: row {row['_row']} has unknown kind {row['kind']!r}")
    ok = frame.filter(pl.col("status") == "ok")
    for what in ("value", "available_at", "bar_start"):
        nulls = ok.filter(pl.col(what).is_null())
        if nulls.height:
            row = nulls.row(0, named=True)
            raise ValueError(f"signals: row {row['_row']} has status ok but {what} is null")
    for kind, (lo, hi) in VALUE_RANGES.items():
        out = ok.filter(
            (pl.col("kind") == kind)
            & (pl.col("value").is_nan() | (pl.col("value") < lo) | (pl.col("value") > hi))
        )
        if out.height:
            row = out.row(0, named=True)
            raise ValueError(
                f"signals: row {row['_row']} ({kind}, bar {row['bar_start']}) has value "
                f"{row['value']} outside [{lo}, {hi}]"
            )
    return frame


def tradable_index(bar_start_us: np.ndarray, sig_bar_us: np.ndarray, avail_us: np.ndarray):
    """First bar index at which each signal may be traded (len(bars) = never)."""
    first_known = np.searchsorted(bar_start_us, avail_us, side="left")
    after_own_bar = np.searchsorted(bar_start_us, sig_bar_us, side="right")
    return np.maximum(first_known, after_own_bar)


def latest_per_bar(n_bars: int, at: np.ndarray, order_us: np.ndarray, values: np.ndarray):
    """Per bar, the value of the latest row with ``at <= bar`` (ties: latest ``order_us``)."""
    out = np.full(n_bars, np.nan)
    keep = at < n_bars
    if not keep.any():
        return out
    at, order_us, values = at[keep], order_us[keep], values[keep]
    idx = np.lexsort((order_us, at))
    at, values = at[idx], values[idx]
    last = np.searchsorted(at, np.arange(n_bars), side="right") - 1
    has = last >= 0
    out[has] = values[last[has]]
    return out


def align_signals(
    bar_start_us: np.ndarray, signals: pl.DataFrame, min_confidence: float
) -> dict[str, np.ndarray]:
    """Per-bar latest usable value of each kind (NaN = no view), keyed by kind.

    Sentiment and pattern rows below ``min_confidence`` count as "no view"; risk rows are used
    whenever their status is ok, since a risk estimate gates trading rather than directing it.
    ``"available_at"`` holds, per bar, the newest ``available_at`` (µs, NaN if none) among the
    rows in effect: the evidence that a bar's decision used only what was known at its start.
    """
    n = bar_start_us.shape[0]
    frame = validate_signals(signals)
    frame = frame.filter(pl.col("available_at").is_not_null() & pl.col("bar_start").is_not_null())
    out: dict[str, np.ndarray] = {}
    in_effect_at = np.full(n, np.nan)
    for kind in KINDS:
        rows = frame.filter(pl.col("kind") == kind)
        if rows.height == 0:
            out[kind] = np.full(n, np.nan)
            continue
        usable = (pl.col("status") == "ok") & pl.col("value").is_not_null()
        if kind != "risk":
            usable = usable & (pl.col("confidence").fill_null(-1.0) >= min_confidence)
        vals = (
            rows.select(pl.when(usable).then(pl.col("value")).otherwise(None))
            .to_series()
            .cast(pl.Float64)
            .fill_null(np.nan)
            .to_numpy()
        )
        avail = utc_us(rows, "available_at", "signals")
        own = utc_us(rows, "bar_start", "signals")
        at = tradable_index(bar_start_us, own, avail)
        out[kind] = latest_per_bar(n, at, avail, vals)
        in_effect_at = np.fmax(in_effect_at, latest_per_bar(n, at, avail, avail.astype(np.float64)))
    out["available_at"] = in_effect_at
    return out
