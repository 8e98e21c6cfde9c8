"""Numba trading kernel shared by single backtests and parameter sweeps.

One block runner (`run_block`) holds the whole execution model, so a single backtest, a
10,000-combination sweep and the plain-Python reference in the tests all mean the same thing.

Execution model (the honesty rules live here):

* ``action[i]`` is decided with information available *before* the open of bar ``i``
  (strategies shift their signals; the kernel never uses bar ``i``'s close to trade at its open).
* Orders fill at ``open[i]`` moved against the trader by ``cost_frac[i]`` (slippage plus half the
  quoted spread, as a fraction of the price); the fee (``fee`` fraction of filled notional) is paid
  on top, so an entry commits ``size * equity`` including its fee (the same convention as
  vectorbt's ``size=inf`` orders, which lets the benchmark compare to it exactly).
* Positions are held in units between trades (no hidden rebalancing). Equity is marked at each
  bar's close; the per-bar return is ``equity_close[i] / equity_close[i-1] - 1`` with the initial
  equity before bar 0. Fills at the open and marks at the close give the same total P&L as an
  open-to-open convention but an equity value that is observable at every bar end.
* Stop-loss, take-profit and the holding-period limit are evaluated on the close against the entry
  fill price and executed at the next bar's open: no intrabar path is assumed.

State lives in one float64 row per combination so a sweep can run a block of bars for one
combination, park its state, and move on: that keeps the bars of a block in cache while thousands
of combinations pass over them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ACTION_KEEP = 0
ACTION_LONG = 1
ACTION_SHORT = -1
ACTION_FLAT = 2

# Per-combination state row layout (float64): trading state, running statistics, strategy state.
S_CASH = 0
S_UNITS = 1
S_DIR = 2
S_ENTRY = 3
S_HELD = 4
S_PENDING = 5
S_PREV_EQ = 6
S_N = 7
S_SUM = 8
S_SUMSQ = 9
S_DOWNSQ = 10
S_GROWTH = 11
S_PEAK = 12
S_MAXDD = 13
S_DDCUR = 14
S_DDMAX = 15
S_NPOS = 16
S_NNZ = 17
S_GPROFIT = 18
S_GLOSS = 19
S_TURNOVER = 20
S_EXPOSURE = 21
S_NTRADES = 22
S_PREVPOS = 23
S_COST = 24
S_FLOOR = 25
S_STRAT_A = 26  # strategy-owned slot (the crossover's last strict side)
S_NEXT_ACTION = 27  # action decided at the last bar of a block, due at the next bar's open
STATE_SIZE = 28


@njit(cache=True, nogil=True)
def init_state(state: np.ndarray, k: int, initial_equity: float) -> None:
    """Reset row ``k`` of ``state`` to a flat account holding ``initial_equity`` in cash."""
    for j in range(STATE_SIZE):
        state[k, j] = 0.0
    state[k, S_CASH] = initial_equity
    state[k, S_PREV_EQ] = initial_equity
    state[k, S_GROWTH] = 1.0
    state[k, S_PEAK] = 1.0
    state[k, S_FLOOR] = 1.0


@njit(cache=True, nogil=True, inline="always")
def return_step(rs: tuple, r: float, g: float) -> tuple:
    """Fold one bar's net return ``r`` and the equity ``g`` after it into the statistics ``rs``.

    ``rs`` = (sum, sumsq, downsq, gprofit, gloss, npos, nnz, growth, peak, floor, maxdd, ddcur,
    ddmax). Everything the metrics need is a sum or a running extreme, so sweeps never store
    per-bar arrays. The sign of ``r`` is folded without branches (they would mispredict on half
    of all bars), and ``floor = peak * (1 + maxdd)`` avoids a division on every drawdown bar.
    """
    (s1, s2, down, gp, gl, npos, nnz, _, peak, floor, mdd, ddcur, ddmax) = rs
    s1 += r
    s2 += r * r
    neg = min(r, 0.0)
    down += neg * neg
    gl += neg
    gp += max(r, 0.0)
    npos += (r > 0.0) * 1.0
    nnz += (r != 0.0) * 1.0
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
    return (s1, s2, down, gp, gl, npos, nnz, g, peak, floor, mdd, ddcur, ddmax)


@njit(cache=True, nogil=True, inline="always")
def flat_step(rs: tuple) -> tuple:
    """`return_step` for a bar with a zero return (flat and not trading): only time passes."""
    (s1, s2, down, gp, gl, npos, nnz, g, peak, floor, mdd, ddcur, ddmax) = rs
    if g < peak:
        ddcur += 1.0
        ddmax = max(ddmax, ddcur)
    return (s1, s2, down, gp, gl, npos, nnz, g, peak, floor, mdd, ddcur, ddmax)


@njit(cache=True, nogil=True, inline="always")
def load_returns(state: np.ndarray, k: int) -> tuple:
    """Running return statistics of row ``k`` as the tuple `return_step` folds."""
    return (
        state[k, S_SUM],
        state[k, S_SUMSQ],
        state[k, S_DOWNSQ],
        state[k, S_GPROFIT],
        state[k, S_GLOSS],
        state[k, S_NPOS],
        state[k, S_NNZ],
        state[k, S_GROWTH],
        state[k, S_PEAK],
        state[k, S_FLOOR],
        state[k, S_MAXDD],
        state[k, S_DDCUR],
        state[k, S_DDMAX],
    )


@njit(cache=True, nogil=True, inline="always")
def store_returns(state: np.ndarray, k: int, rs: tuple) -> None:
    """Write the return statistics tuple back to row ``k``."""
    (s1, s2, down, gp, gl, npos, nnz, g, peak, floor, mdd, ddcur, ddmax) = rs
    state[k, S_SUM] = s1
    state[k, S_SUMSQ] = s2
    state[k, S_DOWNSQ] = down
    state[k, S_GPROFIT] = gp
    state[k, S_GLOSS] = gl
    state[k, S_NPOS] = npos
    state[k, S_NNZ] = nnz
    state[k, S_GROWTH] = g
    state[k, S_PEAK] = peak
    state[k, S_FLOOR] = floor
    state[k, S_MAXDD] = mdd
    state[k, S_DDCUR] = ddcur
    state[k, S_DDMAX] = ddmax


@njit(cache=True, nogil=True, inline="always")
def run_block(
    state: np.ndarray,
    k: int,
    open_: np.ndarray,
    close: np.ndarray,
    cost_frac: np.ndarray,
    actions: np.ndarray,
    a_off: int,
    i0: int,
    i1: int,
    size: float,
    fee: float,
    stop_loss: float,
    take_profit: float,
    holding_bars: int,
    allow_short: bool,
    record: bool,
    out: np.ndarray,
) -> None:
    """Advance row ``k`` over bars ``[i0, i1)``; ``actions[i - a_off]`` is bar i's action.

    Inside a bar: pending stop/holding exit and the bar's action at the open, the mark at the
    close, then the exit checks that act at the next open. With ``record`` the per-bar position,
    gross return, cost, net return and equity go to ``out[0..4, i]``. Position statistics
    (turnover, trades) change only when a trade happens, so they are updated there; a flat bar
    without a trade has a zero return and costs almost nothing.
    """
    cash = state[k, S_CASH]
    units = state[k, S_UNITS]
    cur = int(state[k, S_DIR])
    entry = state[k, S_ENTRY]
    held = state[k, S_HELD]
    pending = state[k, S_PENDING] != 0.0
    prev_eq = state[k, S_PREV_EQ]
    total_cost = state[k, S_COST]
    turn = state[k, S_TURNOVER]
    expo = state[k, S_EXPOSURE]
    ntr = state[k, S_NTRADES]
    check_move = stop_loss > 0.0 or take_profit > 0.0
    rs = load_returns(state, k)
    for i in range(i0, i1):
        a = actions[i - a_off]
        target = cur
        if a != ACTION_KEEP:
            if a == ACTION_LONG:
                target = 1
            elif a == ACTION_SHORT:
                target = -1 if allow_short else 0
            else:
                target = 0
        if pending:
            pending = False
            if target == cur:
                target = 0
        cost_ret = 0.0
        traded = target != cur
        if traded:
            o = open_[i]
            cf = cost_frac[i]
            cost = 0.0
            if units != 0.0:
                # Closing: a long sells below the open, a short buys back above it.
                px = o * (1.0 - cf) if units > 0.0 else o * (1.0 + cf)
                notional = abs(units) * px
                cash += units * px - fee * notional
                cost += abs(units) * o * cf + fee * notional
                units = 0.0
            if target != 0 and cash > 0.0:
                spend = size * cash
                if target > 0:
                    # A long entry spends exactly ``spend``: units at the fill price plus fee.
                    px = o * (1.0 + cf)
                    qty = spend / (px * (1.0 + fee))
                    units = qty
                    cash -= spend
                    cost += spend - qty * o
                else:
                    px = o * (1.0 - cf)
                    qty = spend / (px * (1.0 + fee))
                    units = -qty
                    notional = qty * px
                    cash += notional - fee * notional
                    cost += qty * o * cf + fee * notional
                entry = px
                held = 0.0
            elif target != 0:
                target = 0
            turn += abs(target - cur) * size
            if target != 0:
                ntr += 1.0
            cur = target
            cost_ret = cost / prev_eq
            total_cost += cost_ret
        if units != 0.0 or traded:
            c = close[i]
            eq = cash + units * c
            net = eq / prev_eq - 1.0
            prev_eq = eq
            rs = return_step(rs, net, eq)
            if cur != 0:
                expo += 1.0
                held += 1.0
                if check_move:
                    move = cur * (c / entry - 1.0)
                    if (stop_loss > 0.0 and move <= -stop_loss) or (
                        take_profit > 0.0 and move >= take_profit
                    ):
                        pending = True
                if holding_bars > 0 and held >= holding_bars:
                    pending = True
        else:
            net = 0.0
            rs = flat_step(rs)
        if record:
            out[0, i] = cur * size
            out[1, i] = net + cost_ret
            out[2, i] = cost_ret
            out[3, i] = net
            out[4, i] = prev_eq
    state[k, S_CASH] = cash
    state[k, S_UNITS] = units
    state[k, S_DIR] = cur
    state[k, S_ENTRY] = entry
    state[k, S_HELD] = held
    state[k, S_PENDING] = 1.0 if pending else 0.0
    state[k, S_PREV_EQ] = prev_eq
    state[k, S_COST] = total_cost
    state[k, S_TURNOVER] = turn
    state[k, S_EXPOSURE] = expo
    state[k, S_NTRADES] = ntr
    state[k, S_PREVPOS] = cur * size
    state[k, S_N] += i1 - i0
    store_returns(state, k, rs)


@njit(cache=True, nogil=True)
def simulate(
    open_: np.ndarray,
    close: np.ndarray,
    cost_frac: np.ndarray,
    action: np.ndarray,
    size: float,
    fee: float,
    stop_loss: float,
    take_profit: float,
    holding_bars: int,
    allow_short: bool,
    out: np.ndarray,
) -> np.ndarray:
    """Run one backtest, filling ``out`` (5 x n: position, gross, cost, net, equity).

    Returns the final state row (statistics for `metrics.finalize_stats`).
    """
    state = np.empty((1, STATE_SIZE))
    init_state(state, 0, 1.0)
    run_block(
        state,
        0,
        open_,
        close,
        cost_frac,
        action,
        0,
        0,
        open_.shape[0],
        size,
        fee,
        stop_loss,
        take_profit,
        holding_bars,
        allow_short,
        True,
        out,
    )
    return state[0].copy()


@njit(cache=True, nogil=True)
def accumulate_stats(net_returns: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Running statistics of a given return/position series (the kernel's own fold)."""
    state = np.empty((1, STATE_SIZE))
    init_state(state, 0, 1.0)
    rs = load_returns(state, 0)
    turn = 0.0
    expo = 0.0
    ntr = 0.0
    prev = 0.0
    g = 1.0
    for i in range(net_returns.shape[0]):
        g = g * (1.0 + net_returns[i])
        rs = return_step(rs, net_returns[i], g)
        p = positions[i]
        turn += abs(p - prev)
        if p != 0.0:
            expo += 1.0
            if p != prev:
                ntr += 1.0
        prev = p
    store_returns(state, 0, rs)
    state[0, S_N] = net_returns.shape[0]
    state[0, S_TURNOVER] = turn
    state[0, S_EXPOSURE] = expo
    state[0, S_NTRADES] = ntr
    state[0, S_PREVPOS] = prev
    return state[0].copy()
