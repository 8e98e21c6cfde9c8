"""The matching engine's side of the replay: the exchange book, order arrival, fills.

Our orders never move the replayed market's own messages; they meet it by these rules:

* **Aggressive orders** (market, or a limit that crosses) take the visible depth level by level
  at each level's price, one fill per level (``FI_LEVEL`` = 0 for the best). With
  ``consume_liquidity`` the taken size is removed from the engine's copy of the book until the
  feed restates that level (its next absolute update), so a second order right after the first
  walks deeper instead of taking the same size twice.
* **Depth exhausted**: a market order takes what is visible (at most ``max_walk_levels`` levels,
  all when 0) and the rest **expires** (IOC); with only quotes the visible depth is the top
  level. The strategy then sees the remainder unfilled and re-sends it at its next check, by which
  time the feed has refreshed the book. A limit order's rest rests (GTC) or expires (IOC).
* **Post-only** limits that would cross at arrival are rejected whole.
* **Resting orders** join behind the displayed size at their price and fill by the queue model
  (`queue`): trades at their price advance them and fill them partially once they reach the
  front; a trade at a better price than theirs (trade-through), or the opposite best price
  reaching theirs, fills all that is left. Maker fills pay the maker fee (negative: a rebate).

Every fill moves position, cash and fees at once and sends a response that the strategy
receives a response latency later.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tardis_assets.lib.execution.book import (
    ASK,
    BID,
    BS_GEN,
    NONE,
    best_index,
    level_at,
    level_generation,
    next_level,
    set_level,
)
from tardis_assets.lib.execution.events import (
    K_ASK,
    K_BID,
    K_SNAP_BEGIN,
    K_SNAP_END,
    K_TOP_ASK,
    K_TOP_BID,
    K_TRADE_BUY,
    K_TRADE_SELL,
    K_TRADE_UNKNOWN,
)
from tardis_assets.lib.execution.orders import (
    BUY,
    FF_CASH,
    FF_FEE,
    FF_MID,
    FF_POS,
    FF_PRICE,
    FF_QTY,
    FI_KNOWN,
    FI_LEVEL,
    FI_MAKER,
    FI_ORDER,
    FI_SIDE,
    FI_TS,
    OF_ARR_ASK,
    OF_ARR_BID,
    OF_CUM,
    OF_FEE,
    OF_FILLED,
    OF_FRONT,
    OF_FRONT0,
    OF_LEAVES,
    OF_NOTIONAL,
    OF_QTY,
    OI_ARRIVED,
    OI_DONE,
    OI_LEVELS,
    OI_NFILLS,
    OI_PIDX,
    OI_SIDE,
    OI_STATUS,
    OI_TIF,
    OI_TYPE,
    OT_MARKET,
    SELL,
    ST_CANCELED,
    ST_EXPIRED,
    ST_FILLED,
    ST_OPEN,
    ST_REJECTED,
    TIF_IOC,
    TIF_POST_ONLY,
)
from tardis_assets.lib.execution.queue import executable, on_depth, on_trade
from tardis_assets.lib.execution.state import (
    MAX_RESTING,
    PF_MAKER,
    PF_QPOW,
    PF_TAKER,
    PI_CONSUME,
    PI_MAX_LEVELS,
    PI_QUEUE,
    PI_RESP_LAT,
    RESP_ACK,
    RESP_CANCEL_REJECT,
    RESP_DONE,
    RESP_FILL,
    RS_FILL,
    RS_KIND,
    RS_ORDER,
    RS_TIME,
    SF_CASH,
    SF_FEES,
    SF_LAST_MID,
    SF_LAST_TRADE,
    SF_POS,
    SI_N_FILLS,
    SI_N_REST,
    SI_RESP_TAIL,
    X_FF,
    X_FI,
    X_OF,
    X_OI,
    X_PF,
    X_PI,
    X_RESP,
    X_REST,
    X_SF,
    X_SI,
    index_of,
    price_of,
)

WALK_CAP = 1_000  # levels one aggressive order may take when max_walk_levels is 0


@njit(cache=True, nogil=True)
def push_response(resp, si, t, oid, kind, fid) -> None:
    k = si[SI_RESP_TAIL]
    resp[k, RS_TIME] = t
    resp[k, RS_ORDER] = oid
    resp[k, RS_KIND] = kind
    resp[k, RS_FILL] = fid
    si[SI_RESP_TAIL] = k + 1


@njit(cache=True, nogil=True)
def book_mid(bs, pf) -> float:
    """Mid of the book's best prices (NaN when a side is empty)."""
    b = best_index(bs, BID)
    a = best_index(bs, ASK)
    if b == NONE or a == NONE:
        return np.nan
    return 0.5 * (price_of(b, pf) + price_of(a, pf))


@njit(cache=True, nogil=True)
def add_fill(oid, ts, price, qty, maker, level, mid, ctx) -> None:
    """Book one fill: position, cash, fees, the order's totals, the fill row and its response."""
    oi = ctx[X_OI]
    of = ctx[X_OF]
    fi = ctx[X_FI]
    ff = ctx[X_FF]
    si = ctx[X_SI]
    sf = ctx[X_SF]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    resp = ctx[X_RESP]
    side = oi[oid, OI_SIDE]
    rate = pf[PF_MAKER] if maker else pf[PF_TAKER]
    notional = price * qty
    fee = rate * notional
    sf[SF_POS] += side * qty
    sf[SF_CASH] -= side * notional + fee
    sf[SF_FEES] += fee
    leaves = of[oid, OF_LEAVES] - qty
    of[oid, OF_LEAVES] = leaves if leaves > 1e-12 * of[oid, OF_QTY] else 0.0
    of[oid, OF_FILLED] += qty
    of[oid, OF_NOTIONAL] += notional
    of[oid, OF_FEE] += fee
    oi[oid, OI_NFILLS] += 1
    k = si[SI_N_FILLS]
    fi[k, FI_ORDER] = oid
    fi[k, FI_TS] = ts
    fi[k, FI_KNOWN] = ts + pi[PI_RESP_LAT]
    fi[k, FI_SIDE] = side
    fi[k, FI_MAKER] = 1 if maker else 0
    fi[k, FI_LEVEL] = level
    ff[k, FF_PRICE] = price
    ff[k, FF_QTY] = qty
    ff[k, FF_FEE] = fee
    ff[k, FF_MID] = mid
    if np.isfinite(mid):
        sf[SF_LAST_MID] = mid
    ff[k, FF_POS] = sf[SF_POS]
    ff[k, FF_CASH] = sf[SF_CASH]
    si[SI_N_FILLS] = k + 1
    push_response(resp, si, ts + pi[PI_RESP_LAT], oid, RESP_FILL, k)


@njit(cache=True, nogil=True)
def finish(oid, status, ts, ctx) -> None:
    """Make an order terminal at the engine, drop it from the resting list, tell the strategy."""
    oi = ctx[X_OI]
    si = ctx[X_SI]
    pi = ctx[X_PI]
    resp = ctx[X_RESP]
    rest = ctx[X_REST]
    oi[oid, OI_STATUS] = status
    oi[oid, OI_DONE] = ts
    n = si[SI_N_REST]
    for i in range(n):
        if rest[i] == oid:
            for j in range(i, n - 1):
                rest[j] = rest[j + 1]
            si[SI_N_REST] = n - 1
            break
    push_response(resp, si, ts + pi[PI_RESP_LAT], oid, RESP_DONE, -1)


@njit(cache=True, nogil=True)
def take_liquidity(oid, ts, limited, limit_pidx, book, ctx) -> None:
    """Walk the opposite side from its best price (up to ``limit_pidx`` when ``limited``)."""
    q = book[0]
    g = book[1]
    bs = book[2]
    oi = ctx[X_OI]
    of = ctx[X_OF]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    side = oi[oid, OI_SIDE]
    opp = ASK if side == BUY else BID
    mid = book_mid(bs, pf)
    max_levels = pi[PI_MAX_LEVELS] if pi[PI_MAX_LEVELS] > 0 else WALK_CAP
    p = best_index(bs, opp)
    level = 0
    while of[oid, OF_LEAVES] > 0.0 and p != NONE and level < max_levels:
        if limited and ((side == BUY and p > limit_pidx) or (side == SELL and p < limit_pidx)):
            break
        avail = level_at(q, bs, opp, p)
        take = min(avail, of[oid, OF_LEAVES])
        nxt = next_level(q, bs, opp, p)
        add_fill(oid, ts, price_of(p, pf), take, False, level, mid, ctx)
        if pi[PI_CONSUME] != 0:
            set_level(q, g, bs, opp, p, avail - take)
        p = nxt
        level += 1
    oi[oid, OI_LEVELS] = level


@njit(cache=True, nogil=True)
def rest_order(oid, ts, book, ctx) -> None:
    q = book[0]
    bs = book[2]
    oi = ctx[X_OI]
    of = ctx[X_OF]
    si = ctx[X_SI]
    pi = ctx[X_PI]
    resp = ctx[X_RESP]
    rest = ctx[X_REST]
    n = si[SI_N_REST]
    if n >= MAX_RESTING:
        finish(oid, ST_REJECTED, ts, ctx)
        return
    own = BID if oi[oid, OI_SIDE] == BUY else ASK
    front = level_at(q, bs, own, oi[oid, OI_PIDX])
    of[oid, OF_FRONT] = front
    of[oid, OF_FRONT0] = front
    of[oid, OF_CUM] = 0.0
    oi[oid, OI_STATUS] = ST_OPEN
    rest[n] = oid
    si[SI_N_REST] = n + 1
    push_response(resp, si, ts + pi[PI_RESP_LAT], oid, RESP_ACK, -1)


@njit(cache=True, nogil=True)
def on_new_order(oid, ts, book, ctx) -> None:
    """A new order reaches the matching engine at exchange time ``ts``."""
    bs = book[2]
    oi = ctx[X_OI]
    of = ctx[X_OF]
    pf = ctx[X_PF]
    oi[oid, OI_ARRIVED] = ts
    bb = best_index(bs, BID)
    ba = best_index(bs, ASK)
    of[oid, OF_ARR_BID] = price_of(bb, pf) if bb != NONE else np.nan
    of[oid, OF_ARR_ASK] = price_of(ba, pf) if ba != NONE else np.nan
    side = oi[oid, OI_SIDE]
    opp_best = ba if side == BUY else bb
    if oi[oid, OI_TYPE] == OT_MARKET:
        if opp_best == NONE:
            finish(oid, ST_REJECTED, ts, ctx)
            return
        take_liquidity(oid, ts, False, 0, book, ctx)
        finish(oid, ST_FILLED if of[oid, OF_LEAVES] == 0.0 else ST_EXPIRED, ts, ctx)
        return
    pidx = oi[oid, OI_PIDX]
    tif = oi[oid, OI_TIF]
    crosses = opp_best != NONE and (pidx >= opp_best if side == BUY else pidx <= opp_best)
    if crosses:
        if tif == TIF_POST_ONLY:
            finish(oid, ST_REJECTED, ts, ctx)
            return
        take_liquidity(oid, ts, True, pidx, book, ctx)
        if of[oid, OF_LEAVES] == 0.0:
            finish(oid, ST_FILLED, ts, ctx)
            return
    if tif == TIF_IOC:
        finish(oid, ST_EXPIRED, ts, ctx)
        return
    rest_order(oid, ts, book, ctx)


@njit(cache=True, nogil=True)
def on_cancel(oid, ts, ctx) -> None:
    """A cancel reaches the engine: a resting order is removed; anything else is too late."""
    oi = ctx[X_OI]
    si = ctx[X_SI]
    pi = ctx[X_PI]
    resp = ctx[X_RESP]
    if oi[oid, OI_STATUS] == ST_OPEN:
        finish(oid, ST_CANCELED, ts, ctx)
    else:
        push_response(resp, si, ts + pi[PI_RESP_LAT], oid, RESP_CANCEL_REJECT, -1)


@njit(cache=True, nogil=True)
def fill_rest_of(oid, ts, mid, ctx) -> None:
    """The market went through the order's price: all that is left fills there (maker)."""
    oi = ctx[X_OI]
    of = ctx[X_OF]
    pf = ctx[X_PF]
    left = of[oid, OF_LEAVES]
    if left > 0.0:
        add_fill(oid, ts, price_of(oi[oid, OI_PIDX], pf), left, True, -1, mid, ctx)
    finish(oid, ST_FILLED, ts, ctx)


@njit(cache=True, nogil=True)
def on_market_trade(kind, pidx, qty, ts, book, ctx) -> None:
    """A trade in the feed: queue advance and fills of resting orders on the side it hit."""
    bs = book[2]
    oi = ctx[X_OI]
    of = ctx[X_OF]
    si = ctx[X_SI]
    pf = ctx[X_PF]
    rest = ctx[X_REST]
    if kind == K_TRADE_SELL:
        hit = BUY
    elif kind == K_TRADE_BUY:
        hit = SELL
    else:
        return
    mid = book_mid(bs, pf)
    i = 0
    while i < si[SI_N_REST]:
        oid = rest[i]
        if oi[oid, OI_SIDE] != hit:
            i += 1
            continue
        op = oi[oid, OI_PIDX]
        if (hit == BUY and pidx < op) or (hit == SELL and pidx > op):
            fill_rest_of(oid, ts, mid, ctx)
            continue
        if pidx == op:
            front, cum = on_trade(of[oid, OF_FRONT], of[oid, OF_CUM], qty)
            x = executable(front)
            of[oid, OF_FRONT] = front
            of[oid, OF_CUM] = cum
            if x > 0.0:
                of[oid, OF_FRONT] = 0.0
                take = min(x, of[oid, OF_LEAVES])
                add_fill(oid, ts, price_of(op, pf), take, True, -1, mid, ctx)
                if of[oid, OF_LEAVES] == 0.0:
                    finish(oid, ST_FILLED, ts, ctx)
                    continue
        i += 1


@njit(cache=True, nogil=True)
def on_level_change(side, pidx, prev, new, ts, book, ctx) -> None:
    """Displayed size at a level changed: queue estimates there, then crossed resting orders."""
    bs = book[2]
    oi = ctx[X_OI]
    of = ctx[X_OF]
    si = ctx[X_SI]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    rest = ctx[X_REST]
    n = si[SI_N_REST]
    own = BUY if side == BID else SELL
    for i in range(n):
        oid = rest[i]
        if oi[oid, OI_SIDE] == own and oi[oid, OI_PIDX] == pidx:
            front, cum = on_depth(
                pi[PI_QUEUE], pf[PF_QPOW], of[oid, OF_FRONT], of[oid, OF_CUM], prev, new
            )
            of[oid, OF_FRONT] = front
            of[oid, OF_CUM] = cum
    bb = best_index(bs, BID)
    ba = best_index(bs, ASK)
    mid = book_mid(bs, pf)
    i = 0
    while i < si[SI_N_REST]:
        oid = rest[i]
        op = oi[oid, OI_PIDX]
        if oi[oid, OI_SIDE] == BUY and ba != NONE and op >= ba:
            fill_rest_of(oid, ts, mid, ctx)
            continue
        if oi[oid, OI_SIDE] == SELL and bb != NONE and op <= bb:
            fill_rest_of(oid, ts, mid, ctx)
            continue
        i += 1


@njit(cache=True, nogil=True)
def change_level(side, pidx, amount, ts, book, hooks, ctx) -> None:
    q = book[0]
    g = book[1]
    bs = book[2]
    prev = set_level(q, g, bs, side, pidx, amount)
    if prev < 0.0 or not hooks:
        return
    si = ctx[X_SI]
    if si[SI_N_REST] > 0:
        new = level_at(q, bs, side, pidx)
        if new != prev:
            on_level_change(side, pidx, prev, new, ts, book, ctx)


@njit(cache=True, nogil=True)
def apply_event(kind, px, qty, ts, book, hooks, fuse, ctx) -> None:
    """Apply one feed event to a book; with ``hooks`` (the engine's book) resting orders react.

    ``fuse``: quotes refresh the top of a depth book (levels better than the quote go); without
    it the quotes are the whole book (each side holds just the quoted level).
    """
    q = book[0]
    g = book[1]
    bs = book[2]
    pf = ctx[X_PF]
    if kind <= K_TRADE_UNKNOWN:
        if hooks:
            ctx[X_SF][SF_LAST_TRADE] = px
            if ctx[X_SI][SI_N_REST] > 0 and kind != K_TRADE_UNKNOWN:
                on_market_trade(kind, index_of(px, pf), qty, ts, book, ctx)
        return
    if kind in (K_BID, K_ASK):
        if np.isfinite(px):
            change_level(BID if kind == K_BID else ASK, index_of(px, pf), qty, ts, book, hooks, ctx)
        return
    if kind == K_SNAP_BEGIN:
        bs[BS_GEN] += 1
        return
    if kind == K_SNAP_END:
        cur = bs[BS_GEN]
        for side in range(2):
            p = best_index(bs, side)
            while p != NONE:
                nxt = next_level(q, bs, side, p)
                if level_generation(g, bs, side, p) != cur:
                    change_level(side, p, 0.0, ts, book, hooks, ctx)
                p = nxt
        return
    if kind in (K_TOP_BID, K_TOP_ASK):
        side = BID if kind == K_TOP_BID else ASK
        if not np.isfinite(px):
            if not fuse:
                p = best_index(bs, side)
                while p != NONE:
                    change_level(side, p, 0.0, ts, book, hooks, ctx)
                    p = best_index(bs, side)
            return
        pidx = index_of(px, pf)
        p = best_index(bs, side)
        if fuse:
            while p != NONE and ((side == BID and p > pidx) or (side == ASK and p < pidx)):
                change_level(side, p, 0.0, ts, book, hooks, ctx)
                p = best_index(bs, side)
        else:
            while p != NONE:
                nxt = next_level(q, bs, side, p)
                if p != pidx:
                    change_level(side, p, 0.0, ts, book, hooks, ctx)
                p = nxt
        change_level(side, pidx, qty, ts, book, hooks, ctx)
