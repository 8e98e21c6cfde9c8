"""Monte Carlo bootstrap, VaR/CVaR and walk-forward against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from random_walk_bars import synthetic_bars

from tardis_assets.lib.backtest import (
    ExecutionParams,
    bootstrap,
    dual_ma_grid,
    var_cvar,
    walk_forward_dual_ma,
)


def test_var_cvar_by_hand() -> None:
    x = np.arange(-5, 5) / 100.0  # -0.05 ... 0.04
    assert var_cvar(x, 0.9) == (-0.05, -0.05)
    var, cvar = var_cvar(x, 0.8)
    assert var == -0.04 and cvar == pytest.approx(-0.045)
    with pytest.raises(ValueError, match="level"):
        var_cvar(x, 1.0)


def test_constant_returns_give_exact_outcomes() -> None:
    r = np.full(500, -0.01)
    mc = bootstrap(r, n_paths=50, horizon=30, mean_block=5, drawdown_floor=0.2, seed=1)
    expected = 0.99**30 - 1  # -0.2603
    np.testing.assert_allclose(mc.terminal_returns, expected, rtol=1e-12)
    assert mc.var_99 == pytest.approx(expected) and mc.cvar_95 == pytest.approx(expected)
    assert mc.p_drawdown_floor == 1.0
    assert bootstrap(r, n_paths=50, horizon=30, drawdown_floor=0.3, seed=1).p_drawdown_floor == 0


def test_bootstrap_is_seeded_and_keeps_blocks() -> None:
    rng = np.random.default_rng(0)
    r = rng.normal(0, 0.01, 200)
    a = bootstrap(r, n_paths=200, horizon=20, mean_block=1e9, seed=7)
    b = bootstrap(r, n_paths=200, horizon=20, mean_block=1e9, seed=7)
    c = bootstrap(r, n_paths=200, horizon=20, mean_block=1e9, seed=8)
    np.testing.assert_array_equal(a.terminal_returns, b.terminal_returns)
    assert not np.array_equal(a.terminal_returns, c.terminal_returns)
    # With blocks that never end, every path is one cyclic run of 20 consecutive bars.
    cyc = np.concatenate([r, r])
    windows = np.array([np.prod(1 + cyc[i : i + 20]) - 1 for i in range(200)])
    for t in a.terminal_returns:
        assert np.min(np.abs(windows - t)) < 1e-12
    bands = a.bands
    assert bands.shape == (a.checkpoints.size, 5)
    assert np.all(np.diff(bands, axis=1) >= 0)
    assert a.checkpoints[-1] == 20


def test_bad_bootstrap_inputs() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap(np.array([0.1]))
    with pytest.raises(ValueError, match="non-finite value at bar 1"):
        bootstrap(np.array([0.1, np.nan, 0.0]))
    with pytest.raises(ValueError, match="horizon"):
        bootstrap(np.zeros(10), horizon=0)
    with pytest.raises(ValueError, match="drawdown_floor"):
        bootstrap(np.zeros(10), drawdown_floor=1.5)


def test_walk_forward_folds_and_stitching() -> None:
    bars = synthetic_bars(3000, seed=5)
    combos = dual_ma_grid([2, 4, 8], [20, 40])
    res = walk_forward_dual_ma(bars, combos, in_sample=1000, out_of_sample=500)
    assert res.folds.height == 4
    assert res.oos_per_bar.height == 2000
    # Out-of-sample bars are exactly the bars after the first in-sample window, in order.
    assert res.oos_per_bar["bar_start"].equals(bars["bar_start"][1000:].alias("bar_start"))
    net = res.oos_per_bar["net_return"].to_numpy()
    np.testing.assert_allclose(res.oos_per_bar["equity"].to_numpy(), np.cumprod(1 + net))
    assert res.oos_metrics["total_return"] == pytest.approx(np.prod(1 + net) - 1)
    # Each fold starts flat: a position on its first bar must have been bought (paid for) there.
    starts = res.oos_per_bar.group_by("fold").first()
    assert ((starts["position"] == 0) | (starts["cost"] > 0)).all()


def test_walk_forward_bad_windows() -> None:
    bars = synthetic_bars(1000, seed=5)
    combos = dual_ma_grid([2], [50])
    with pytest.raises(ValueError, match="not enough bars"):
        walk_forward_dual_ma(bars, combos, in_sample=900, out_of_sample=200)
    with pytest.raises(ValueError, match="does not fit"):
        walk_forward_dual_ma(bars, combos, in_sample=40, out_of_sample=20)
    with pytest.raises(ValueError, match="out_of_sample"):
        walk_forward_dual_ma(
            bars, combos, in_sample=100, out_of_sample=0, execution=ExecutionParams()
        )
