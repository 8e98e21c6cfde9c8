"""PSR/DSR against the paper's worked example; PBO by CSCV against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from random_walk_bars import synthetic_bars

from tardis_assets.lib.backtest import DualMAParams, run_dual_ma
from tardis_assets.lib.backtest.overfitting import (
    deflated_sharpe_from_trials,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    partition_stats,
    pbo_cscv,
    pbo_from_returns,
    probabilistic_sharpe_ratio,
    return_moments,
)
from tardis_assets.lib.backtest.params import ExecutionParams
from tardis_assets.lib.backtest.sweep import dual_ma_grid, run_sweep


def test_dsr_numerical_example_of_bailey_lopez_de_prado_2014() -> None:
    # N = 100 trials, V[SR_n] = 1/2 and best SR = 2.5 (annualized, 250 days), T = 1250 days,
    # skewness -3, kurtosis 10: the paper reports SR0 = 0.1132 (daily) and DSR = 0.9004.
    days = 250
    res = deflated_sharpe_ratio(
        sr=2.5 / math.sqrt(days), n_obs=1250, n_trials=100, sr_variance=0.5 / days, skew=-3, kurt=10
    )
    assert res.sr0 == pytest.approx(0.1132, abs=5e-5)
    assert res.dsr == pytest.approx(0.9004, abs=5e-5)


def test_psr_by_hand() -> None:
    # Normal returns: PSR = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 + SR^2 / 2)).
    sr, n = 0.1, 401
    z = 0.1 * 20 / math.sqrt(1 + 0.01 / 2)
    expected = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    assert probabilistic_sharpe_ratio(sr, 0.0, n) == pytest.approx(expected, rel=1e-12)
    assert expected_max_sharpe(1, 0.3) == 0.0
    with pytest.raises(ValueError, match="n_trials"):
        expected_max_sharpe(0, 0.1)


def test_dsr_from_trials_uses_all_trials_and_moments() -> None:
    rng = np.random.default_rng(5)
    best = rng.normal(5e-4, 1e-2, 2000)
    sharpes = np.concatenate([rng.normal(0, 1.0, 499), [np.nan]])
    res = deflated_sharpe_from_trials(sharpes, best, bars_per_year=365.0)
    sr, skew, kurt, n = return_moments(best)
    var = np.var(np.where(np.isnan(sharpes), 0.0, sharpes) / math.sqrt(365.0), ddof=1)
    direct = deflated_sharpe_ratio(sr, n, 500, var, skew, kurt)
    assert res.n_trials == 500 and res.dsr == pytest.approx(direct.dsr, rel=1e-12)
    # More trials at the same dispersion can only lower the DSR.
    more = deflated_sharpe_ratio(sr, n, 50_000, var, skew, kurt)
    assert more.dsr < res.dsr


def _trials_with_partition_means(means: list[list[float]], bars_per_part: int = 4) -> np.ndarray:
    """Returns matrix whose partitions have the given means and identical deviations, so the
    Sharpe ranking inside any union of partitions follows the sums of means."""
    wiggle = np.tile([1e-3, -1e-3], bars_per_part // 2)
    cols = []
    for trial in means:
        cols.append(np.concatenate([m * 1e-4 + wiggle for m in trial]))
    return np.column_stack(cols)


def test_pbo_hand_case_in_sample_winner_always_loses() -> None:
    # S = 2: train on partition 0 picks A (3), which ranks last out of sample (1 < 2 < 3);
    # train on 1 picks C, last in partition 0. Both logits are log((1/4) / (3/4)).
    m = _trials_with_partition_means([[3, 1], [2, 2], [1, 3]])
    res = pbo_from_returns(m, n_splits=2)
    assert res.pbo == 1.0
    np.testing.assert_allclose(res.logits, [math.log(1 / 3)] * 2, rtol=1e-12)


def test_pbo_zero_when_one_trial_dominates_everywhere() -> None:
    means = [[5] * 16, *[[((i * 7 + j * 3) % 5) - 2 for j in range(16)] for i in range(9)]]
    res = pbo_from_returns(_trials_with_partition_means(means), n_splits=16)
    assert res.n_combinations == 12_870
    assert res.pbo == 0.0
    np.testing.assert_allclose(res.logits, math.log(10 / 11 / (1 / 11)))


def test_pbo_one_for_mirror_trials() -> None:
    # B = -A in every partition and A sums to zero: whichever wins in sample loses out of sample.
    a = np.random.default_rng(3).normal(0, 2, 16)
    a = list(a - a.mean())
    res = pbo_from_returns(_trials_with_partition_means([a, [-x for x in a]]), n_splits=16)
    assert res.pbo == 1.0
    np.testing.assert_allclose(res.logits, math.log(1 / 2))


def test_sweep_partition_sums_equal_per_bar_returns() -> None:
    bars = synthetic_bars(4000, seed=8)
    combos = dual_ma_grid([3, 5, 8], [20, 40])
    out = run_sweep(bars, combos, ExecutionParams(), cscv_splits=16, block_bars=700)
    cols = [
        run_dual_ma(bars, DualMAParams(fast=f, slow=s)).per_bar["net_return"].to_numpy()
        for f, s in combos.iter_rows()
    ]
    expected = partition_stats(np.column_stack(cols), 16)
    np.testing.assert_allclose(out.partition_stats, expected, rtol=1e-9, atol=1e-13)
    assert pbo_cscv(out.partition_stats).pbo == pbo_from_returns(np.column_stack(cols)).pbo


def test_bad_cscv_inputs() -> None:
    with pytest.raises(ValueError, match="even"):
        pbo_from_returns(np.zeros((100, 3)), n_splits=5)
    with pytest.raises(ValueError, match="at least 2 trials"):
        pbo_from_returns(np.zeros((100, 1)), n_splits=4)
