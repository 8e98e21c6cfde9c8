"""Overfitting controls: probabilistic and deflated Sharpe ratio, PBO by CSCV.

* PSR (Bailey & López de Prado 2012): probability that the true Sharpe exceeds a benchmark given
  the sample length, skewness and kurtosis of the returns.
* DSR (Bailey & López de Prado 2014): PSR against the Sharpe the best of N unskilled trials would
  reach by luck, SR0 = sqrt(V[SR_n]) * ((1 - g) * Z(1 - 1/N) + g * Z(1 - 1/(N e))), g = Euler's
  constant. N is the number of trials actually run, V[SR_n] the variance of their Sharpes.
* PBO (Bailey, Borwein, López de Prado & Zhu 2017): split the bars into S contiguous partitions;
  for every choice of S/2 of them as in-sample (C(16, 8) = 12,870 for S = 16), take the trial
  best in-sample and its relative rank w out-of-sample; PBO is the share of choices where the
  logit log(w / (1 - w)) <= 0, i.e. the in-sample winner is at or below the out-of-sample median.

All Sharpe ratios here are per bar (not annualized), as the formulas require.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist

import numpy as np
from numba import njit

EULER_GAMMA = 0.5772156649015329
_N = NormalDist()


def return_moments(returns: np.ndarray) -> tuple[float, float, float, int]:
    """Per-bar Sharpe, skewness and (non-excess) kurtosis of a return series, and its length."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or r.size < 3:
        raise ValueError("need a one-dimensional return series with at least 3 values")
    if not np.all(np.isfinite(r)):
        raise ValueError("returns contain NaN or infinite values")
    mu = r.mean()
    sd = r.std(ddof=1)
    c = r - mu
    m2 = np.mean(c * c)
    if m2 == 0:
        return 0.0, 0.0, 3.0, int(r.size)
    skew = float(np.mean(c**3) / m2**1.5)
    kurt = float(np.mean(c**4) / m2**2)
    return float(mu / sd), skew, kurt, int(r.size)


def probabilistic_sharpe_ratio(
    sr: float, sr_benchmark: float, n_obs: int, skew: float = 0.0, kurt: float = 3.0
) -> float:
    """PSR: P(true per-bar Sharpe > ``sr_benchmark``) given ``n_obs`` bars of returns."""
    if n_obs < 2:
        raise ValueError(f"PSR needs at least 2 observations, got {n_obs}")
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if denom <= 0:
        raise ValueError(
            f"PSR undefined: 1 - skew*SR + (kurt-1)/4*SR^2 = {denom:.4g} <= 0 (check the moments)"
        )
    return _N.cdf((sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(denom))


def expected_max_sharpe(n_trials: int, sr_variance: float) -> float:
    """SR0: the per-bar Sharpe the best of ``n_trials`` skill-less trials is expected to show."""
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")
    if sr_variance < 0 or not math.isfinite(sr_variance):
        raise ValueError(f"sr_variance must be a finite number >= 0, got {sr_variance}")
    if n_trials == 1:
        return 0.0
    z1 = _N.inv_cdf(1.0 - 1.0 / n_trials)
    z2 = _N.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return math.sqrt(sr_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


@dataclass(frozen=True)
class DeflatedSharpe:
    """DSR of a selected trial and the numbers it came from (per-bar units)."""

    dsr: float
    sr0: float
    sr: float
    n_trials: int
    n_obs: int
    sr_variance: float
    skew: float
    kurt: float


def deflated_sharpe_ratio(
    sr: float,
    n_obs: int,
    n_trials: int,
    sr_variance: float,
    skew: float = 0.0,
    kurt: float = 3.0,
) -> DeflatedSharpe:
    """DSR = PSR(SR0) with SR0 from `expected_max_sharpe` (all Sharpes per bar)."""
    sr0 = expected_max_sharpe(n_trials, sr_variance)
    dsr = probabilistic_sharpe_ratio(sr, sr0, n_obs, skew, kurt)
    return DeflatedSharpe(dsr, sr0, sr, n_trials, n_obs, sr_variance, skew, kurt)


def deflated_sharpe_from_trials(
    trial_sharpes: np.ndarray, best_returns: np.ndarray, bars_per_year: float | None = None
) -> DeflatedSharpe:
    """DSR of the best trial, N = every trial run (``trial_sharpes``, annualized when
    ``bars_per_year`` is given, per bar otherwise; NaN = a trial that never traded, Sharpe 0).

    ``best_returns`` are the selected trial's per-bar returns (for its skewness and kurtosis).
    """
    s = np.asarray(trial_sharpes, dtype=np.float64)
    if s.size == 0:
        raise ValueError("no trials: cannot deflate a Sharpe ratio over zero trials")
    s = np.where(np.isfinite(s), s, 0.0)
    if bars_per_year is not None:
        s = s / math.sqrt(bars_per_year)
    sr, skew, kurt, n_obs = return_moments(best_returns)
    var = float(s.var(ddof=1)) if s.size > 1 else 0.0
    return deflated_sharpe_ratio(sr, n_obs, int(s.size), var, skew, kurt)


def partition_stats(returns: np.ndarray, n_splits: int) -> np.ndarray:
    """(3, trials, splits) sums, sums of squares and counts of a (bars x trials) return matrix
    over ``n_splits`` contiguous partitions (the layout `sweep.run_sweep` records)."""
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError("returns must be a (bars x trials) matrix")
    if n_splits < 2 or n_splits % 2 or n_splits > m.shape[0]:
        raise ValueError(f"n_splits must be even, >= 2 and <= bars ({m.shape[0]}), got {n_splits}")
    parts = np.array_split(np.arange(m.shape[0]), n_splits)
    out = np.empty((3, m.shape[1], n_splits))
    for p, idx in enumerate(parts):
        block = m[idx]
        out[0, :, p] = block.sum(axis=0)
        out[1, :, p] = (block * block).sum(axis=0)
        out[2, :, p] = idx.size
    return out


@njit(cache=True, nogil=True)
def _sharpe_from_sums(s: float, q: float, n: float) -> float:
    if n < 2.0:
        return 0.0
    mean = s / n
    var = (q - s * mean) / (n - 1.0)
    if var <= 0.0:
        return 0.0
    return mean / np.sqrt(var)


@njit(cache=True, nogil=True)
def _cscv_logits(stats: np.ndarray, train_sets: np.ndarray) -> np.ndarray:
    """Logit of the out-of-sample relative rank of the in-sample best, per train set."""
    n_trials = stats.shape[1]
    n_sets = train_sets.shape[0]
    tot = np.zeros((3, n_trials))
    for j in range(3):
        for k in range(n_trials):
            for p in range(stats.shape[2]):
                tot[j, k] += stats[j, k, p]
    logits = np.empty(n_sets)
    is_perf = np.empty(n_trials)
    oos_perf = np.empty(n_trials)
    for c in range(n_sets):
        for k in range(n_trials):
            s = 0.0
            q = 0.0
            n = 0.0
            for p in train_sets[c]:
                s += stats[0, k, p]
                q += stats[1, k, p]
                n += stats[2, k, p]
            is_perf[k] = _sharpe_from_sums(s, q, n)
            oos_perf[k] = _sharpe_from_sums(tot[0, k] - s, tot[1, k] - q, tot[2, k] - n)
        best = 0
        for k in range(1, n_trials):
            if is_perf[k] > is_perf[best]:
                best = k
        # Rank 1 = worst out of sample; ties share the average rank.
        below = 0.0
        equal = 0.0
        for k in range(n_trials):
            if oos_perf[k] < oos_perf[best]:
                below += 1.0
            elif oos_perf[k] == oos_perf[best]:
                equal += 1.0
        rank = below + (equal + 1.0) / 2.0
        w = rank / (n_trials + 1.0)
        logits[c] = np.log(w / (1.0 - w))
    return logits


@dataclass(frozen=True)
class PBOResult:
    """Probability of backtest overfitting and the logits it summarizes."""

    pbo: float
    logits: np.ndarray
    n_splits: int
    n_trials: int

    @property
    def n_combinations(self) -> int:
        return int(self.logits.size)


def pbo_cscv(stats: np.ndarray, n_splits: int | None = None) -> PBOResult:
    """PBO by CSCV from per-partition sums ``stats`` (3, trials, splits); Sharpe is the metric.

    A trial with no variance in a half (it never traded there) counts as Sharpe 0.
    """
    st = np.ascontiguousarray(stats, dtype=np.float64)
    if st.ndim != 3 or st.shape[0] != 3:
        raise ValueError("stats must have shape (3, trials, splits)")
    s = st.shape[2]
    if n_splits is not None and n_splits != s:
        raise ValueError(f"stats hold {s} partitions, expected {n_splits}")
    if s < 2 or s % 2:
        raise ValueError(f"CSCV needs an even number of partitions >= 2, got {s}")
    if st.shape[1] < 2:
        raise ValueError(f"PBO needs at least 2 trials, got {st.shape[1]}")
    train = np.array(list(combinations(range(s), s // 2)), dtype=np.int64)
    # The 12,870 splits are independent: share them between cores (the kernel drops the GIL).
    parts = np.array_split(train, max(1, min(os.cpu_count() or 1, train.shape[0])))
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        logits = np.concatenate(list(pool.map(lambda t: _cscv_logits(st, t), parts)))
    return PBOResult(float(np.mean(logits <= 0.0)), logits, s, int(st.shape[1]))


def pbo_from_returns(returns: np.ndarray, n_splits: int = 16) -> PBOResult:
    """PBO by CSCV of a (bars x trials) matrix of per-bar returns."""
    return pbo_cscv(partition_stats(returns, n_splits), n_splits)
