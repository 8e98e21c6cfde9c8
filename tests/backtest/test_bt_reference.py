"""A plain-Python reading of the rules equals the numba kernel on random inputs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tardis_assets.lib.backtest import (
    DualMAParams,
    LLMStrategyParams,
    compute_metrics,
    run_dual_ma,
    run_llm_strategy,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def reference_views(bar_starts, sigs, min_conf):
    """Brute force: per bar and kind, the latest signal tradable at that bar."""
    views = {k: [math.nan] * len(bar_starts) for k in ("sentiment", "pattern", "risk")}
    for i, b in enumerate(bar_starts):
        for kind in views:
            best = None
            for s in sigs:
                if s["kind"] != kind or s["available_at"] > b or s["bar_start"] >= b:
                    continue
                if best is None or s["available_at"] >= best["available_at"]:
                    best = s
            if best is None or best["status"] != "ok":
                continue
            if kind != "risk" and best["confidence"] < min_conf:
                continue
            views[kind][i] = best["value"]
    return views


def reference_actions(views, p):
    """Per-bar target rules of the LLM strategy, written as a loop."""
    acts, prev_long, prev_short = [], False, False
    for s, q, r in zip(views["sentiment"], views["pattern"], views["risk"], strict=True):
        if math.isnan(s) and math.isnan(q):
            score = math.nan
        else:
            score = p.w_sentiment * (0 if math.isnan(s) else s) + p.w_pattern * (
                0 if math.isnan(q) else q
            )
        gated = (not math.isnan(r)) and r > p.max_risk
        long_ok = not gated and not math.isnan(score) and score >= p.entry_threshold
        short_ok = not gated and not math.isnan(score) and score <= -p.entry_threshold
        if long_ok and not prev_long:
            acts.append("long")
        elif short_ok and not prev_short:
            acts.append("short" if p.allow_short else "flat")
        elif gated or math.isnan(score) or abs(score) < p.exit_threshold:
            acts.append("flat")
        else:
            acts.append("keep")
        prev_long, prev_short = long_ok, short_ok
    return acts


def reference_execute(opens, closes, acts, p, cost_frac):
    """Cash/units bookkeeping with fills at the open and marks at the close."""
    fee = p.fee_bps / 1e4
    cash, units, direction, entry, held, pending = 1.0, 0.0, 0, 0.0, 0, False
    prev_eq, positions, nets = 1.0, [], []
    for o, c, a, cf in zip(opens, closes, acts, cost_frac, strict=True):
        target = {"long": 1, "short": -1, "flat": 0, "keep": direction}[a]
        if pending:
            pending = False
            if target == direction:
                target = 0
        if target != direction:
            if units > 0:
                cash += units * o * (1 - cf) * (1 - fee)
            elif units < 0:
                cash += units * o * (1 + cf) * (1 + fee)
            units = 0.0
            if target != 0 and cash > 0:
                px = o * (1 + cf) if target > 0 else o * (1 - cf)
                qty = p.position_size * cash / (px * (1 + fee))
                units = target * qty
                cash -= target * qty * px + fee * qty * px
                entry, held = px, 0
            elif target != 0:
                target = 0
            direction = target
        eq = cash + units * c
        nets.append(eq / prev_eq - 1)
        prev_eq = eq
        positions.append(direction * p.position_size)
        if direction != 0:
            held += 1
            move = direction * (c / entry - 1)
            if (
                (p.stop_loss > 0 and move <= -p.stop_loss)
                or (p.take_profit > 0 and move >= p.take_profit)
                or (p.holding_bars > 0 and held >= p.holding_bars)
            ):
                pending = True
    return np.array(positions), np.array(nets)


@st.composite
def scenario(draw):
    n = draw(st.integers(2, 40))
    rets = draw(st.lists(st.floats(-0.05, 0.05), min_size=n, max_size=n))
    gaps = draw(st.lists(st.floats(-0.01, 0.01), min_size=n, max_size=n))
    closes = list(100 * np.exp(np.cumsum(rets)))
    opens = [100.0] + [closes[i - 1] * (1 + gaps[i]) for i in range(1, n)]
    n_sig = draw(st.integers(0, 3 * n))
    sigs = []
    for _ in range(n_sig):
        kind = draw(st.sampled_from(["sentiment", "pattern", "risk"]))
        if kind == "pattern":
            value = float(draw(st.sampled_from([-1, 0, 1])))
        elif kind == "risk":
            value = draw(st.floats(0, 1))
        else:
            value = draw(st.floats(-1, 1))
        bar = draw(st.integers(0, n - 1))
        delay = draw(st.integers(-30, 200))
        sigs.append(
            {
                "bar_start": T0 + timedelta(minutes=bar),
                "kind": kind,
                "value": value,
                "confidence": draw(st.floats(0, 1)),
                "status": draw(st.sampled_from(["ok", "ok", "ok", "parse_error"])),
                "available_at": T0 + timedelta(minutes=bar, seconds=60 + delay),
            }
        )
    w_s, w_p = draw(st.floats(0.1, 1.0)), draw(st.floats(0.1, 1.0))
    entry = draw(st.floats(0.05, 0.95)) * (w_s + w_p)
    params = LLMStrategyParams(
        w_sentiment=w_s,
        w_pattern=w_p,
        entry_threshold=entry,
        exit_threshold=draw(st.floats(0.0, entry * 0.99)),
        min_confidence=draw(st.floats(0, 1)),
        max_risk=draw(st.floats(0, 1)),
        holding_bars=draw(st.integers(0, 5)),
        stop_loss=draw(st.sampled_from([0.0, 0.01, 0.03])),
        take_profit=draw(st.sampled_from([0.0, 0.02, 0.05])),
        allow_short=draw(st.booleans()),
        position_size=draw(st.sampled_from([1.0, 0.5, 0.25])),
        fee_bps=draw(st.floats(0, 20)),
        slippage_bps=draw(st.floats(0, 10)),
    )
    return opens, closes, sigs, params


def _frames(opens, closes, sigs):
    n = len(opens)
    bars = pl.DataFrame(
        {
            "bar_start": [T0 + timedelta(minutes=i) for i in range(n)],
            "open": opens,
            "high": [max(o, c) for o, c in zip(opens, closes, strict=True)],
            "low": [min(o, c) for o, c in zip(opens, closes, strict=True)],
            "close": closes,
        },
        schema_overrides={"bar_start": pl.Datetime("us", "UTC")},
    )
    schema = {
        "bar_start": pl.Datetime("us", "UTC"),
        "kind": pl.Utf8,
        "value": pl.Float64,
        "confidence": pl.Float64,
        "status": pl.Utf8,
        "available_at": pl.Datetime("us", "UTC"),
    }
    sig = pl.DataFrame(sigs, schema=schema) if sigs else pl.DataFrame(schema=schema)
    return bars, sig


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_llm_strategy_equals_reference(case) -> None:
    opens, closes, sigs, params = case
    bars, sig = _frames(opens, closes, sigs)
    res = run_llm_strategy(bars, sig, params)
    bar_starts = [T0 + timedelta(minutes=i) for i in range(len(opens))]
    views = reference_views(bar_starts, sigs, params.min_confidence)
    acts = reference_actions(views, params)
    cf = [params.slippage_bps / 1e4] * len(opens)
    pos, net = reference_execute(opens, closes, acts, params, cf)
    np.testing.assert_array_equal(res.per_bar["position"].to_numpy(), pos)
    np.testing.assert_allclose(res.per_bar["net_return"].to_numpy(), net, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        res.per_bar["equity"].to_numpy(), np.cumprod(1 + net), rtol=1e-10, atol=0
    )
    assert res.n_trades == sum(
        1 for i, x in enumerate(pos) if x != 0 and x != (pos[i - 1] if i else 0.0)
    )
    m = compute_metrics(net, pos, 525_600.0)
    for key in ("total_return", "max_drawdown", "turnover", "exposure", "n_trades"):
        assert math.isclose(m[key], res.metrics[key], rel_tol=1e-9, abs_tol=1e-12), key


def reference_sma(values, w):
    """Running-sum moving average, the documented formula (equal to vectorbt's)."""
    cs, acc = [], 0.0
    for v in values:
        acc += v
        cs.append(acc)
    return [
        math.nan if i < w - 1 else (cs[i] if i == w - 1 else cs[i] - cs[i - w]) / w
        for i in range(len(values))
    ]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(-0.03, 0.03), min_size=3, max_size=60),
    st.integers(1, 6),
    st.integers(1, 8),
    st.booleans(),
    st.floats(0, 20),
)
def test_dual_ma_equals_reference(rets, fast, extra, allow_short, fee_bps) -> None:
    slow = fast + extra
    closes = list(100 * np.exp(np.cumsum(rets)))
    opens = [100.0, *closes[:-1]]
    bars, _ = _frames(opens, closes, [])
    p = DualMAParams(fast=fast, slow=slow, allow_short=allow_short, fee_bps=fee_bps)
    res = run_dual_ma(bars, p)
    f, s = reference_sma(closes, fast), reference_sma(closes, slow)
    acts, side = ["keep"], 0
    for i in range(len(closes) - 1):
        a = "keep"
        if math.isnan(f[i]) or math.isnan(s[i]):
            side = 0
        elif f[i] > s[i]:
            a, side = ("long" if side < 0 else "keep"), 1
        elif f[i] < s[i]:
            a, side = (("short" if allow_short else "flat") if side > 0 else "keep"), -1
        acts.append(a)
    pos, net = reference_execute(opens, closes, acts, p, [p.slippage_bps / 1e4] * len(opens))
    np.testing.assert_array_equal(res.per_bar["position"].to_numpy(), pos)
    np.testing.assert_allclose(res.per_bar["net_return"].to_numpy(), net, rtol=0, atol=1e-12)
