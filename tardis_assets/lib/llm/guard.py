"""Look-ahead guard: a model must not judge a bar it may have read about in training.

A bar dated before a model's knowledge cutoff is in-sample for that model: its "signal" can
leak the future into a backtest. Such bars are refused (status lookahead_refused) unless the run
explicitly allows in-sample use, e.g. for a smoke test on old fixtures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def bar_date(bar_start_us: int) -> date:
    return datetime.fromtimestamp(bar_start_us / 1e6, tz=UTC).date()


def allowed(bar_start_us: int, cutoff: date, allow_in_sample: bool) -> bool:
    """True when the model may answer for this bar."""
    return allow_in_sample or bar_date(bar_start_us) >= cutoff
