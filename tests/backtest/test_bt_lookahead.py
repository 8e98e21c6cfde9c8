"""Look-ahead: signals trade at the open of the first bar starting at/after their availability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from tardis_assets.lib.backtest import LLMStrategyParams, run_llm_strategy

T0 = datetime(2024, 3, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


def _bars(opens: list[float], closes: list[float]) -> pl.DataFrame:
    n = len(opens)
    return pl.DataFrame(
        {
            "bar_start": [T0 + i * MIN for i in range(n)],
            "open": opens,
            "high": [max(o, c) for o, c in zip(opens, closes, strict=True)],
            "low": [min(o, c) for o, c in zip(opens, closes, strict=True)],
            "close": closes,
        },
        schema_overrides={"bar_start": pl.Datetime("us", "UTC")},
    )


def _signals(rows: list[tuple[int, str, float | None, str, timedelta]]) -> pl.DataFrame:
    """rows: (producing bar index, kind, value, status, available_at offset from T0)."""
    return pl.DataFrame(
        {
            "bar_start": [T0 + r[0] * MIN for r in rows],
            "kind": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "confidence": [0.9 for _ in rows],
            "status": [r[3] for r in rows],
            "available_at": [T0 + r[4] for r in rows],
        },
        schema_overrides={
            "bar_start": pl.Datetime("us", "UTC"),
            "available_at": pl.Datetime("us", "UTC"),
            "value": pl.Float64,
        },
    )


# Bar 2 rallies 10% from its open to its close, then the price stays put: only a strategy that
# buys at bar 2's open (which it could not know to do) makes money.
OPENS = [100.0, 100.0, 100.0, 110.0, 110.0, 110.0]
CLOSES = [100.0, 100.0, 110.0, 110.0, 110.0, 110.0]
NO_COST = LLMStrategyParams(w_sentiment=0.0, w_pattern=1.0, fee_bps=0.0, slippage_bps=0.0)


def test_signal_available_mid_bar_trades_next_bar_and_cannot_profit() -> None:
    # Produced by bar 1, known 30 s into bar 2: the earliest honest fill is bar 3's open.
    sig = _signals([(1, "pattern", 1.0, "ok", 2 * MIN + timedelta(seconds=30))])
    res = run_llm_strategy(_bars(OPENS, CLOSES), sig, NO_COST)
    pos = res.per_bar["position"].to_list()
    assert pos == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    assert res.metrics["total_return"] == pytest.approx(0.0, abs=1e-15)
    assert res.n_trades == 1


def test_signal_available_exactly_at_bar_start_trades_that_bar() -> None:
    sig = _signals([(1, "pattern", 1.0, "ok", 2 * MIN)])
    res = run_llm_strategy(_bars(OPENS, CLOSES), sig, NO_COST)
    assert res.per_bar["position"].to_list() == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert res.metrics["total_return"] == pytest.approx(0.10, rel=1e-12)


def test_signal_never_trades_in_its_own_bar_even_if_stamped_early() -> None:
    # A skewed clock claims bar 2's signal was known at bar 2's start: still only from bar 3.
    sig = _signals([(2, "pattern", 1.0, "ok", 2 * MIN)])
    res = run_llm_strategy(_bars(OPENS, CLOSES), sig, NO_COST)
    assert res.per_bar["position"].to_list() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    assert res.metrics["total_return"] == pytest.approx(0.0, abs=1e-15)


def test_fees_and_slippage_are_paid_on_the_fill() -> None:
    params = LLMStrategyParams(w_sentiment=0.0, w_pattern=1.0, fee_bps=10.0, slippage_bps=5.0)
    sig = _signals([(1, "pattern", 1.0, "ok", 2 * MIN)])
    res = run_llm_strategy(_bars(OPENS, CLOSES), sig, params)
    # Buy at 100 * 1.0005 with a 10 bps fee on top; marked at 110.
    units = 1.0 / (100.0 * 1.0005 * 1.001)
    expected = units * 110.0 - 1.0
    assert res.metrics["total_return"] == pytest.approx(expected, rel=1e-12)
    assert res.per_bar["cost"][2] == pytest.approx(units * 100.0 * (0.0005 + 0.001 * 1.0005))


def test_failed_or_missing_signals_keep_the_strategy_flat() -> None:
    failed = _signals([(1, "pattern", None, "parse_error", 2 * MIN)])
    res = run_llm_strategy(_bars(OPENS, CLOSES), failed, NO_COST)
    assert res.per_bar["position"].to_list() == [0.0] * 6
    empty = failed.clear()
    res = run_llm_strategy(_bars(OPENS, CLOSES), empty, NO_COST)
    assert res.per_bar["position"].to_list() == [0.0] * 6 and res.n_trades == 0


def test_a_later_failure_clears_the_view_instead_of_keeping_a_stale_one() -> None:
    sig = _signals(
        [
            (0, "pattern", 1.0, "ok", 1 * MIN),
            (2, "pattern", None, "provider_error", 3 * MIN),
        ]
    )
    res = run_llm_strategy(_bars(OPENS, CLOSES), sig, NO_COST)
    assert res.per_bar["position"].to_list() == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_risk_gate_and_confidence_filter() -> None:
    sig = _signals(
        [
            (0, "pattern", 1.0, "ok", 1 * MIN),
            (2, "risk", 0.95, "ok", 3 * MIN + timedelta(seconds=1)),
        ]
    )
    res = run_llm_strategy(_bars(OPENS, CLOSES), sig, NO_COST)
    assert res.per_bar["position"].to_list() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    low_conf = sig.with_columns(pl.lit(0.1).alias("confidence"))
    res = run_llm_strategy(_bars(OPENS, CLOSES), low_conf, NO_COST)
    # Risk rows do not need confidence; the low-confidence pattern is "no view".
    assert res.per_bar["position"].to_list() == [0.0] * 6


def test_stop_loss_acts_at_next_open_and_waits_for_a_new_crossing() -> None:
    opens = [100.0, 100.0, 95.0, 94.0, 94.0, 94.0]
    closes = [100.0, 95.0, 94.0, 94.0, 94.0, 94.0]
    params = LLMStrategyParams(
        w_sentiment=0.0, w_pattern=1.0, fee_bps=0.0, slippage_bps=0.0, stop_loss=0.03
    )
    sig = _signals([(0, "pattern", 1.0, "ok", 1 * MIN)])
    res = run_llm_strategy(_bars(opens, closes), sig, params)
    assert res.per_bar["position"].to_list() == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert res.metrics["total_return"] == pytest.approx(95.0 / 100.0 - 1.0, rel=1e-12)


def test_short_and_holding_limit() -> None:
    opens = [100.0, 100.0, 99.0, 98.0, 97.0, 96.0]
    closes = [100.0, 99.0, 98.0, 97.0, 96.0, 96.0]
    params = LLMStrategyParams(
        w_sentiment=1.0, w_pattern=0.0, fee_bps=0.0, slippage_bps=0.0, holding_bars=2
    )
    sig = _signals([(0, "sentiment", -0.7, "ok", 1 * MIN)])
    res = run_llm_strategy(_bars(opens, closes), sig, params)
    assert res.per_bar["position"].to_list() == [0.0, -1.0, -1.0, 0.0, 0.0, 0.0]
    # Short 1/100 units at 100, bought back at the open of bar 3 (98).
    assert res.metrics["total_return"] == pytest.approx(0.02, rel=1e-12)
    no_short = LLMStrategyParams(w_sentiment=1.0, w_pattern=0.0, allow_short=False)
    res = run_llm_strategy(_bars(opens, closes), sig, no_short)
    assert np.all(res.per_bar["position"].to_numpy() == 0.0)


def test_quoted_spread_costs_half_the_previous_close_spread() -> None:
    bars = _bars(OPENS, CLOSES).with_columns(
        pl.Series("spread_close", [0.2, 0.4, None, 0.1, 0.1, 0.1])
    )
    sig = _signals([(1, "pattern", 1.0, "ok", 2 * MIN)])
    res = run_llm_strategy(bars, sig, NO_COST)
    # The fill at bar 2's open pays half of bar 1's closing spread (0.4 / 2 on a price of 100).
    units = 1.0 / (100.0 * (1 + 0.2 / 100.0))
    assert res.per_bar["cost"][2] == pytest.approx(units * 0.2, rel=1e-12)
    assert res.metrics["total_return"] == pytest.approx(units * 110.0 - 1.0, rel=1e-12)
    with pytest.raises(ValueError, match="spread_close is negative at row 3"):
        run_llm_strategy(
            bars.with_columns(pl.Series("spread_close", [0.2, 0.4, None, -0.1, 0.1, 0.1])),
            sig,
            NO_COST,
        )


def test_a_perfect_but_late_oracle_earns_nothing() -> None:
    # Each bar gets a pattern signal equal to the sign of its own move, stamped as known 30 s
    # into that bar: a cheat filling at that bar's open would compound every move. Honestly it
    # can only trade from the next bar's open, where a random walk offers no edge.
    from random_walk_bars import synthetic_bars

    bars = synthetic_bars(5000, seed=17)
    move = np.sign(bars["close"].to_numpy() - bars["open"].to_numpy())
    sig = pl.DataFrame(
        {
            "bar_start": bars["bar_start"],
            "kind": "pattern",
            "value": move,
            "confidence": 1.0,
            "status": "ok",
            "available_at": bars["bar_start"] + timedelta(seconds=30),
        }
    )
    params = LLMStrategyParams(w_sentiment=0.0, w_pattern=1.0, fee_bps=0.0, slippage_bps=0.0)
    honest = run_llm_strategy(bars, sig, params)
    o, c = bars["open"].to_numpy(), bars["close"].to_numpy()
    cheat = np.prod(1 + move * (c / o - 1)) - 1
    assert cheat > 10.0  # the same-bar fill would multiply the account
    assert abs(honest.metrics["total_return"]) < 0.25
    assert honest.n_trades > 1000
