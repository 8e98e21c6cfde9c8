"""Numba lanes of the dual moving-average sweep: one thread runs one lane of combinations.

`dual_ma_long_lane` is the common case (long-only, all-in, no stops or holding limit);
`dual_ma_lane` handles any execution settings. Both find orders 64 bars at a time from bit
masks of "fast above / below slow" and run `kernel.run_block` on the bars that need it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from tardis_assets.lib.backtest import kernel as kn
from tardis_assets.lib.backtest import segments as sg
from tardis_assets.lib.backtest.sweep_plan import max_block_len, snapshot

ALL_BITS = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, nogil=True, inline="always")
def order_masks(fast: np.ndarray, slow: np.ndarray, s0: int, m: int) -> tuple[np.uint64, np.uint64]:
    """Bit j set where fast > slow (first mask) or fast < slow (second) at bar s0 + j.

    The full 64-bar case has a constant trip count so the compiler can vectorize it; that
    loop is the only per-bar work the fast lane does for most bars.
    """
    gt = np.uint64(0)
    lt = np.uint64(0)
    if m == 64:
        f = fast[s0 : s0 + 64]
        s = slow[s0 : s0 + 64]
        for j in range(64):
            gt |= np.uint64(f[j] > s[j]) << np.uint64(j)
            lt |= np.uint64(f[j] < s[j]) << np.uint64(j)
    else:
        for j in range(m):
            gt |= np.uint64(fast[s0 + j] > slow[s0 + j]) << np.uint64(j)
            lt |= np.uint64(fast[s0 + j] < slow[s0 + j]) << np.uint64(j)
    return gt, lt


@njit(cache=True, nogil=True, inline="always")
def _event_bar(
    state: np.ndarray,
    k: int,
    open_: np.ndarray,
    close: np.ndarray,
    cost_frac: np.ndarray,
    evbuf: np.ndarray,
    i: int,
    act: int,
    fee: float,
    unused: np.ndarray,
) -> None:
    evbuf[0] = act
    kn.run_block(
        state,
        k,
        open_,
        close,
        cost_frac,
        evbuf,
        i,
        i,
        i + 1,
        1.0,
        fee,
        0.0,
        0.0,
        0,
        False,
        False,
        unused,
    )


@njit(cache=True, nogil=True, inline="always")
def find_events(
    fast: np.ndarray,
    slow: np.ndarray,
    s0: int,
    s1: int,
    fv: int,
    side: float,
    nxt: int,
    down_action: int,
    ev_at: np.ndarray,
    ev_act: np.ndarray,
) -> tuple[float, int, int]:
    """Orders arriving in bars ``[s0, s1)`` (at most 65) from the crossover; returns
    (side, action due at ``s1``, number of events written to ``ev_at``/``ev_act``).

    ``nxt`` is the action decided at bar ``s0 - 1``. With no ties and no warm-up NaN in the
    sub-block, the crossings are the bits where "above" differs from the bar before, found
    from two 64-bit masks; otherwise the bars are scanned one by one (same rule as
    `strategies.cross_update`).
    """
    ne = 0
    if nxt != kn.ACTION_KEEP:
        ev_at[0] = s0
        ev_act[0] = nxt
        ne = 1
        nxt = kn.ACTION_KEEP
    m = s1 - s0
    full = ALL_BITS >> np.uint64(64 - m)
    gt, lt = order_masks(fast, slow, s0, m)
    if side != 0.0 and (gt | lt) == full:
        prev = np.uint64(1) if side > 0.0 else np.uint64(0)
        flips = (gt ^ ((gt << np.uint64(1)) | prev)) & full
        while flips != np.uint64(0):
            low = flips & (~flips + np.uint64(1))
            j = math.frexp(float(low))[1] - 1
            a = kn.ACTION_LONG if (gt >> np.uint64(j)) & np.uint64(1) else down_action
            if s0 + j + 1 < s1:
                ev_at[ne] = s0 + j + 1
                ev_act[ne] = a
                ne += 1
            else:
                nxt = a
            flips ^= low
        side = 1.0 if (gt >> np.uint64(m - 1)) & np.uint64(1) else -1.0
    elif s1 > fv:
        for i in range(max(s0, fv), s1):
            f = fast[i]
            s = slow[i]
            above = f > s
            below = f < s
            up = above & (side < 0.0)
            down = below & (side > 0.0)
            side = 1.0 if above else (-1.0 if below else side)
            if up | down:
                a = kn.ACTION_LONG if up else down_action
                if i + 1 < s1:
                    ev_at[ne] = i + 1
                    ev_act[ne] = a
                    ne += 1
                else:
                    nxt = a
    return side, nxt, ne


@njit(cache=True, nogil=True)
def dual_ma_lane(
    open_: np.ndarray,
    close: np.ndarray,
    cost_frac: np.ndarray,
    bank: np.ndarray,
    fast_row: np.ndarray,
    slow_row: np.ndarray,
    first_valid: np.ndarray,
    state: np.ndarray,
    c0: int,
    c1: int,
    bounds: np.ndarray,
    snap_at: np.ndarray,
    snap: np.ndarray,
    size: float,
    fee: float,
    stop_loss: float,
    take_profit: float,
    holding_bars: int,
    allow_short: bool,
) -> None:
    """Run combinations ``[c0, c1)`` over all bars, block by block (one thread's share).

    Any execution settings: bars with an order and bars in a position run `kernel.run_block`;
    flat stretches without a pending order only count time (`kernel.flat_segment`).
    """
    sub = sg.SUB
    keep = np.zeros(max_block_len(bounds) + 1, dtype=np.int8)
    evbuf = np.zeros(1, dtype=np.int8)
    unused = np.empty((5, 1))
    ev_at = np.empty(sub + 1, dtype=np.int64)
    ev_act = np.empty(sub + 1, dtype=np.int64)
    down_action = kn.ACTION_SHORT if allow_short else kn.ACTION_FLAT
    for b in range(bounds.shape[0] - 1):
        i0 = bounds[b]
        i1 = bounds[b + 1]
        for k in range(c0, c1):
            fast = bank[fast_row[k]]
            slow = bank[slow_row[k]]
            side = state[k, kn.S_STRAT_A]
            nxt = int(state[k, kn.S_NEXT_ACTION])
            pos = i0
            for s0 in range(i0, i1 + 1, sub):
                s1 = min(i1, s0 + sub)
                ne = 0
                if s1 > s0:
                    side, nxt, ne = find_events(
                        fast, slow, s0, s1, first_valid[k], side, nxt, down_action, ev_at, ev_act
                    )
                # A sentinel event at the block end flushes the last stretch.
                if s1 == i1:
                    ev_at[ne] = i1
                    ev_act[ne] = kn.ACTION_KEEP
                    ne += 1
                for e in range(ne):
                    i = ev_at[e]
                    if i > pos:
                        if state[k, kn.S_UNITS] == 0.0 and state[k, kn.S_PENDING] == 0.0:
                            sg.flat_segment(state, k, pos, i)
                        else:
                            kn.run_block(
                                state,
                                k,
                                open_,
                                close,
                                cost_frac,
                                keep,
                                pos,
                                pos,
                                i,
                                size,
                                fee,
                                stop_loss,
                                take_profit,
                                holding_bars,
                                allow_short,
                                False,
                                unused,
                            )
                    if i < i1:
                        evbuf[0] = ev_act[e]
                        kn.run_block(
                            state,
                            k,
                            open_,
                            close,
                            cost_frac,
                            evbuf,
                            i,
                            i,
                            i + 1,
                            size,
                            fee,
                            stop_loss,
                            take_profit,
                            holding_bars,
                            allow_short,
                            False,
                            unused,
                        )
                        pos = i + 1
                    else:
                        pos = i1
                if s1 == i1:
                    break
            state[k, kn.S_STRAT_A] = side
            state[k, kn.S_NEXT_ACTION] = nxt
        snapshot(state, c0, c1, snap, snap_at[b])


@njit(cache=True, nogil=True)
def dual_ma_long_lane(
    open_: np.ndarray,
    close: np.ndarray,
    cost_frac: np.ndarray,
    prefix: np.ndarray,
    coarse: np.ndarray,
    fine: np.ndarray,
    bank: np.ndarray,
    fast_row: np.ndarray,
    slow_row: np.ndarray,
    first_valid: np.ndarray,
    state: np.ndarray,
    c0: int,
    c1: int,
    bounds: np.ndarray,
    snap_at: np.ndarray,
    snap: np.ndarray,
    fee: float,
) -> None:
    """`dual_ma_lane` for the common case long-only, all-in, no stops or holding limit.

    Orders come from `find_events` (64 bars per step). Only bars where an order arrives go
    through `kernel.run_block`; the stretches between them are flat or a fully invested long,
    which `kernel.hold_segment` advances from shared prefix sums and block extremes. Same
    results as the general lane (tested), several times faster.
    """
    sub = sg.SUB
    evbuf = np.zeros(1, dtype=np.int8)
    unused = np.empty((5, 1))
    ev_at = np.empty(sub + 1, dtype=np.int64)
    ev_act = np.empty(sub + 1, dtype=np.int64)
    for b in range(bounds.shape[0] - 1):
        i0 = bounds[b]
        i1 = bounds[b + 1]
        for k in range(c0, c1):
            fast = bank[fast_row[k]]
            slow = bank[slow_row[k]]
            fv = first_valid[k]
            side = state[k, kn.S_STRAT_A]
            nxt = int(state[k, kn.S_NEXT_ACTION])
            pos = i0  # start of the stretch not yet advanced
            for s0 in range(i0, i1, sub):
                s1 = min(i1, s0 + sub)
                # `find_events` spelled out for the long-only case: as a call (even inlined)
                # it made this lane about 30% slower, and this loop is the benchmark.
                ne = 0
                if nxt != kn.ACTION_KEEP:
                    ev_at[0] = s0
                    ev_act[0] = nxt
                    ne = 1
                    nxt = kn.ACTION_KEEP
                m = s1 - s0
                full = ALL_BITS >> np.uint64(64 - m)
                gt, lt = order_masks(fast, slow, s0, m)
                if side != 0.0 and (gt | lt) == full:
                    prev = np.uint64(1) if side > 0.0 else np.uint64(0)
                    flips = (gt ^ ((gt << np.uint64(1)) | prev)) & full
                    while flips != np.uint64(0):
                        low = flips & (~flips + np.uint64(1))
                        j = math.frexp(float(low))[1] - 1
                        up = (gt >> np.uint64(j)) & np.uint64(1)
                        a = kn.ACTION_LONG if up else kn.ACTION_FLAT
                        if s0 + j + 1 < s1:
                            ev_at[ne] = s0 + j + 1
                            ev_act[ne] = a
                            ne += 1
                        else:
                            nxt = a
                        flips ^= low
                    side = 1.0 if (gt >> np.uint64(m - 1)) & np.uint64(1) else -1.0
                elif s1 > fv:
                    for i in range(max(s0, fv), s1):
                        f = fast[i]
                        s = slow[i]
                        above = f > s
                        below = f < s
                        up = above & (side < 0.0)
                        down = below & (side > 0.0)
                        side = 1.0 if above else (-1.0 if below else side)
                        if up | down:
                            a = kn.ACTION_LONG if up else kn.ACTION_FLAT
                            if i + 1 < s1:
                                ev_at[ne] = i + 1
                                ev_act[ne] = a
                                ne += 1
                            else:
                                nxt = a
                for e in range(ne):
                    i = ev_at[e]
                    if i > pos:
                        sg.hold_segment(state, k, close, prefix, coarse, fine, pos, i)
                    _event_bar(state, k, open_, close, cost_frac, evbuf, i, ev_act[e], fee, unused)
                    pos = i + 1
            if i1 > pos:
                sg.hold_segment(state, k, close, prefix, coarse, fine, pos, i1)
            state[k, kn.S_STRAT_A] = side
            state[k, kn.S_NEXT_ACTION] = nxt
        snapshot(state, c0, c1, snap, snap_at[b])
