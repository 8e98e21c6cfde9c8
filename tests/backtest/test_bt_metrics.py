"""Metrics against empyrical-reloaded on the same returns, and hand-checked definitions."""

from __future__ import annotations

import empyrical
import numpy as np
import pytest

from tardis_assets.lib.backtest import MINUTES_PER_YEAR, compute_metrics


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_metrics_match_empyrical(seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = rng.normal(2e-5, 1e-3, 20_000) * rng.choice([0.0, 1.0], 20_000, p=[0.2, 0.8])
    pos = np.where(r != 0.0, 1.0, 0.0)
    m = compute_metrics(r, pos, MINUTES_PER_YEAR)
    ann = MINUTES_PER_YEAR
    assert m["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=ann), abs=1e-9)
    assert m["sortino"] == pytest.approx(empyrical.sortino_ratio(r, annualization=ann), abs=1e-9)
    assert m["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), abs=1e-9)
    assert m["cagr"] == pytest.approx(empyrical.cagr(r, annualization=ann), rel=1e-9)
    assert m["calmar"] == pytest.approx(empyrical.calmar_ratio(r, annualization=ann), rel=1e-9)
    assert m["total_return"] == pytest.approx(empyrical.cum_returns_final(r), abs=1e-9)


def test_daily_annualization_matches_empyrical() -> None:
    rng = np.random.default_rng(9)
    r = rng.normal(1e-3, 2e-2, 500)
    m = compute_metrics(r, np.ones(500), 365.0)
    assert m["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=365), abs=1e-9)
    assert m["sortino"] == pytest.approx(empyrical.sortino_ratio(r, annualization=365), abs=1e-9)


def test_hand_computed_small_series() -> None:
    r = np.array([0.10, -0.05, 0.0, -0.10, 0.20])
    pos = np.array([1.0, 1.0, 0.0, -1.0, -1.0])
    m = compute_metrics(r, pos, 5.0)
    equity = np.cumprod(1 + r)  # 1.1, 1.045, 1.045, 0.9405, 1.1286
    assert m["total_return"] == pytest.approx(equity[-1] - 1)
    assert m["max_drawdown"] == pytest.approx(0.9405 / 1.1 - 1)
    assert m["max_drawdown_duration_bars"] == 3.0
    assert m["win_rate"] == pytest.approx(2 / 4)
    assert m["profit_factor"] == pytest.approx(0.30 / 0.15)
    assert m["turnover"] == pytest.approx(1 + 1 + 1)
    assert m["exposure"] == pytest.approx(4 / 5)
    assert m["n_trades"] == 2.0
    # One year of 5 bars: CAGR equals the total return.
    assert m["cagr"] == pytest.approx(equity[-1] - 1)


def test_undefined_ratios_are_nan_not_invented() -> None:
    m = compute_metrics(np.zeros(10), np.zeros(10), MINUTES_PER_YEAR)
    assert np.isnan(m["sharpe"]) and np.isnan(m["sortino"]) and np.isnan(m["profit_factor"])
    assert m["max_drawdown"] == 0.0 and m["n_trades"] == 0.0


def test_bad_metric_inputs() -> None:
    with pytest.raises(ValueError, match="empty"):
        compute_metrics(np.array([]), np.array([]), MINUTES_PER_YEAR)
    with pytest.raises(ValueError, match="differ in length"):
        compute_metrics(np.zeros(3), np.zeros(2), MINUTES_PER_YEAR)
    with pytest.raises(ValueError, match="non-finite value at bar 1"):
        compute_metrics(np.array([0.0, np.nan]), np.zeros(2), MINUTES_PER_YEAR)
    with pytest.raises(ValueError, match="bars_per_year"):
        compute_metrics(np.zeros(3), np.zeros(3), 0.0)
