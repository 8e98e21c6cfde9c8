"""Strategy parameters: the execution fields every strategy shares and each strategy's own.

They are validated at construction, so a bad value fails where it is set (a run's config, a sweep
grid) with the field's name; plain dataclasses, kept apart from the kernels so that reading or
checking parameters never compiles anything.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np


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
