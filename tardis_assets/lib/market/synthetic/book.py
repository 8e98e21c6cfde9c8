"""One limit order book per instrument: levels on a tick grid, in numba, with its L2 rows.

The book is one int64 array ``levels[side, tick - base]`` of resting size in lots (side 0 bids,
1 asks), a window of ticks around the touch that slides (``recenter``) as the price travels. The
kernel state record ``st`` (``plan.STATE_DTYPE``) keeps, per side, the best and the farthest
occupied tick and how many levels there are. Every change goes through ``set_level``, which also
writes its L2 row (the new absolute size, 0 removing the level, as tardis
``incremental_book_L2`` rows say), so the L2 stream is by construction the sequence of level
changes and replaying it rebuilds this book.

Integer lots and ticks keep the book exact: a level that a trade of 0.007 takes from 1.234 holds
exactly 1.227. Tick and lot sizes are decimals, ``m / 10**d``; a price is made once, as the
double nearest to ``tick * m / 10**d`` (``units.Decimals``), which is also what its CSV text
parses back to.

The book array, the stream keys and the rows of the message being processed live inside the
state record (fixed-size fields), not in separate arrays: numba reference-counts every array
passed to a function it does not inline (an atomic operation, ~20 ns per call), which would cost
more than the book itself does per message. Helpers therefore take the state and parameter
records only, and the event loop copies each message's pending rows to the output buffers.
"""

from __future__ import annotations

import numpy as np
from numba import njit

BID, ASK = 0, 1
NO_LEVEL = -1  # best/far of an empty side

# incremental_book_L2 rows (int64): exchange time, arrival, flags, absolute tick, lots
L2_T, L2_LOCAL, L2_FLAGS, L2_TICK, L2_LOTS = 0, 1, 2, 3, 4
L2_FIELDS = 5
FLAG_SNAPSHOT, FLAG_BID = 1, 2
WINDOW_TICKS = 1 << 18  # book width per side, in ticks; recentred as the price travels
PENDING_L2 = 2560  # L2 rows one message may write at most (depth_max <= 250)


@njit(cache=True, nogil=True)
def away(side: np.int64) -> np.int64:  # pragma: no cover - compiled
    """Tick direction away from the touch: down for bids, up for asks."""
    return -1 if side == BID else 1


@njit(cache=True, nogil=True)
def price_of(p, tick: np.int64) -> float:  # pragma: no cover - compiled
    """Price of an absolute tick, the double nearest to its exact decimal value."""
    return (tick * p.tick_m) / p.tick_unit


@njit(cache=True, nogil=True)
def _scan(st, side: np.int64, start: np.int64, stop: np.int64, step: np.int64) -> np.int64:
    """First occupied tick from ``start`` to ``stop`` (inclusive) in direction ``step``."""
    levels = st.levels
    rel = start
    while (rel - stop) * step <= 0:
        if levels[side, rel] > 0:
            return rel
        rel += step
    return NO_LEVEL


@njit(cache=True, nogil=True)
def set_level(st, side: np.int64, rel: np.int64, lots: np.int64) -> None:  # pragma: no cover
    """Set the size at one tick of one side (0 removes it) and queue its L2 row."""
    levels = st.levels
    old = levels[side, rel]
    levels[side, rel] = lots
    out = away(side)
    if old == 0 and lots > 0:
        st.count[side] += 1
        if st.count[side] == 1:
            st.best[side] = rel
            st.far[side] = rel
        elif (rel - st.best[side]) * out < 0:
            st.best[side] = rel
        elif (rel - st.far[side]) * out > 0:
            st.far[side] = rel
    elif old > 0 and lots == 0:
        st.count[side] -= 1
        if st.count[side] == 0:
            st.best[side] = NO_LEVEL
            st.far[side] = NO_LEVEL
        else:
            if rel == st.best[side]:
                st.best[side] = _scan(st, side, rel + out, st.far[side], out)
            if rel == st.far[side]:
                st.far[side] = _scan(st, side, rel - out, st.best[side], -out)
    if st.emit_l2:
        row = st.l2_pending_n
        pending = st.l2_pending
        pending[L2_T, row] = st.t
        pending[L2_LOCAL, row] = st.local
        pending[L2_FLAGS, row] = (FLAG_SNAPSHOT if st.snapshot else 0) | (
            FLAG_BID if side == BID else 0
        )
        pending[L2_TICK, row] = rel + st.base
        pending[L2_LOTS, row] = lots
        st.l2_pending_n = row + 1


@njit(cache=True, nogil=True)
def recenter(st, target: np.int64, margin: np.int64) -> np.int64:  # pragma: no cover - compiled
    """Slide the window so the target touch sits mid-array once it comes within ``margin``.

    ``target`` is relative to the current base; returns the shift applied (0 mostly). The shift
    copies the array and recounts both sides (levels that would leave the window are dropped
    consistently); it happens only after the price travelled over 100,000 ticks.
    """
    levels = st.levels
    width = levels.shape[1]
    if margin <= target < width - margin:
        return 0
    shift = target - width // 2
    moved = np.zeros_like(levels)
    for rel in range(width):
        src = rel + shift
        if 0 <= src < width:
            moved[:, rel] = levels[:, src]
    levels[:, :] = moved
    st.base += shift
    for side in range(2):
        st.count[side] = 0
        st.best[side] = NO_LEVEL
        st.far[side] = NO_LEVEL
        for rel in range(width):
            if levels[side, rel] > 0:
                st.count[side] += 1
                if st.best[side] == NO_LEVEL:
                    st.best[side] = rel  # lowest occupied tick
                st.far[side] = rel  # highest
        if side == BID:  # bids: the best is the highest tick, the far end the lowest
            st.best[side], st.far[side] = st.far[side], st.best[side]
    return shift


@njit(cache=True, nogil=True)
def top_levels(st, depth: np.int64, out) -> None:  # pragma: no cover - compiled
    """The best ``depth`` levels per side into ``out[0 ticks | 1 lots, side, level]``, from the
    touch outwards; missing levels (a thinner side) are tick -1 and 0 lots."""
    levels = st.levels
    for side in range(2):
        i = 0
        rel = st.best[side]
        step = away(side)
        if rel != NO_LEVEL:
            while i < depth and (rel - st.far[side]) * step <= 0:
                if levels[side, rel] > 0:
                    out[0, side, i] = rel + st.base
                    out[1, side, i] = levels[side, rel]
                    i += 1
                rel += step
        while i < depth:
            out[0, side, i] = -1
            out[1, side, i] = 0
            i += 1
