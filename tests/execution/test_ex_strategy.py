"""The LLM-signal strategy as orders: when it decides, what it sends, how it exits."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from ex_kit import BASE, MS, SEC, market, quotes, signals, trades, us

from tardis_assets.lib.backtest import LLMStrategyParams
from tardis_assets.lib.execution import decision_plan, run_execution

LONG = LLMStrategyParams(w_sentiment=1.0, w_pattern=0.0, entry_threshold=0.5, exit_threshold=0.1)
CFG = dataclasses.replace(BASE, lot_size=0.001)
MIN = 60 * SEC


def _flat_book(minutes: int = 10, mid: float = 100.0) -> pl.DataFrame:
    """A quote every second, spread 0.2 around ``mid``, deep enough for any test order."""
    return quotes([(s * SEC, 500, mid - 0.1, 1e6, mid + 0.1, 1e6) for s in range(minutes * 60)])


def _path_book(mids: list[float]) -> pl.DataFrame:
    return quotes([(s * SEC, 500, m - 0.1, 1e6, m + 0.1, 1e6) for s, m in enumerate(mids)])


def test_decision_happens_at_available_at_and_sizes_by_equity() -> None:
    sig = signals([(0, "sentiment", 0.8, 0.9, MIN + 2_500 * MS)])
    res = run_execution(market(10 * MIN, quotes=_flat_book()), sig, LONG, CFG)
    order = res.orders.row(0, named=True)
    assert us(res.orders.get_column("decided_at")) == [MIN + 2_500 * MS]
    assert order["side"] == "buy" and order["type"] == "market" and order["reason"] == "signal"
    assert order["model_latency_us"] == 2_500 * MS
    # position_size 1.0 of 100,000 at a mid of 100.0: 1,000 units
    assert order["qty"] == pytest.approx(1000.0)
    assert us(res.fills.get_column("time")) == [MIN + 2_500 * MS + MS]
    assert res.fills.get_column("price").to_list() == [100.1]


def test_model_latency_override_moves_the_decision() -> None:
    sig = signals([(0, "sentiment", 0.8, 0.9, MIN + 2_500 * MS)])
    cfg = dataclasses.replace(CFG, model_latency_ms=47.0)
    res = run_execution(market(10 * MIN, quotes=_flat_book()), sig, LONG, cfg)
    assert us(res.orders.get_column("decided_at")) == [MIN + 47 * MS]
    assert res.orders.row(0, named=True)["model_latency_us"] == 47 * MS


def test_a_signal_never_acts_inside_its_own_window() -> None:
    sig = signals([(0, "sentiment", 0.8, 0.9, 30 * SEC)])  # clock skew: "known" mid-window
    res = run_execution(market(10 * MIN, quotes=_flat_book()), sig, LONG, CFG)
    assert us(res.orders.get_column("decided_at")) == [MIN]


def test_low_confidence_and_risk_gate_mean_no_trade() -> None:
    low = signals([(0, "sentiment", 0.8, 0.1, MIN + SEC)])
    assert run_execution(market(10 * MIN, quotes=_flat_book()), low, LONG, CFG).orders.height == 0
    gated = signals([(0, "sentiment", 0.8, 0.9, MIN + SEC), (0, "risk", 0.95, 0.9, MIN + SEC)])
    assert run_execution(market(10 * MIN, quotes=_flat_book()), gated, LONG, CFG).orders.height == 0


def test_holding_limit_flattens_after_holding_bars() -> None:
    sig = signals([(0, "sentiment", 0.8, 0.9, MIN + SEC)])
    params = dataclasses.replace(LONG, holding_bars=2)
    res = run_execution(market(10 * MIN, quotes=_flat_book()), sig, params, CFG)
    assert res.orders.get_column("reason").to_list() == ["signal", "holding"]
    assert us(res.orders.get_column("decided_at")) == [MIN + SEC, MIN + SEC + 2 * MIN]
    assert res.equity.row(-1, named=True)["position"] == 0.0


def test_stop_loss_fires_on_the_local_mid_and_needs_a_fresh_crossing() -> None:
    # entry at ~100.1; the mid falls to 98.9 at 200 s: below 100.1 * (1 - 1%) = 99.099
    mids = [100.0] * 200 + [98.9] * 400
    sig = signals(
        [
            (0, "sentiment", 0.8, 0.9, MIN + SEC),
            (4 * MIN, "sentiment", 0.8, 0.9, 5 * MIN + SEC),  # same view again: keep, no entry
            (5 * MIN, "sentiment", 0.0, 0.9, 6 * MIN + SEC),  # view drops...
            (6 * MIN, "sentiment", 0.9, 0.9, 7 * MIN + SEC),  # ...and crosses again: re-enter
        ]
    )
    params = dataclasses.replace(LONG, stop_loss=0.01)
    res = run_execution(market(10 * MIN, quotes=_path_book(mids)), sig, params, CFG)
    assert res.orders.get_column("reason").to_list() == ["signal", "stop_loss", "signal"]
    decided = us(res.orders.get_column("decided_at"))
    # the stop is decided on the first quote at 98.9 as it arrives (200 s + 500 µs feed latency)
    assert decided[1] == 200 * SEC + 500
    assert decided[2] == 7 * MIN + SEC
    assert res.orders.row(1, named=True)["side"] == "sell"


def test_take_profit_exit_and_short_side() -> None:
    mids = [100.0] * 100 + [97.0] * 500
    sig = signals([(0, "sentiment", -0.8, 0.9, MIN + SEC)])
    params = dataclasses.replace(LONG, take_profit=0.02, allow_short=True)
    res = run_execution(market(10 * MIN, quotes=_path_book(mids)), sig, params, CFG)
    assert res.orders.get_column("side").to_list() == ["sell", "buy"]
    assert res.orders.get_column("reason").to_list() == ["signal", "take_profit"]
    assert res.pnl["pnl"] > 0


def test_reversal_sends_one_order_for_the_whole_swing() -> None:
    sig = signals(
        [(0, "sentiment", 0.8, 0.9, MIN + SEC), (2 * MIN, "sentiment", -0.8, 0.9, 3 * MIN + SEC)]
    )
    params = dataclasses.replace(LONG, allow_short=True)
    res = run_execution(market(10 * MIN, quotes=_flat_book()), sig, params, CFG)
    qty = res.orders.get_column("qty").to_list()
    assert res.orders.get_column("side").to_list() == ["buy", "sell"]
    assert qty[1] == pytest.approx(qty[0] + 1000.0 * (100_000 - 0.2 * 1000) / 100_000, rel=1e-3)
    assert res.equity.row(-1, named=True)["position"] < 0


def test_passive_style_posts_at_the_best_bid_and_fills_as_maker() -> None:
    book = _flat_book()
    # sells hit the bid at 99.9 from 70 s on: the first 1e6 are ahead of us, then we fill
    tape = trades([(70 * SEC + k * SEC, 100, "sell", 99.9, 5e5) for k in range(4)])
    cfg = dataclasses.replace(CFG, style="passive", passive_timeout_s=300.0)
    sig = signals([(0, "sentiment", 0.8, 0.9, MIN + SEC)])
    res = run_execution(market(10 * MIN, quotes=book, trades=tape), sig, LONG, cfg)
    first = res.orders.row(0, named=True)
    assert first["time_in_force"] == "post_only" and first["price"] == 99.9
    assert first["queue_ahead"] == pytest.approx(1e6)
    maker = res.fills.filter(pl.col("liquidity") == "maker")
    assert maker.get_column("qty").sum() == pytest.approx(1000.0)
    assert res.stats["passive_fill_rate"] == pytest.approx(1.0)
    assert res.pnl["spread_impact"] < 0  # bought below the mid


def test_passive_order_times_out_to_a_market_order() -> None:
    cfg = dataclasses.replace(CFG, style="passive", passive_timeout_s=5.0)
    sig = signals([(0, "sentiment", 0.8, 0.9, MIN + SEC)])
    res = run_execution(market(10 * MIN, quotes=_flat_book()), sig, LONG, cfg)
    kinds = res.orders.select("type", "status").rows()
    assert kinds[0] == ("limit", "canceled")
    assert kinds[-1] == ("market", "filled")
    cross = us(res.orders.get_column("decided_at"))[-1]
    assert MIN + 6 * SEC <= cross <= MIN + 7 * SEC  # timeout + the cancel's round trip


def test_passive_order_requotes_when_the_bid_moves() -> None:
    mids = [100.0] * 65 + [100.5] * 535
    cfg = dataclasses.replace(CFG, style="passive", passive_timeout_s=0.0)
    sig = signals([(0, "sentiment", 0.8, 0.9, MIN + SEC)])
    res = run_execution(market(10 * MIN, quotes=_path_book(mids)), sig, LONG, cfg)
    prices = res.orders.get_column("price").to_list()
    assert prices[0] == 99.9 and prices[-1] == 100.4
    assert res.orders.get_column("status").to_list()[0] == "canceled"


def test_decision_plan_follows_the_bar_engine_rules() -> None:
    sig = signals(
        [
            (0, "sentiment", 0.8, 0.9, MIN + SEC),
            (0, "pattern", 1.0, 0.9, MIN + 2 * SEC),
            (MIN, "sentiment", 0.8, 0.2, 2 * MIN + SEC),  # low confidence: no sentiment view
        ]
    )
    start = int(sig.get_column("bar_start").dt.epoch("us").min())
    plan = decision_plan(
        sig,
        LLMStrategyParams(w_sentiment=0.5, w_pattern=0.5, entry_threshold=0.3),
        start_us=start,
        end_us=start + 10 * MIN,
        window_us=MIN,
    )
    assert [t - start for t in plan.time.tolist()] == [MIN + SEC, MIN + 2 * SEC, 2 * MIN + SEC]
    assert plan.sentiment.tolist()[2] != plan.sentiment.tolist()[2]  # NaN: no view
    assert plan.action.tolist() == [1, 0, 0]  # long, keep (still long), keep (0.5 >= exit)


def test_bad_signals_and_params_are_refused() -> None:
    sig = signals([(0, "sentiment", 0.8, 0.9, MIN)]).drop("available_at")
    with pytest.raises(ValueError, match="available_at"):
        run_execution(market(quotes=_flat_book()), sig, LONG, CFG)
    with pytest.raises(TypeError, match="LLMStrategyParams"):
        run_execution(market(quotes=_flat_book()), signals([]), object(), CFG)  # type: ignore[arg-type]
