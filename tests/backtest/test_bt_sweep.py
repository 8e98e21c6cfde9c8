"""Sweeps equal single backtests, whatever the chunking, threading or lane."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from random_walk_bars import synthetic_bars

from tardis_assets.lib.backtest import (
    DualMAParams,
    ExecutionParams,
    dual_ma_grid,
    dual_ma_random,
    run_dual_ma,
    run_sweep,
    sweep_dual_ma,
    top_n,
)

METRICS = (
    "total_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration_bars",
    "win_rate",
    "profit_factor",
    "turnover",
    "exposure",
    "n_trades",
    "calmar",
)


def _assert_rows_match_single_runs(bars, results, execution, rows) -> None:
    for row in rows:
        f, s = int(results["fast"][row]), int(results["slow"][row])
        single = run_dual_ma(
            bars,
            DualMAParams(
                fast=f,
                slow=s,
                **{k: getattr(execution, k) for k in execution.__dataclass_fields__},
            ),
        )
        for name in METRICS:
            got = results[name][row]
            want = single.metrics[name]
            if got is None:
                assert np.isnan(want), (f, s, name)
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (f, s, name)


@pytest.mark.parametrize(
    "execution",
    [
        ExecutionParams(fee_bps=5, slippage_bps=1),
        ExecutionParams(fee_bps=2, slippage_bps=0, allow_short=True),
        ExecutionParams(fee_bps=5, stop_loss=0.004, take_profit=0.01, holding_bars=90),
        ExecutionParams(fee_bps=0, slippage_bps=0, position_size=0.5),
    ],
)
def test_sweep_equals_single_backtests(execution: ExecutionParams) -> None:
    bars = synthetic_bars(6000, seed=21)
    combos = dual_ma_grid([2, 3, 5, 9, 14], [15, 30, 61, 120])
    res = sweep_dual_ma(bars, combos, execution, block_bars=500)
    assert res.select("fast", "slow").equals(combos)
    _assert_rows_match_single_runs(bars, res, execution, range(combos.height))


def test_chunking_threads_and_lanes_do_not_change_results() -> None:
    bars = synthetic_bars(5000, seed=22)
    combos = dual_ma_random(60, (2, 40), (10, 200), seed=3)
    ex = ExecutionParams()
    base = sweep_dual_ma(bars, combos, ex, n_threads=1, use_fast_path=False)
    # A budget of 5 averages forces many chunks and fast-window groups.
    tight = sweep_dual_ma(bars, combos, ex, n_threads=2, max_indicator_bytes=5 * 8 * 5000)
    odd_blocks = sweep_dual_ma(bars, combos, ex, n_threads=3, block_bars=77)
    for other in (tight, odd_blocks):
        for name in METRICS:
            a = base[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
            b = other[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=name)


def test_grid_random_and_top_n() -> None:
    grid = dual_ma_grid([5, 2, 10], [10, 20])
    assert grid.rows() == [(2, 10), (2, 20), (5, 10), (5, 20), (10, 20)]
    rnd = dual_ma_random(50, (2, 20), (21, 60), seed=9)
    assert rnd.height == 50 and rnd.unique().height == 50
    assert rnd.equals(dual_ma_random(50, (2, 20), (21, 60), seed=9))
    assert (rnd["fast"] < rnd["slow"]).all()
    res = sweep_dual_ma(synthetic_bars(3000, seed=1), grid)
    best = top_n(res, 2)
    assert best.height == 2 and best["sharpe"][0] >= best["sharpe"][1]


def test_a_combination_that_never_trades_has_null_ratios_and_ranks_last() -> None:
    res = sweep_dual_ma(synthetic_bars(300, seed=4), dual_ma_grid([2, 5], [250, 299]))
    never = res.filter(pl.col("slow") == 299)
    assert never["n_trades"].to_list() == [0, 0] and never["sharpe"].null_count() == 2
    assert top_n(res, 4)["slow"].to_list()[-2:] == [299, 299]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dual_ma_grid([], [10]), "empty range"),
        (lambda: dual_ma_grid([0, 3], [10]), "window must be >= 1"),
        (lambda: dual_ma_grid([30], [10]), "grid is empty"),
        (lambda: dual_ma_random(0, (2, 5), (6, 9)), "n >= 1"),
        (lambda: dual_ma_random(100, (2, 3), (4, 5)), "only hold 4"),
        (lambda: ExecutionParams(fee_bps=-1), "fee_bps must be >= 0"),
    ],
)
def test_bad_sweep_parameters(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_sweep_inputs() -> None:
    bars = synthetic_bars(500, seed=2)
    with pytest.raises(ValueError, match="empty parameter range"):
        run_sweep(bars, dual_ma_grid([2], [5]).clear())
    with pytest.raises(ValueError, match="row 1: fast window 9 must be < slow 4"):
        run_sweep(bars, pl.DataFrame({"fast": [2, 9], "slow": [5, 4]}))
    with pytest.raises(ValueError, match="no bars in the requested range"):
        run_sweep(bars.clear(), dual_ma_grid([2], [5]))
    with pytest.raises(ValueError, match="column fast must hold integer windows"):
        run_sweep(bars, pl.DataFrame({"fast": [2.5], "slow": [5]}))
    with pytest.raises(ValueError, match="block_bars"):
        run_sweep(bars, dual_ma_grid([2], [5]), block_bars=0)


def test_chunk_plan_computes_each_slow_window_once_when_fast_windows_fit() -> None:
    from tardis_assets.lib.backtest.sweep_plan import plan_chunks

    combos = dual_ma_grid(np.arange(2, 12), 20 + 5 * np.arange(30))
    fast = combos["fast"].to_numpy()
    slow = combos["slow"].to_numpy()
    chunks = plan_chunks(fast, slow, max_windows=16)
    seen: list[int] = []
    for ch in chunks:
        assert ch.windows.size <= 16
        assert set(np.unique(fast)) <= set(ch.windows.tolist())
        seen.extend(w for w in ch.windows.tolist() if w >= 20)
    assert sorted(seen) == sorted(set(seen)) == list(range(20, 170, 5))
    covered = np.sort(np.concatenate([ch.combos for ch in chunks]))
    np.testing.assert_array_equal(covered, np.arange(combos.height))


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(st.sampled_from([-1, 0, 0, 1]), min_size=150, max_size=400),
    fast=st.integers(1, 6),
    extra=st.integers(1, 30),
    block=st.sampled_from([64, 100, 2048]),
)
def test_fast_lane_equals_engine_on_prices_with_ties(steps, fast, extra, block) -> None:
    # Integer price steps make equal moving averages (ties) and flat stretches common: the
    # cases where the 64-bar bit-mask shortcut must fall back to a bar-by-bar scan.
    close = 100.0 + np.cumsum(steps)
    close = np.maximum(close, 1.0)
    bars = synthetic_bars(close.size, seed=0).with_columns(
        pl.Series("close", close),
        pl.Series("open", np.concatenate([[100.0], close[:-1]])),
        pl.Series("high", np.maximum(close, np.concatenate([[100.0], close[:-1]]))),
        pl.Series("low", np.minimum(close, np.concatenate([[100.0], close[:-1]]))),
    )
    combos = pl.DataFrame({"fast": [fast], "slow": [fast + extra]})
    for ex in (
        ExecutionParams(fee_bps=3, slippage_bps=1),
        ExecutionParams(fee_bps=3, allow_short=True, stop_loss=0.01, holding_bars=25),
    ):
        got = sweep_dual_ma(bars, combos, ex, block_bars=block)
        _assert_rows_match_single_runs(bars, got, ex, [0])
