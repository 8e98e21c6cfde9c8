"""Holding stretches advanced without a per-bar kernel step (used by the sweep lanes).

Between two orders a long-only, all-in account is either flat (zero returns) or holds a fixed
number of units with no cash, so its returns are the asset's own: their sums come from shared
prefix sums and only the drawdown bookkeeping needs the prices, which block extremes let it
skip most of the time. Results equal `kernel.run_block` bar by bar (tested).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tardis_assets.lib.backtest.kernel import (
    S_DDCUR,
    S_DDMAX,
    S_DOWNSQ,
    S_EXPOSURE,
    S_FLOOR,
    S_GLOSS,
    S_GPROFIT,
    S_GROWTH,
    S_HELD,
    S_MAXDD,
    S_N,
    S_NNZ,
    S_NPOS,
    S_PEAK,
    S_PREV_EQ,
    S_SUM,
    S_SUMSQ,
    S_UNITS,
)


@njit(cache=True, nogil=True)
def asset_prefix(close: np.ndarray) -> np.ndarray:
    """Prefix sums over the close-to-close asset returns ``a[i] = close[i] / close[i-1] - 1``.

    Columns: sum a, sum a^2, sum min(a, 0)^2, sum max(a, 0), count a > 0, count a != 0; row i
    covers bars before i (a[0] = 0); row-major, so one lookup touches one cache line. A fully
    invested long that does not trade earns exactly ``a`` each bar, so its return statistics
    over a holding stretch are two lookups.
    """
    n = close.shape[0]
    out = np.zeros((n + 1, 6))
    for i in range(n):
        a = close[i] / close[i - 1] - 1.0 if i > 0 else 0.0
        neg = min(a, 0.0)
        out[i + 1, 0] = out[i, 0] + a
        out[i + 1, 1] = out[i, 1] + a * a
        out[i + 1, 2] = out[i, 2] + neg * neg
        out[i + 1, 3] = out[i, 3] + max(a, 0.0)
        out[i + 1, 4] = out[i, 4] + (a > 0.0) * 1.0
        out[i + 1, 5] = out[i, 5] + (a != 0.0) * 1.0
    return out


SUB = 64  # bars per coarse summary block of `close_extremes`
FINE = 8  # bars per fine summary block


@njit(cache=True, nogil=True)
def close_extremes(close: np.ndarray, width: int) -> np.ndarray:
    """Max and min close of each aligned block of ``width`` bars (rows 0 and 1)."""
    n = close.shape[0]
    nb = (n + width - 1) // width
    out = np.empty((2, nb))
    for b in range(nb):
        hi = close[b * width]
        lo = hi
        for j in range(b * width, min(n, (b + 1) * width)):
            hi = max(hi, close[j])
            lo = min(lo, close[j])
        out[0, b] = hi
        out[1, b] = lo
    return out


@njit(cache=True, nogil=True, inline="always")
def flat_segment(state: np.ndarray, k: int, p: int, q: int) -> None:
    """Advance a flat row ``k`` with no pending order over bars ``[p, q)``: zero returns, so
    only the bar count and the time spent under a previous peak change."""
    state[k, S_N] += q - p
    if state[k, S_GROWTH] < state[k, S_PEAK]:
        cur = state[k, S_DDCUR] + (q - p)
        state[k, S_DDCUR] = cur
        state[k, S_DDMAX] = max(state[k, S_DDMAX], cur)


@njit(cache=True, nogil=True, inline="always")
def hold_segment(
    state: np.ndarray,
    k: int,
    close: np.ndarray,
    prefix: np.ndarray,
    coarse: np.ndarray,
    fine: np.ndarray,
    p: int,
    q: int,
) -> None:
    """Advance row ``k`` over bars ``[p, q)`` in which it neither trades nor has exits armed.

    Valid only for a flat account or a fully invested long (cash exactly 0, which `run_block`
    guarantees for ``size == 1`` long entries): then the bar returns are 0 or the asset's own,
    return sums come from `asset_prefix`, and the drawdown pass skips every aligned block whose
    close extremes show it can neither set a new peak nor a deeper drawdown (multiplying by
    the positive unit count preserves the order, so the skip is exact).
    """
    units = state[k, S_UNITS]
    if units == 0.0:
        flat_segment(state, k, p, q)
        return
    state[k, S_N] += q - p
    g = state[k, S_GROWTH]
    peak = state[k, S_PEAK]
    ddcur = state[k, S_DDCUR]
    ddmax = state[k, S_DDMAX]
    state[k, S_SUM] += prefix[q, 0] - prefix[p, 0]
    state[k, S_SUMSQ] += prefix[q, 1] - prefix[p, 1]
    state[k, S_DOWNSQ] += prefix[q, 2] - prefix[p, 2]
    gp = prefix[q, 3] - prefix[p, 3]
    state[k, S_GPROFIT] += gp
    state[k, S_GLOSS] += (prefix[q, 0] - prefix[p, 0]) - gp
    state[k, S_NPOS] += prefix[q, 4] - prefix[p, 4]
    state[k, S_NNZ] += prefix[q, 5] - prefix[p, 5]
    floor = state[k, S_FLOOR]
    mdd = state[k, S_MAXDD]
    j = p
    while j < q:
        # Skip a whole aligned block when its close range can neither reach the peak nor
        # undercut the floor: every bar in it is simply one more bar under water.
        if j % SUB == 0 and j + SUB <= q:
            b = j // SUB
            if units * coarse[0, b] < peak and units * coarse[1, b] >= floor:
                ddcur += SUB
                ddmax = max(ddmax, ddcur)
                j += SUB
                continue
        if j % FINE == 0 and j + FINE <= q:
            b = j // FINE
            if units * fine[0, b] < peak and units * fine[1, b] >= floor:
                ddcur += FINE
                ddmax = max(ddmax, ddcur)
                j += FINE
                continue
            end = j + FINE
        else:
            end = min(q, (j // FINE + 1) * FINE)
        for jj in range(j, end):
            g = units * close[jj]
            if g >= peak:
                peak = g
                floor = peak * (1.0 + mdd)
                ddcur = 0.0
            else:
                ddcur += 1.0
                ddmax = max(ddmax, ddcur)
                if g < floor:
                    mdd = (g - peak) / peak
                    floor = g
        j = end
    g = units * close[q - 1]
    state[k, S_GROWTH] = g
    state[k, S_PREV_EQ] = g
    state[k, S_PEAK] = peak
    state[k, S_FLOOR] = floor
    state[k, S_MAXDD] = mdd
    state[k, S_DDCUR] = ddcur
    state[k, S_DDMAX] = ddmax
    state[k, S_EXPOSURE] += q - p
    state[k, S_HELD] += q - p
