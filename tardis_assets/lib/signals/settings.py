"""What the signal layer asks, when: the settings of one signal run, with their defaults.

Two designs. ``baseline``: one call per window and kind, the original prompts (every window of
every kind is asked; kept for comparison and for caches paid under it). ``incremental`` (the
default): ask only when there is something new --

- sentiment per unique headline, cached by the headline's text, so one story is paid once across
  windows, instruments and days; a window's sentiment is the age-decayed aggregate of the scores
  of the headlines published within the last ``sentiment_horizon_windows`` windows (see
  aggregate.py); a window without such headlines has no view and makes no call;
- pattern and risk every ``cadence_windows`` windows (aligned to UTC midnight: windows whose
  index in the day is a multiple of it), and early when a trigger fires (|window log return| >=
  ``trigger_abs_return`` or volatility_30 >= ``trigger_volatility``, at least
  ``trigger_min_gap`` windows after the previous ask); between asks the latest answer stays in
  effect, and the rows say so;
- up to ``pack_size`` consecutive asked windows of one instrument per pattern/risk call, and up
  to ``sentiment_pack_size`` headlines of one window per sentiment call (cache keys stay per
  question, so packing never invalidates answers already paid).

The default cadence, 15 windows, is chosen by bench/llm_cost.py (one synthetic week, one
instrument): it is the shortest cadence that costs >= 10x less than the baseline (cadence 10:
8.5x; 15: 12.7x; 30: 25x), it matches the strategy's 15-bar holding period and the ~15 minutes a
synthetic headline moves the price, and the LLM strategy's backtest on its signals is not worse
than on denser ones (the benchmark prints Sharpe and return per cadence). The volatility trigger
is off by default: on that week it added calls without improving the backtest.
"""

from __future__ import annotations

from dataclasses import dataclass

DESIGNS = ("incremental", "baseline")


@dataclass(frozen=True)
class SignalSettings:
    design: str = "incremental"
    window_minutes: int = 1
    bar_seconds: int = 60
    cadence_windows: int = 15
    trigger_abs_return: float | None = None
    trigger_volatility: float | None = None
    trigger_min_gap: int = 3
    pack_size: int = 1
    sentiment_pack_size: int = 16
    sentiment_horizon_windows: int = 1
    sentiment_half_life_minutes: float = 5.0
    batch_poll_s: float = 5.0

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ValueError(f"design must be one of {DESIGNS}, got {self.design!r}")
        for name in ("cadence_windows", "pack_size", "sentiment_pack_size", "trigger_min_gap",
                     "sentiment_horizon_windows", "window_minutes", "bar_seconds"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.sentiment_half_life_minutes <= 0:
            raise ValueError("sentiment_half_life_minutes must be > 0")
