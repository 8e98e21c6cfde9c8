"""Signal rows -> the strategy's decision times and actions, with the bar engine's rules.

The bar engine trades a signal at the first bar open after it became available. Here a signal
acts at its own moment: **decision time = max(available_at, window end)** (never inside the window
that produced it, as `lib/backtest/signals.py` guarantees for bars). At each decision time the
latest row of each kind describes that kind (ties: later ``available_at``, then later row); a
failed or low-confidence latest row is "no view" (risk rows count whenever ok), exactly as
`align_signals`. The sequence of views then goes through the bar engine's own action rule
(`llm_actions_into`: score, thresholds, risk gate, fresh crossing), so a decision here is the
tick-time twin of a bar decision.

``model_latency_ms`` replaces the measured latency: ``available_at = window end + latency``.
Decisions before the replay start happen at its start (the views they leave are what the
strategy starts with); decisions at or after its end are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from tardis_assets.lib.backtest.alignment import validate_signals
from tardis_assets.lib.backtest.params import LLMStrategyParams
from tardis_assets.lib.backtest.strategies import llm_actions_into
from tardis_assets.lib.llm.contracts import KINDS


@dataclass(frozen=True)
class DecisionPlan:
    """Decisions in time order (local µs) and the window ends whose mids are references."""

    time: np.ndarray
    action: np.ndarray  # int8 bar-engine actions
    ref: np.ndarray  # index into ref_time of the signal that triggered the decision
    ref_time: np.ndarray  # sorted distinct window ends
    available_at: np.ndarray  # of the triggering signal
    window_end: np.ndarray
    sentiment: np.ndarray
    pattern: np.ndarray
    risk: np.ndarray

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def model_latency_us(self) -> np.ndarray:
        return self.available_at - self.window_end


def empty_plan() -> DecisionPlan:
    z = np.zeros(0, np.int64)
    f = np.zeros(0)
    return DecisionPlan(z, np.zeros(0, np.int8), z, z, z, z, f, f, f)


def _us(frame: pl.DataFrame, column: str) -> pl.Expr:
    dtype = frame.schema[column]
    if not isinstance(dtype, pl.Datetime):
        raise ValueError(f"signals: column {column!r} must be a Datetime, got {dtype}")
    if dtype.time_zone is None:
        raise ValueError(f"signals: column {column!r} has no time zone; timestamps must be UTC")
    return pl.col(column).dt.convert_time_zone("UTC").dt.cast_time_unit("us").dt.epoch("us")


def decision_plan(
    signals: pl.DataFrame,
    params: LLMStrategyParams,
    *,
    start_us: int,
    end_us: int,
    window_us: int,
    model_latency_us: int | None = None,
    exchange: str | None = None,
    symbol: str | None = None,
) -> DecisionPlan:
    """Decision times and actions of the LLM strategy over ``[start_us, end_us)``."""
    if not isinstance(params, LLMStrategyParams):
        raise TypeError(f"params must be LLMStrategyParams, got {type(params).__name__}")
    if window_us <= 0:
        raise ValueError(f"window_us must be > 0, got {window_us}")
    frame = validate_signals(signals)
    for col, want in (("exchange", exchange), ("symbol", symbol)):
        if want is not None and col in frame.columns:
            frame = frame.filter(pl.col(col) == want)
    frame = frame.filter(pl.col("available_at").is_not_null() & pl.col("bar_start").is_not_null())
    if frame.height == 0:
        return empty_plan()
    usable = (pl.col("status") == "ok") & pl.col("value").is_not_null()
    conf_ok = pl.col("confidence").fill_null(-1.0) >= params.min_confidence
    rows = frame.select(
        pl.col("_row"),
        pl.col("kind"),
        pl.when(usable & ((pl.col("kind") == "risk") | conf_ok))
        .then(pl.col("value").cast(pl.Float64))
        .otherwise(None)
        .alias("view"),
        (_us(frame, "bar_start") + window_us).alias("window_end"),
        _us(frame, "available_at").alias("available_at"),
    )
    if model_latency_us is not None:
        rows = rows.with_columns((pl.col("window_end") + model_latency_us).alias("available_at"))
    rows = rows.with_columns(
        pl.max_horizontal("available_at", "window_end").clip(lower_bound=start_us).alias("at")
    ).filter(pl.col("at") < end_us)
    if rows.height == 0:
        return empty_plan()
    rows = rows.sort("at", "available_at", "_row")
    at = rows.get_column("at").to_numpy()
    kinds = rows.get_column("kind").to_numpy()
    views = rows.get_column("view").fill_null(np.nan).to_numpy()
    last = np.flatnonzero(np.r_[at[1:] != at[:-1], True])  # last row of each decision time
    current = {k: np.nan for k in KINDS}
    out = {k: np.empty(last.shape[0]) for k in KINDS}
    j = 0
    for i in range(at.shape[0]):
        current[kinds[i]] = views[i]
        if j < last.shape[0] and i == last[j]:
            for k in KINDS:
                out[k][j] = current[k]
            j += 1
    action = np.empty(last.shape[0], dtype=np.int8)
    llm_actions_into(
        np.ascontiguousarray(out["sentiment"]),
        np.ascontiguousarray(out["pattern"]),
        np.ascontiguousarray(out["risk"]),
        float(params.w_sentiment),
        float(params.w_pattern),
        float(params.entry_threshold),
        float(params.exit_threshold),
        float(params.max_risk),
        bool(params.allow_short),
        action,
    )
    window_end = rows.get_column("window_end").to_numpy()[last]
    ref_time = np.unique(window_end)
    return DecisionPlan(
        time=at[last].astype(np.int64),
        action=action,
        ref=np.searchsorted(ref_time, window_end).astype(np.int64),
        ref_time=ref_time.astype(np.int64),
        available_at=rows.get_column("available_at").to_numpy()[last].astype(np.int64),
        window_end=window_end.astype(np.int64),
        sentiment=out["sentiment"],
        pattern=out["pattern"],
        risk=out["risk"],
    )
