"""Monte Carlo risk from a strategy's per-bar returns: stationary block bootstrap (seeded).

The stationary bootstrap (Politis & Romano 1994) resamples blocks of consecutive bars whose
lengths are geometric with mean ``mean_block``, wrapping around the end, so volatility clusters
and short-range autocorrelation survive the resampling while every path stays a plausible
ordering of returns that actually happened.

Paths are generated and folded one at a time in numba: memory is the checkpoints kept for the
percentile bands (paths x checkpoints), not paths x horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

BAND_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)


@njit(cache=True, nogil=True)
def _simulate(
    returns: np.ndarray,
    n_paths: int,
    horizon: int,
    mean_block: float,
    checkpoints: np.ndarray,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    np.random.seed(seed)
    n = returns.shape[0]
    p_new = 1.0 / mean_block
    terminal = np.empty(n_paths)
    max_dd = np.empty(n_paths)
    marks = np.empty((n_paths, checkpoints.shape[0]))
    for path in range(n_paths):
        idx = np.random.randint(0, n)
        eq = 1.0
        peak = 1.0
        worst = 0.0
        c = 0
        for t in range(horizon):
            if t > 0:
                if np.random.random() < p_new:
                    idx = np.random.randint(0, n)
                else:
                    idx += 1
                    if idx == n:
                        idx = 0
            eq *= 1.0 + returns[idx]
            if eq > peak:
                peak = eq
            dd = eq / peak - 1.0
            if dd < worst:
                worst = dd
            while c < checkpoints.shape[0] and checkpoints[c] == t:
                marks[path, c] = eq
                c += 1
        terminal[path] = eq - 1.0
        max_dd[path] = worst
    return terminal, max_dd, marks


@dataclass(frozen=True)
class MonteCarloResult:
    """Distribution of horizon outcomes over bootstrap paths.

    ``var_95``/``var_99`` are the 5%/1% quantiles of the horizon return (negative = a loss) and
    ``cvar_*`` the mean return at or below them; ``p_drawdown_floor`` is the share of paths whose
    drawdown from their running peak reaches ``-drawdown_floor`` within the horizon. ``bands``
    has one row per checkpoint bar (1-based bar count) and one column per percentile of equity.
    """

    n_paths: int
    horizon: int
    mean_block: float
    seed: int
    var_95: float
    cvar_95: float
    var_99: float
    cvar_99: float
    drawdown_floor: float
    p_drawdown_floor: float
    median_return: float
    checkpoints: np.ndarray
    bands: np.ndarray
    band_percentiles: tuple[float, ...]
    terminal_returns: np.ndarray
    max_drawdowns: np.ndarray

    def metadata(self) -> dict[str, float | int]:
        """Plain numbers for asset metadata."""
        return {
            "mc_paths": self.n_paths,
            "mc_horizon_bars": self.horizon,
            "mc_mean_block_bars": self.mean_block,
            "mc_seed": self.seed,
            "var_95": self.var_95,
            "cvar_95": self.cvar_95,
            "var_99": self.var_99,
            "cvar_99": self.cvar_99,
            "drawdown_floor": self.drawdown_floor,
            "p_drawdown_floor": self.p_drawdown_floor,
            "median_horizon_return": self.median_return,
        }


def var_cvar(outcomes: np.ndarray, level: float) -> tuple[float, float]:
    """Historical VaR (the ``1 - level`` quantile, lower interpolation) and CVaR (mean at or
    below it) of a sample of returns; both negative for losses."""
    x = np.sort(np.asarray(outcomes, dtype=np.float64))
    if x.size == 0:
        raise ValueError("VaR of an empty sample")
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    k = int(np.floor((1.0 - level) * (x.size - 1)))
    var = float(x[k])
    return var, float(x[: k + 1].mean())


def bootstrap(
    returns: np.ndarray,
    *,
    n_paths: int = 2000,
    horizon: int = 1440,
    mean_block: float = 60.0,
    drawdown_floor: float = 0.2,
    n_checkpoints: int = 100,
    seed: int = 0,
) -> MonteCarloResult:
    """Stationary block bootstrap of ``returns`` over ``horizon`` bars, ``n_paths`` paths."""
    r = np.ascontiguousarray(returns, dtype=np.float64)
    if r.ndim != 1 or r.size < 2:
        raise ValueError("need a one-dimensional series of at least 2 returns to resample")
    if not np.all(np.isfinite(r)):
        raise ValueError(
            f"returns contain a non-finite value at bar {int(np.argmin(np.isfinite(r)))}"
        )
    if n_paths < 10:
        raise ValueError(f"n_paths must be >= 10, got {n_paths}")
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1 bar, got {horizon}")
    if not mean_block >= 1:
        raise ValueError(f"mean_block must be >= 1 bar, got {mean_block}")
    if not 0 < drawdown_floor < 1:
        raise ValueError(f"drawdown_floor must be in (0, 1), got {drawdown_floor}")
    if n_checkpoints < 1:
        raise ValueError(f"n_checkpoints must be >= 1, got {n_checkpoints}")
    checkpoints = np.unique(
        np.linspace(0, horizon - 1, min(n_checkpoints, horizon)).astype(np.int64)
    )
    terminal, max_dd, marks = _simulate(
        r, int(n_paths), int(horizon), float(mean_block), checkpoints, int(seed)
    )
    v95, c95 = var_cvar(terminal, 0.95)
    v99, c99 = var_cvar(terminal, 0.99)
    bands = np.percentile(marks, BAND_PERCENTILES, axis=0).T
    return MonteCarloResult(
        n_paths=int(n_paths),
        horizon=int(horizon),
        mean_block=float(mean_block),
        seed=int(seed),
        var_95=v95,
        cvar_95=c95,
        var_99=v99,
        cvar_99=c99,
        drawdown_floor=float(drawdown_floor),
        p_drawdown_floor=float(np.mean(max_dd <= -drawdown_floor)),
        median_return=float(np.median(terminal)),
        checkpoints=checkpoints + 1,
        bands=bands,
        band_percentiles=BAND_PERCENTILES,
        terminal_returns=terminal,
        max_drawdowns=max_dd,
    )
