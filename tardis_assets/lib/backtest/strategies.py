"""Strategies: pure functions from (features, signals, params) to per-bar kernel actions.

``actions[i]`` is what the strategy asks for at the open of bar ``i``; every input it uses must
be known before that open. The LLM strategy gets that from `signals.align_signals`; the moving
average crossover uses averages of closes up to bar ``i - 1``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from tardis_assets.lib.backtest.kernel import ACTION_FLAT, ACTION_KEEP, ACTION_LONG, ACTION_SHORT


def _check_finite(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class ExecutionParams:
    """Costs, sizing and exits: the one definition of the execution fields of every strategy.

    The strategies below inherit these fields (a sweep shares one ``ExecutionParams`` across its
    combinations); a strategy only restates a default where its own differs, and says why.
    """

    holding_bars: int = 0
    stop_loss: float = 0.0
    take_profit: float = 0.0
    allow_short: bool = False
    position_size: float = 1.0
    fee_bps: float = 5.0
    slippage_bps: float = 1.0

    def __post_init__(self) -> None:
        validate_execution(self)

    def execution(self) -> ExecutionParams:
        """Just the execution fields (of a strategy's params, say)."""
        return ExecutionParams(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(ExecutionParams)}
        )


def validate_execution(p: ExecutionParams) -> None:
    """Checks of the execution fields."""
    for name in ("stop_loss", "take_profit", "position_size", "fee_bps", "slippage_bps"):
        _check_finite(name, getattr(p, name))
    if isinstance(p.holding_bars, bool) or not isinstance(p.holding_bars, (int, np.integer)):
        raise ValueError(f"holding_bars must be an integer, got {p.holding_bars!r}")
    if p.holding_bars < 0:
        raise ValueError(f"holding_bars must be >= 0 (0 = no limit), got {p.holding_bars}")
    if p.fee_bps < 0:
        raise ValueError(f"fee_bps must be >= 0, got {p.fee_bps}")
    if p.slippage_bps < 0:
        raise ValueError(f"slippage_bps must be >= 0, got {p.slippage_bps}")
    if p.fee_bps >= 10_000 or p.slippage_bps >= 10_000:
        raise ValueError("fee_bps and slippage_bps must be below 10,000 bps (100%)")
    if not 0 <= p.stop_loss < 1:
        raise ValueError(f"stop_loss must be in [0, 1) as a fraction (0 = off), got {p.stop_loss}")
    if p.take_profit < 0:
        raise ValueError(f"take_profit must be >= 0 as a fraction (0 = off), got {p.take_profit}")
    if not 0 < p.position_size <= 1:
        raise ValueError(f"position_size must be in (0, 1] of equity, got {p.position_size}")
    if not isinstance(p.allow_short, (bool, np.bool_)):
        raise ValueError(f"allow_short must be a bool, got {p.allow_short!r}")


@dataclass(frozen=True)
class LLMStrategyParams(ExecutionParams):
    """Parameters of the LLM-signal strategy; the defaults are the daily backtest's strategy.

    score = w_sentiment * sentiment + w_pattern * pattern over the kinds that have a view (a kind
    without a view adds nothing; no view at all means flat). Long when the score reaches
    ``entry_threshold``, short at ``-entry_threshold``, flat when |score| < ``exit_threshold`` or
    when the latest risk is above ``max_risk``.

    The defaults trade the news: sentiment carries the decision, the price pattern only tips a
    borderline score, the risk score vetoes, and a position is held for at most 15 bars (about
    how long a headline moves the market), long or short.
    """

    w_sentiment: float = 1.0
    w_pattern: float = 0.2
    entry_threshold: float = 0.5
    exit_threshold: float = 0.05
    min_confidence: float = 0.3
    max_risk: float = 0.8
    holding_bars: int = 15
    allow_short: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in (
            "w_sentiment",
            "w_pattern",
            "entry_threshold",
            "exit_threshold",
            "min_confidence",
            "max_risk",
        ):
            _check_finite(name, getattr(self, name))
        if self.w_sentiment < 0 or self.w_pattern < 0:
            raise ValueError("w_sentiment and w_pattern must be >= 0")
        if self.w_sentiment + self.w_pattern == 0:
            raise ValueError("w_sentiment and w_pattern cannot both be 0 (the score would be 0)")
        if self.entry_threshold <= 0:
            raise ValueError(f"entry_threshold must be > 0, got {self.entry_threshold}")
        if self.entry_threshold > self.w_sentiment + self.w_pattern:
            raise ValueError(
                f"entry_threshold {self.entry_threshold} is above the largest possible score "
                f"{self.w_sentiment + self.w_pattern}: the strategy could never trade"
            )
        if not 0 <= self.exit_threshold < self.entry_threshold:
            raise ValueError(
                f"exit_threshold must be in [0, entry_threshold={self.entry_threshold}), "
                f"got {self.exit_threshold}"
            )
        if not 0 <= self.min_confidence <= 1:
            raise ValueError(f"min_confidence must be in [0, 1], got {self.min_confidence}")
        if not 0 <= self.max_risk <= 1:
            raise ValueError(f"max_risk must be in [0, 1], got {self.max_risk}")


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


@dataclass(frozen=True)
class DualMAParams(ExecutionParams):
    """Dual moving-average crossover: long when the fast average of closes crosses above the
    slow one, out (or short) when it crosses below; acted on at the next bar's open."""

    fast: int = 10
    slow: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("fast", "slow"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} window must be an integer >= 1, got {v!r}")
        if self.fast >= self.slow:
            raise ValueError(f"fast window {self.fast} must be shorter than slow {self.slow}")


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
