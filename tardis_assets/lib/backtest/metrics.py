"""Performance metrics from per-bar net returns and positions (24/7 markets: 365-day years).

Definitions (``r`` = per-bar net returns, ``n`` = number of bars, ``A`` = bars per year):

* total_return = prod(1 + r) - 1;  cagr = prod(1 + r) ** (A / n) - 1 (-1 once equity is gone)
* sharpe = mean(r) / std(r, ddof=1) * sqrt(A)  (risk-free 0, as empyrical's ``sharpe_ratio``)
* sortino = mean(r) * sqrt(A) / sqrt(mean(min(r, 0) ** 2))  (empyrical's ``sortino_ratio``)
* max_drawdown = min over bars of equity / running peak - 1, the peak including the starting
  equity (a negative fraction, as empyrical's ``max_drawdown``); calmar = cagr / |max_drawdown|
* max_drawdown_duration_bars = longest run of consecutive bars spent below a previous peak
* win_rate = bars with r > 0 / bars with r != 0;  profit_factor = sum(r > 0) / |sum(r < 0)|
  (per bar, as quantstats defines them for return series)
* turnover = sum |position[i] - position[i-1]| (position before the first bar is 0), in multiples
  of equity; exposure = share of bars with a non-zero position; n_trades = bars where a non-zero
  position starts or changes (a reversal counts once)

Undefined ratios (zero variance, no losses, no drawdown) are NaN rather than a made-up number.
The same running sums are folded by the numba kernel during sweeps, so a sweep row and
``compute_metrics`` on that combination's per-bar series agree.
"""

from __future__ import annotations

import numpy as np

from tardis_assets.lib.backtest import kernel as k

MINUTES_PER_YEAR = 365.0 * 24.0 * 60.0

METRIC_NAMES = (
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "max_drawdown_duration_bars",
    "win_rate",
    "profit_factor",
    "turnover",
    "exposure",
    "n_trades",
)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0.0, num / np.where(den != 0.0, den, 1.0), np.nan)


def finalize_stats(stats: np.ndarray, bars_per_year: float) -> dict[str, np.ndarray]:
    """Turn kernel state rows (shape (m, STATE_SIZE)) into metric columns of length m."""
    if not np.isfinite(bars_per_year) or bars_per_year <= 0:
        raise ValueError(f"bars_per_year must be a positive number, got {bars_per_year!r}")
    s = np.atleast_2d(np.asarray(stats, dtype=np.float64))
    n = s[:, k.S_N]
    growth = s[:, k.S_GROWTH]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mean = _safe_div(s[:, k.S_SUM], n)
        var = _safe_div(s[:, k.S_SUMSQ] - s[:, k.S_SUM] * mean, n - 1.0)
        std = np.sqrt(np.maximum(var, 0.0))
        ann = np.sqrt(bars_per_year)
        sharpe = np.where(n >= 2, _safe_div(mean, std) * ann, np.nan)
        downside = np.sqrt(_safe_div(s[:, k.S_DOWNSQ], n))
        sortino = np.where(n >= 2, _safe_div(mean, downside) * ann, np.nan)
        cagr = np.where(
            growth > 0.0, np.power(np.maximum(growth, 0.0), _safe_div(bars_per_year, n)) - 1.0, -1.0
        )
        mdd = s[:, k.S_MAXDD]
        return {
            "total_return": growth - 1.0,
            "cagr": cagr,
            "sharpe": sharpe,
            "sortino": sortino,
            "calmar": _safe_div(cagr, np.abs(mdd)),
            "max_drawdown": mdd,
            "max_drawdown_duration_bars": s[:, k.S_DDMAX],
            "win_rate": _safe_div(s[:, k.S_NPOS], s[:, k.S_NNZ]),
            "profit_factor": _safe_div(s[:, k.S_GPROFIT], -s[:, k.S_GLOSS]),
            "turnover": s[:, k.S_TURNOVER],
            "exposure": _safe_div(s[:, k.S_EXPOSURE], n),
            "n_trades": s[:, k.S_NTRADES],
        }


def compute_metrics(
    net_returns: np.ndarray, positions: np.ndarray, bars_per_year: float
) -> dict[str, float]:
    """Metrics of one return series (definitions in the module docstring), as plain floats."""
    r = np.ascontiguousarray(net_returns, dtype=np.float64)
    p = np.ascontiguousarray(positions, dtype=np.float64)
    if r.ndim != 1 or p.ndim != 1:
        raise ValueError("net_returns and positions must be one-dimensional")
    if r.shape != p.shape:
        raise ValueError(
            f"net_returns ({r.shape[0]} bars) and positions ({p.shape[0]} bars) differ in length"
        )
    if r.shape[0] == 0:
        raise ValueError("cannot compute metrics of an empty return series")
    if not np.all(np.isfinite(r)):
        raise ValueError(
            f"net_returns has a non-finite value at bar {int(np.argmin(np.isfinite(r)))}"
        )
    if not np.all(np.isfinite(p)):
        raise ValueError(
            f"positions has a non-finite value at bar {int(np.argmin(np.isfinite(p)))}"
        )
    cols = finalize_stats(k.accumulate_stats(r, p)[None, :], bars_per_year)
    return {name: float(cols[name][0]) for name in METRIC_NAMES}
