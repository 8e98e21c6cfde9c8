"""Strategies: pure functions from (features, signals, params) to per-bar kernel actions
(the parameters: params.py).

``actions[i]`` is what the strategy asks for at the open of bar ``i``; every input it uses must
be known before that open. The LLM strategy gets that from `signals.align_signals`; the moving
average crossover uses averages of closes up to bar ``i - 1``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tardis_assets.lib.backtest.kernel import ACTION_FLAT, ACTION_KEEP, ACTION_LONG, ACTION_SHORT
from tardis_assets.lib.backtest.params import DualMAParams, LLMStrategyParams


@njit(cache=True, nogil=True)
def llm_actions_into(
    sentiment: np.ndarray,
    pattern: np.ndarray,
    risk: np.ndarray,
    w_sentiment: float,
    w_pattern: float,
    entry: float,
    exit_: float,
    max_risk: float,
    allow_short: bool,
    out: np.ndarray,
) -> None:
    """Per-bar actions of the LLM strategy from aligned views (NaN = no view) into ``out``.

    An entry needs the score to *become* eligible (it was not at the previous bar), so after a
    stop-loss, take-profit or holding-limit exit the strategy waits for a fresh crossing rather
    than re-entering at once on the same stale view. Flat when gated by risk, when no view
    exists, or when |score| < ``exit_``.
    """
    prev_long = False
    prev_short = False
    for i in range(sentiment.shape[0]):
        s = sentiment[i]
        q = pattern[i]
        has = not (np.isnan(s) and np.isnan(q))
        score = w_sentiment * (0.0 if np.isnan(s) else s) + w_pattern * (0.0 if np.isnan(q) else q)
        r = risk[i]
        gated = (not np.isnan(r)) and r > max_risk
        long_ok = (not gated) and has and score >= entry
        short_ok = (not gated) and has and score <= -entry
        if long_ok and not prev_long:
            a = ACTION_LONG
        elif short_ok and not prev_short:
            a = ACTION_SHORT if allow_short else ACTION_FLAT
        elif gated or not has or abs(score) < exit_:
            a = ACTION_FLAT
        else:
            a = ACTION_KEEP
        out[i] = a
        prev_long = long_ok
        prev_short = short_ok


def llm_actions(aligned: dict[str, np.ndarray], p: LLMStrategyParams) -> np.ndarray:
    """Kernel actions of the LLM strategy (rules in `llm_actions_into` and the class docs)."""
    out = np.empty(aligned["sentiment"].shape[0], dtype=np.int8)
    llm_actions_into(
        np.ascontiguousarray(aligned["sentiment"], dtype=np.float64),
        np.ascontiguousarray(aligned["pattern"], dtype=np.float64),
        np.ascontiguousarray(aligned["risk"], dtype=np.float64),
        float(p.w_sentiment),
        float(p.w_pattern),
        float(p.entry_threshold),
        float(p.exit_threshold),
        float(p.max_risk),
        bool(p.allow_short),
        out,
    )
    return out


@njit(cache=True, nogil=True)
def running_sum(close: np.ndarray) -> np.ndarray:
    """Sequential running sum of closes (the shared input of every moving average)."""
    cs = np.empty(close.shape[0])
    acc = 0.0
    for i in range(close.shape[0]):
        acc = acc + close[i]
        cs[i] = acc
    return cs


@njit(cache=True, nogil=True)
def moving_average_into(cs: np.ndarray, window: int, out: np.ndarray) -> None:
    """Simple moving average of the last ``window`` closes (NaN until ``window`` exist).

    Computed from the running sum as ``(cs[i] - cs[i - window]) / window`` so that it equals
    vectorbt's rolling mean bit for bit and the benchmark compares like with like.
    """
    n = cs.shape[0]
    for i in range(min(window - 1, n)):
        out[i] = np.nan
    if window - 1 < n:
        out[window - 1] = cs[window - 1] / window
    for i in range(window, n):
        out[i] = (cs[i] - cs[i - window]) / window


def moving_average(close: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average of closes (see `moving_average_into`)."""
    if window < 1:
        raise ValueError(f"moving average window must be >= 1, got {window}")
    c = np.ascontiguousarray(close, dtype=np.float64)
    out = np.empty(c.shape[0])
    moving_average_into(running_sum(c), int(window), out)
    return out


@njit(cache=True, nogil=True)
def cross_update(side: float, fast: float, slow: float) -> tuple[float, int]:
    """Advance the crossover state by one bar; return (new side, action for the next open).

    ``side`` is the last strict ordering seen (+1 fast above, -1 below, 0 unknown); equal values
    keep it and a NaN resets it, so a crossing is a strict below-to-above (or reverse) change.
    """
    if np.isnan(fast) or np.isnan(slow):
        return 0.0, ACTION_KEEP
    if fast > slow:
        if side < 0.0:
            return 1.0, ACTION_LONG
        return 1.0, ACTION_KEEP
    if fast < slow:
        if side > 0.0:
            return -1.0, ACTION_SHORT
        return -1.0, ACTION_KEEP
    return side, ACTION_KEEP


@njit(cache=True, nogil=True)
def dual_ma_actions_from(fast_ma: np.ndarray, slow_ma: np.ndarray, allow_short: bool) -> np.ndarray:
    """Actions of the crossover: the crossing seen at bar i's close acts at bar i+1's open."""
    n = fast_ma.shape[0]
    actions = np.zeros(n, dtype=np.int8)
    side = 0.0
    for i in range(n - 1):
        side, a = cross_update(side, fast_ma[i], slow_ma[i])
        if a == ACTION_SHORT and not allow_short:
            a = ACTION_FLAT
        actions[i + 1] = a
    return actions


def dual_ma_actions(close: np.ndarray, p: DualMAParams) -> np.ndarray:
    """Kernel actions of the dual moving-average crossover for one parameter set."""
    c = np.ascontiguousarray(close, dtype=np.float64)
    return dual_ma_actions_from(
        moving_average(c, p.fast), moving_average(c, p.slow), bool(p.allow_short)
    )
