"""A price-level depth book for the replay: one array slot per tick around the traded price.

Why an array and not a map: a day replays tens of millions of level updates and the engine must
beat hftbacktest's fastest book (its ROI vector, the same idea). A slot per tick in a region of
interest makes an update O(1) and the best price a short scan after the best level empties.

The region covers ``ROI_FRACTION`` of the first price on each side (capped at ``MAX_SLOTS``
slots). A level outside it is dropped and counted (``BS_DROPPED``) unless it would become the
best price of its side: then the region is re-centred on it (``BS_RECENTRED``), keeping every
level that still fits. Levels follow the tardis rules: ``amount`` is the absolute new size and 0
removes the level. Sides: 0 = bids, 1 = asks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tardis_assets.lib.execution.events import (
    K_BID,
    K_SNAP_BEGIN,
    K_SNAP_END,
    K_TOP_ASK,
    K_TOP_BID,
    K_TRADE_BUY,
    K_TRADE_SELL,
    K_TRADE_UNKNOWN,
)

BID = 0
ASK = 1
NONE = -1

BS_BASE = 0  # tick index held by slot 0
BS_SLOTS = 1
BS_BEST_BID = 2  # slot, NONE if the side is empty
BS_BEST_ASK = 3
BS_NBID = 4  # non-empty levels per side
BS_NASK = 5
BS_GEN = 6  # snapshot generation (levels restated by the running snapshot carry it)
BS_DROPPED = 7
BS_RECENTRED = 8
BS_READY = 9  # 1 once a level has been set
BS_WORST_BID = 10  # slot of the deepest level per side (bounds every scan), NONE if empty
BS_WORST_ASK = 11
BS_SIZE = 12

# `replay_events` guard with no resting order: every range empty
NO_GUARD = (
    np.iinfo(np.int64).max,
    np.iinfo(np.int64).min,
    np.iinfo(np.int64).max,
    np.iinfo(np.int64).min,
)

# why `replay_events` returned
RE_DONE = 0  # every event up to the bound is applied
RE_BAND = 1  # the mid left the watched band after the last applied event
RE_GUARD = 2  # the next event may touch a resting order: left for the engine

ROI_FRACTION = 0.5
MAX_SLOTS = 1 << 21
MIN_SLOTS = 1 << 12


def roi_slots(first_price: float, tick: float) -> int:
    """Slots covering +-ROI_FRACTION of ``first_price`` on a ``tick`` grid (bounded)."""
    want = int(2 * ROI_FRACTION * first_price / tick) + 1
    return int(min(max(want, MIN_SLOTS), MAX_SLOTS))


def new_book(slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(qty[2, slots], gen[2, slots], state) of an empty book not yet placed on the grid."""
    qty = np.zeros((2, slots), dtype=np.float64)
    gen = np.zeros((2, slots), dtype=np.int64)
    bs = np.zeros(BS_SIZE, dtype=np.int64)
    bs[BS_SLOTS] = slots
    bs[BS_BEST_BID] = NONE
    bs[BS_BEST_ASK] = NONE
    bs[BS_WORST_BID] = NONE
    bs[BS_WORST_ASK] = NONE
    bs[BS_BASE] = np.iinfo(np.int64).min
    return qty, gen, bs


@njit(cache=True, nogil=True)
def best_index(bs: np.ndarray, side: int) -> int:
    """Tick index of the best level of ``side``, NONE if the side is empty."""
    slot = bs[BS_BEST_BID] if side == BID else bs[BS_BEST_ASK]
    if slot == NONE:
        return NONE
    return bs[BS_BASE] + slot


@njit(cache=True, nogil=True)
def level_at(qty: np.ndarray, bs: np.ndarray, side: int, pidx: int) -> float:
    """Displayed size at tick ``pidx`` (0 outside the region)."""
    slot = pidx - bs[BS_BASE]
    if slot < 0 or slot >= bs[BS_SLOTS]:
        return 0.0
    return qty[side, slot]


@njit(cache=True, nogil=True)
def scan_slots(qty: np.ndarray, bs: np.ndarray, side: int, start: int, down: bool) -> int:
    """First non-empty slot of ``side`` from ``start`` moving down (or up), NONE if there is
    none: the one walk behind the best and the worst level of either side."""
    count = bs[BS_NBID] if side == BID else bs[BS_NASK]
    if count == 0:
        return NONE
    n = bs[BS_SLOTS]
    if down:
        s = min(start, n - 1)
        while s >= 0 and qty[side, s] == 0.0:
            s -= 1
        return s if s >= 0 else NONE
    s = max(start, 0)
    while s < n and qty[side, s] == 0.0:
        s += 1
    return s if s < n else NONE


@njit(cache=True, nogil=True)
def scan_best(qty: np.ndarray, bs: np.ndarray, side: int, start: int) -> int:
    """Best non-empty slot at or beyond ``start`` (down for bids, up for asks)."""
    return scan_slots(qty, bs, side, start, side == BID)


@njit(cache=True, nogil=True)
def scan_worst(qty: np.ndarray, bs: np.ndarray, side: int, start: int) -> int:
    """Deepest non-empty slot at or inside ``start`` (up for bids, down for asks)."""
    return scan_slots(qty, bs, side, start, side != BID)


@njit(cache=True, nogil=True)
def recentre(qty: np.ndarray, gen: np.ndarray, bs: np.ndarray, pidx: int) -> None:
    """Move the region so ``pidx`` sits in its middle, keeping the levels that still fit."""
    n = bs[BS_SLOTS]
    new_base = pidx - n // 2
    if bs[BS_READY] == 0 or (bs[BS_NBID] == 0 and bs[BS_NASK] == 0):
        qty[:, :] = 0.0
        bs[BS_BASE] = new_base
        bs[BS_BEST_BID] = NONE
        bs[BS_BEST_ASK] = NONE
        bs[BS_WORST_BID] = NONE
        bs[BS_WORST_ASK] = NONE
        bs[BS_NBID] = 0
        bs[BS_NASK] = 0
        return
    shift = new_base - bs[BS_BASE]
    old_q = qty.copy()
    old_g = gen.copy()
    qty[:, :] = 0.0
    counts = np.zeros(2, dtype=np.int64)
    for side in range(2):
        for s in range(n):
            q = old_q[side, s]
            if q == 0.0:
                continue
            t = s - shift
            if 0 <= t < n:
                qty[side, t] = q
                gen[side, t] = old_g[side, s]
                counts[side] += 1
            else:
                bs[BS_DROPPED] += 1
    bs[BS_BASE] = new_base
    bs[BS_NBID] = counts[BID]
    bs[BS_NASK] = counts[ASK]
    bs[BS_BEST_BID] = scan_best(qty, bs, BID, n - 1)
    bs[BS_BEST_ASK] = scan_best(qty, bs, ASK, 0)
    bs[BS_WORST_BID] = scan_worst(qty, bs, BID, 0)
    bs[BS_WORST_ASK] = scan_worst(qty, bs, ASK, n - 1)
    bs[BS_RECENTRED] += 1


@njit(cache=True, nogil=True)
def set_level(
    qty: np.ndarray, gen: np.ndarray, bs: np.ndarray, side: int, pidx: int, amount: float
) -> float:
    """Set the size at ``pidx``; returns the previous size, or -1.0 if the level was dropped."""
    n = bs[BS_SLOTS]
    if bs[BS_READY] == 0:
        recentre(qty, gen, bs, pidx)
        bs[BS_READY] = 1
    slot = pidx - bs[BS_BASE]
    if slot < 0 or slot >= n:
        if amount <= 0.0:
            return 0.0
        best = best_index(bs, side)
        better = best == NONE or (pidx > best if side == BID else pidx < best)
        if not better:
            bs[BS_DROPPED] += 1
            return -1.0
        recentre(qty, gen, bs, pidx)
        slot = pidx - bs[BS_BASE]
    prev = qty[side, slot]
    new = amount if amount > 0.0 else 0.0
    qty[side, slot] = new
    gen[side, slot] = bs[BS_GEN]
    if side == BID:
        if prev == 0.0 and new > 0.0:
            bs[BS_NBID] += 1
            if bs[BS_BEST_BID] == NONE or slot > bs[BS_BEST_BID]:
                bs[BS_BEST_BID] = slot
            if bs[BS_WORST_BID] == NONE or slot < bs[BS_WORST_BID]:
                bs[BS_WORST_BID] = slot
        elif prev > 0.0 and new == 0.0:
            bs[BS_NBID] -= 1
            if slot == bs[BS_BEST_BID]:
                bs[BS_BEST_BID] = scan_best(qty, bs, BID, slot - 1)
            if slot == bs[BS_WORST_BID]:
                bs[BS_WORST_BID] = scan_worst(qty, bs, BID, slot + 1)
    else:
        if prev == 0.0 and new > 0.0:
            bs[BS_NASK] += 1
            if bs[BS_BEST_ASK] == NONE or slot < bs[BS_BEST_ASK]:
                bs[BS_BEST_ASK] = slot
            if bs[BS_WORST_ASK] == NONE or slot > bs[BS_WORST_ASK]:
                bs[BS_WORST_ASK] = slot
        elif prev > 0.0 and new == 0.0:
            bs[BS_NASK] -= 1
            if slot == bs[BS_BEST_ASK]:
                bs[BS_BEST_ASK] = scan_best(qty, bs, ASK, slot + 1)
            if slot == bs[BS_WORST_ASK]:
                bs[BS_WORST_ASK] = scan_worst(qty, bs, ASK, slot - 1)
    return prev


@njit(cache=True, nogil=True)
def next_level(qty: np.ndarray, bs: np.ndarray, side: int, pidx: int) -> int:
    """Tick index of the next non-empty level worse than ``pidx`` on ``side`` (NONE if none)."""
    s = pidx - bs[BS_BASE]
    if side == BID:
        stop = bs[BS_WORST_BID]
        if stop == NONE:
            return NONE
        s = min(s - 1, bs[BS_SLOTS] - 1)
        while s >= stop and qty[BID, s] == 0.0:
            s -= 1
        return NONE if s < stop else bs[BS_BASE] + s
    stop = bs[BS_WORST_ASK]
    if stop == NONE:
        return NONE
    s = max(s + 1, 0)
    while s <= stop and qty[ASK, s] == 0.0:
        s += 1
    return NONE if s > stop else bs[BS_BASE] + s


@njit(cache=True, nogil=True)
def level_generation(gen: np.ndarray, bs: np.ndarray, side: int, pidx: int) -> int:
    slot = pidx - bs[BS_BASE]
    if slot < 0 or slot >= bs[BS_SLOTS]:
        return -1
    return gen[side, slot]


@njit(cache=True, nogil=True, inline="always")
def tick_index(price: float, tick: float, inverse: float) -> int:
    """Tick index of a price (see `ticks.PriceGrid`)."""
    if inverse > 0.0:
        return int(np.round(price * inverse))
    return int(np.round(price / tick))


@njit(cache=True, nogil=True)
def end_snapshot(qty: np.ndarray, gen: np.ndarray, bs: np.ndarray) -> None:
    """Remove every level the snapshot that just ended did not restate."""
    cur = bs[BS_GEN]
    for side in range(2):
        p = best_index(bs, side)
        while p != NONE:
            nxt = next_level(qty, bs, side, p)
            if level_generation(gen, bs, side, p) != cur:
                set_level(qty, gen, bs, side, p, 0.0)
            p = nxt


@njit(cache=True, nogil=True)
def set_top(
    qty: np.ndarray,
    gen: np.ndarray,
    bs: np.ndarray,
    side: int,
    price: float,
    amount: float,
    fuse: bool,
    tick: float,
    inverse: float,
) -> None:
    """A quote's side: with ``fuse`` it refreshes the top of a depth book (better levels go),
    otherwise it is the whole side (every other level goes). NaN price: an empty side."""
    if not np.isfinite(price):
        if not fuse:
            p = best_index(bs, side)
            while p != NONE:
                set_level(qty, gen, bs, side, p, 0.0)
                p = best_index(bs, side)
        return
    pidx = tick_index(price, tick, inverse)
    p = best_index(bs, side)
    if fuse:
        while p != NONE and ((side == BID and p > pidx) or (side == ASK and p < pidx)):
            set_level(qty, gen, bs, side, p, 0.0)
            p = best_index(bs, side)
    else:
        while p != NONE:
            nxt = next_level(qty, bs, side, p)
            if p != pidx:
                set_level(qty, gen, bs, side, p, 0.0)
            p = nxt
    set_level(qty, gen, bs, side, pidx, amount)


@njit(cache=True, nogil=True)
def replay_events(q, g, bs, times, kinds, px, qty, i, bound, fuse, tick, inverse, lo, hi, guard):
    """Apply feed events ``i, i+1, ...`` with ``times <= bound`` to the book; stop early right
    after a message that puts the mid outside ``(lo, hi)`` (RE_BAND), or just before an event
    that could touch a resting order (RE_GUARD; not applied).

    ``guard`` = (lowest, highest) resting buy and (lowest, highest) resting sell tick index
    (an empty range has lowest > highest): an event is guarded when it changes a level inside
    a range, may cross one (a bid at or above the lowest sell, an ask at or below the highest
    buy; a quote also removes the levels it outdates), is a trade that reaches one, or ends a
    snapshot. Everything else cannot change a resting order and is applied here.

    Returns (next index, last trade price seen or NaN, RE_DONE / RE_BAND / RE_GUARD). This is
    the replay's hot loop: level updates are written out here rather than called, because a
    numba call that takes arrays (even an inlined one) pays reference counting on every event,
    several times the cost of the update itself. Every level change of an event (an L2 row; a
    quote's removals of outdated levels, then its own level) goes through the one update block
    below, whose logic is `set_level`'s; the rare cases off this path (a level outside the
    region, an empty quote side, the end of a snapshot) call the functions.
    """
    n = times.shape[0]
    slots = bs[BS_SLOTS]
    last_trade = np.nan
    watch = lo > -np.inf or hi < np.inf
    b_lo, b_hi, s_lo, s_hi = guard
    guarded = b_lo <= b_hi or s_lo <= s_hi
    while i < n and times[i] <= bound:
        k = kinds[i]
        p = px[i]
        if guarded:
            if k == K_SNAP_END:
                return i, last_trade, RE_GUARD
            if np.isfinite(p) and k != K_SNAP_BEGIN:
                x = tick_index(p, tick, inverse)
                if k <= K_TRADE_UNKNOWN:
                    hit = (k == K_TRADE_SELL and x <= b_hi) or (k == K_TRADE_BUY and x >= s_lo)
                elif k == K_BID or k == K_TOP_BID:  # noqa: SIM109 - numba
                    # a fused quote removes the bids above it; a whole-book quote all others
                    removes = k == K_TOP_BID and (b_hi > x or (not fuse and b_lo <= b_hi))
                    hit = (b_lo <= x <= b_hi) or x >= s_lo or removes
                else:
                    removes = k == K_TOP_ASK and (s_lo < x or (not fuse and s_lo <= s_hi))
                    hit = (s_lo <= x <= s_hi) or x <= b_hi or removes
                if hit:
                    return i, last_trade, RE_GUARD
        if k <= K_TRADE_UNKNOWN:
            last_trade = p
        elif k == K_SNAP_BEGIN:
            bs[BS_GEN] += 1
        elif k == K_SNAP_END:
            end_snapshot(q, g, bs)
        elif np.isfinite(p):
            top = k >= K_TOP_BID  # quotes (K_TOP_BID, K_TOP_ASK) are the last kinds
            side = BID if (k == K_BID or k == K_TOP_BID) else ASK  # noqa: SIM109 - numba
            target = tick_index(p, tick, inverse)
            while True:
                # which level changes next: a quote first removes the levels it outdates
                pidx = target
                amount = qty[i]
                final = True
                if top and bs[BS_READY] != 0:
                    b = bs[BS_BEST_BID] if side == BID else bs[BS_BEST_ASK]
                    w = bs[BS_WORST_BID] if side == BID else bs[BS_WORST_ASK]
                    slot_t = target - bs[BS_BASE]
                    better = b != NONE and (b > slot_t if side == BID else b < slot_t)
                    if better or (not fuse and b != NONE and b != slot_t):
                        pidx = bs[BS_BASE] + b
                        amount = 0.0
                        final = False
                    elif not fuse and w != NONE and w != slot_t:
                        pidx = bs[BS_BASE] + w
                        amount = 0.0
                        final = False
                slot = pidx - bs[BS_BASE]
                if bs[BS_READY] != 0 and 0 <= slot < slots:
                    prev = q[side, slot]
                    new = amount if amount > 0.0 else 0.0
                    q[side, slot] = new
                    g[side, slot] = bs[BS_GEN]
                    if prev == 0.0 and new > 0.0:
                        if side == BID:
                            bs[BS_NBID] += 1
                            if bs[BS_BEST_BID] == NONE or slot > bs[BS_BEST_BID]:
                                bs[BS_BEST_BID] = slot
                            if bs[BS_WORST_BID] == NONE or slot < bs[BS_WORST_BID]:
                                bs[BS_WORST_BID] = slot
                        else:
                            bs[BS_NASK] += 1
                            if bs[BS_BEST_ASK] == NONE or slot < bs[BS_BEST_ASK]:
                                bs[BS_BEST_ASK] = slot
                            if bs[BS_WORST_ASK] == NONE or slot > bs[BS_WORST_ASK]:
                                bs[BS_WORST_ASK] = slot
                    elif prev > 0.0 and new == 0.0:
                        # `scan_best` / `scan_worst` written out: a non-empty side always has
                        # a level between its best and its worst
                        if side == BID:
                            bs[BS_NBID] -= 1
                            if bs[BS_NBID] == 0:
                                bs[BS_BEST_BID] = NONE
                                bs[BS_WORST_BID] = NONE
                            else:
                                if slot == bs[BS_BEST_BID]:
                                    s = slot - 1
                                    while q[BID, s] == 0.0:
                                        s -= 1
                                    bs[BS_BEST_BID] = s
                                if slot == bs[BS_WORST_BID]:
                                    s = slot + 1
                                    while q[BID, s] == 0.0:
                                        s += 1
                                    bs[BS_WORST_BID] = s
                        else:
                            bs[BS_NASK] -= 1
                            if bs[BS_NASK] == 0:
                                bs[BS_BEST_ASK] = NONE
                                bs[BS_WORST_ASK] = NONE
                            else:
                                if slot == bs[BS_BEST_ASK]:
                                    s = slot + 1
                                    while q[ASK, s] == 0.0:
                                        s += 1
                                    bs[BS_BEST_ASK] = s
                                if slot == bs[BS_WORST_ASK]:
                                    s = slot - 1
                                    while q[ASK, s] == 0.0:
                                        s -= 1
                                    bs[BS_WORST_ASK] = s
                else:
                    set_level(q, g, bs, side, pidx, amount)
                if final:
                    break
        elif (k == K_TOP_BID or k == K_TOP_ASK) and not fuse:  # noqa: SIM109
            set_top(q, g, bs, BID if k == K_TOP_BID else ASK, p, qty[i], fuse, tick, inverse)
        i += 1
        # the mid is watched once a message is complete (its events share one time): a quote's
        # bid and ask, or a snapshot, are never seen half applied
        if watch and (i >= n or times[i] != times[i - 1]):
            b = bs[BS_BEST_BID]
            a = bs[BS_BEST_ASK]
            if b != NONE and a != NONE:
                base = bs[BS_BASE]
                if inverse > 0.0:
                    mid = 0.5 * ((base + b) / inverse + (base + a) / inverse)
                else:
                    mid = 0.5 * ((base + b) * tick + (base + a) * tick)
                if mid <= lo or mid >= hi:
                    return i, last_trade, RE_BAND
    return i, last_trade, RE_DONE
