"""The day's event loop in numba: exchange messages against one book, plus the ticker grid.

Each exchange message is an aggressor trade or a maker update; message times are drawn per
minute (Poisson counts shaped by the activity cycle, uniform times within the minute). At every
message, in this order:

1. the trade: side leaning with the minute's price move, size lognormal, at most the whole best
   level on the other side; trade price = that level's price, and the level's new size is the
   message's first L2 row. Or the maker update: add to, cut or remove a level near the touch
   (adds likelier where the level is small, so consumed sizes refill), or open one in a gap;
2. repricing towards the fair price F(t) (``path.FairPath``): makers cancel every level on the
   wrong side of the target touch (round(F - spread/2), + spread) and, with ``refill_prob``
   (always when a side is empty), quote the target touch again, filling levels ``level_gap``
   apart back to the old touch;
3. depth upkeep: each side keeps ``depth_min``..``depth_max`` levels (refill the far end, trim
   the farthest);
4. outputs: a quote row when the top of book changed; a book_snapshot_25 row when at least
   ``snapshot_interval_us`` of exchange time has passed since the last one and the top 25
   levels changed.

All rows of one message share its exchange timestamp and, per feed, its arrival. Each feed (book:
L2, quotes, snapshots; trades; ticker) delivers in order, like one websocket connection:
arrival = max(previous arrival + 1 µs, exchange time + lognormal latency), so every type is
sorted by local_timestamp as generated. Ticker rows sit on a fixed grid of exchange time and
reflect every message strictly before them.

The loop stops when an output buffer could not take another message and resumes from the state
on the next call; draws are keyed by message index (``rng``), so where a chunk ends changes
nothing in the rows.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from tardis_assets.lib.market.synthetic.book import (
    ASK,
    BID,
    L2_FIELDS,
    away,
    recenter,
    set_level,
    top_levels,
)
from tardis_assets.lib.market.synthetic.path import KNOTS_PER_MINUTE
from tardis_assets.lib.market.synthetic.rng import geometric, lognormal, uniform
from tardis_assets.lib.market.synthetic.ticker import (
    advance_ticker,
    trade_moves_open_interest,
    write_ticker,
)
from tardis_assets.lib.market.synthetic.world import US_PER_MINUTE

NEVER = np.iinfo(np.int64).max

# Random streams, one key each (rng.stream_keys): a new draw in one never moves another.
S_TRADE_TIME = 0
S_MAKER_TIME = 1
S_BOOK_LATENCY = 2
S_TRADE_LATENCY = 3
S_TICKER_LATENCY = 4
S_SIDE = 5
S_TRADE_SIZE = 6
S_MAKER = 7
S_MAKER_SIZE = 8
S_LEVEL_SIZE = 9
S_LEVEL_GAP = 10
S_REFILL = 11
S_OPEN_INTEREST = 12
S_PREMIUM = 13
N_STREAMS = 14

# Outputs, in the order of the want / caps / filled arrays.
OUT_L2, OUT_QUOTES, OUT_TRADES, OUT_SNAPSHOTS, OUT_TICKER = 0, 1, 2, 3, 4
N_OUTPUTS = 5

# Minute table columns.
MI_TRADES, MI_MAKERS, MI_FIRST = 0, 1, 2
MF_BUY_PROB, MF_SPREAD, MF_PREMIUM = 0, 1, 2

# quotes buffer rows (int64)
Q_T, Q_LOCAL, Q_ASK_LOTS, Q_ASK_TICK, Q_BID_TICK, Q_BID_LOTS = 0, 1, 2, 3, 4, 5
Q_FIELDS = 6
# trades buffer rows (int64)
TR_T, TR_LOCAL, TR_ID, TR_BUY, TR_TICK, TR_LOTS = 0, 1, 2, 3, 4, 5
TR_FIELDS = 6
# book_snapshot buffer rows (int64): time, arrival, then per level i at 2 + 4 i: ask tick,
# ask lots, bid tick, bid lots (the tardis column order); tick -1 = no level
SN_T, SN_LOCAL, SN_LEVELS = 0, 1, 2
SNAPSHOT_DEPTH = 25  # book_snapshot_25


def max_l2_rows_per_message(depth_min: int, depth_max: int, depth_init: int) -> int:
    """Upper bound of L2 rows one message can write (all cancelled, refilled, trimmed)."""
    return 4 + 2 * (3 * depth_max + depth_min) + 2 * depth_init


@njit(cache=True, nogil=True)
def _count_below(fair, start: np.int64, n: np.int64, x: float, inclusive: bool) -> np.int64:
    """How many of the sorted fair[start:start + n] are < x (<= x if inclusive)."""
    lo, hi = np.int64(0), n
    while lo < hi:
        mid = (lo + hi) // 2
        v = fair[start + mid]
        if v < x or (inclusive and v == x):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def fair_ticks(p, fair, t: np.int64) -> float:  # pragma: no cover - compiled
    """The fair price at exchange time ``t``, in ticks (``fair`` packs a path.FairPath)."""
    off = t - p.day_start
    m = min(max(off // US_PER_MINUTE, 0), p.n_minutes - 1)
    u = min(max((off - m * US_PER_MINUTE) / US_PER_MINUTE, 0.0), 1.0)
    x = u * KNOTS_PER_MINUTE
    j = min(np.int64(x), KNOTS_PER_MINUTE - 1)
    i = m * KNOTS_PER_MINUTE + j
    log_price = fair[i] + (fair[i + 1] - fair[i]) * (x - j) + fair[p.fair_jump_level + m]
    if u >= fair[p.fair_jump_at + m]:
        log_price += fair[p.fair_jump + m]
    n = p.n_fast
    if n > 0:
        lo = _count_below(fair, p.fair_fast_t, n, t - p.fast_settle_us, False)
        hi = _count_below(fair, p.fair_fast_t, n, t, True)
        log_price += fair[p.fair_fast_cum + lo]
        for e in range(lo, hi):
            age = t - fair[p.fair_fast_t + e]
            log_price += fair[p.fair_fast_push + e] * (1.0 - math.exp(-age / p.fast_tau_us))
    return math.exp(log_price) / p.tick


@njit(cache=True, nogil=True)
def _latency(p, key: np.uint64, index: np.int64) -> np.int64:  # pragma: no cover - compiled
    lat = lognormal(key, index, 0, p.latency_median_us, p.latency_sigma)
    return np.int64(min(max(lat, p.latency_min_us), p.latency_max_us))


@njit(cache=True, nogil=True)
def _new_level_lots(st, p, depth: float) -> np.int64:  # pragma: no cover - compiled
    """Size of a new level ``depth`` levels from the touch (deeper levels are larger)."""
    median = p.level_median_lots * (1.0 + p.depth_growth * depth)
    lots = lognormal(st.keys[S_LEVEL_SIZE], st.msg, st.slot, median, p.level_sigma)
    return max(np.int64(lots + 0.5), np.int64(1))


@njit(cache=True, nogil=True)
def _gap(st, p) -> np.int64:  # pragma: no cover - compiled
    """Ticks to the next level out (geometric, mean ``level_gap``); advances the draw slot."""
    gap = geometric(st.keys[S_LEVEL_GAP], st.msg, st.slot, p.level_gap)
    st.slot += 1
    return gap


@njit(cache=True, nogil=True)
def _fill(st, p, side, start, stop, max_levels) -> None:  # pragma: no cover - compiled
    """New levels from ``start`` away from the touch, ``level_gap`` apart, short of ``stop``."""
    out = away(side)
    rel = start
    count = 0
    while count < max_levels and (stop - rel) * out > 0:
        set_level(st, side, rel, _new_level_lots(st, p, count))
        rel += out * _gap(st, p)
        count += 1


@njit(cache=True, nogil=True)
def _reprice(st, p, target_bid, target_ask) -> None:  # pragma: no cover - compiled
    """Cancel levels on the wrong side of the target touch; maybe quote the target again."""
    while st.count[ASK] > 0 and st.best[ASK] < target_ask:
        set_level(st, ASK, st.best[ASK], 0)
    while st.count[BID] > 0 and st.best[BID] > target_bid:
        set_level(st, BID, st.best[BID], 0)
    width = st.levels.shape[1]
    for side in range(2):
        target = target_bid if side == BID else target_ask
        behind = st.count[side] > 0 and st.best[side] != target
        refill = uniform(st.keys[S_REFILL], st.msg, side) < p.refill_prob
        if st.count[side] == 0 or (behind and refill):
            if st.count[side] > 0:
                stop = st.best[side]
            else:
                stop = np.int64(-1) if side == BID else np.int64(width)
            _fill(st, p, side, target, stop, p.depth_max)


@njit(cache=True, nogil=True)
def _upkeep(st, p) -> None:  # pragma: no cover - compiled
    """Keep depth_min..depth_max levels per side: refill the far end, trim the farthest."""
    for side in range(2):
        while st.count[side] < p.depth_min:
            lots = _new_level_lots(st, p, st.count[side])
            set_level(st, side, st.far[side] + away(side) * _gap(st, p), lots)
        while st.count[side] > p.depth_max:
            set_level(st, side, st.far[side], 0)


@njit(cache=True, nogil=True)
def _maker(st, p) -> None:  # pragma: no cover - compiled
    """Add to, cut or remove a level near the touch, or open a new one in a gap."""
    key = st.keys[S_MAKER]
    side = BID if uniform(key, st.msg, 0) < 0.5 else ASK
    out = away(side)
    distance = np.int64(-math.log(uniform(key, st.msg, 1)) * p.maker_depth_ticks)
    best = st.best[side]
    rel = best + out * distance
    if (rel - st.far[side]) * out > 0:
        rel = st.far[side]
    lots = st.levels[side, rel]
    depth = abs(rel - best) / p.level_gap
    target = p.level_median_lots * (1.0 + p.depth_growth * depth)
    if lots > 0:
        if uniform(key, st.msg, 2) < 0.5 + 0.3 * math.tanh(1.0 - lots / target):
            added = lognormal(st.keys[S_MAKER_SIZE], st.msg, 0, 0.5 * target, p.level_sigma)
            lots += max(np.int64(added + 0.5), np.int64(1))
        elif rel != best and uniform(key, st.msg, 3) < p.maker_remove_prob:
            lots = 0
        else:
            cut = max(np.int64(lots * (0.1 + 0.6 * uniform(key, st.msg, 4))), np.int64(1))
            lots = max(lots - cut, np.int64(1))
    else:
        size = lognormal(st.keys[S_MAKER_SIZE], st.msg, 1, target, p.level_sigma)
        lots = max(np.int64(size + 0.5), np.int64(1))
    set_level(st, side, rel, lots)


@njit(cache=True, nogil=True)
def _trade(st, p, buy_prob: float) -> None:  # pragma: no cover - compiled
    """One aggressor trade taking (part of) the best level on the other side."""
    buy = uniform(st.keys[S_SIDE], st.msg, 0) < buy_prob
    size = lognormal(st.keys[S_TRADE_SIZE], st.msg, 0, p.trade_median_lots, p.trade_sigma)
    side = ASK if buy else BID  # the side whose level is taken
    rel = st.best[side]
    avail = st.levels[side, rel]
    take = min(max(np.int64(size + 0.5), np.int64(1)), avail)
    seq = st.trade_seq
    st.trade_local = max(st.trade_local + 1, st.t + _latency(p, st.keys[S_TRADE_LATENCY], seq))
    row = st.trade_pending
    row[TR_T] = st.t
    row[TR_LOCAL] = st.trade_local
    row[TR_ID] = p.first_trade_id + seq
    row[TR_BUY] = 1 if buy else 0
    row[TR_TICK] = st.base + rel
    row[TR_LOTS] = take
    st.trade_pending_n = 1
    st.last_trade_tick = st.base + rel
    st.trade_seq += 1
    trade_moves_open_interest(st, p, st.keys[S_OPEN_INTEREST], seq, take)
    set_level(st, side, rel, avail - take)


@njit(cache=True, nogil=True)
def _load_minute(p, keys, minute_i, m, scratch_t, scratch_trade) -> None:  # pragma: no cover
    """Exchange times of minute ``m``'s messages (trades and maker updates merged, sorted)."""
    n_tr = minute_i[m, MI_TRADES]
    n_mk = minute_i[m, MI_MAKERS]
    first = minute_i[m, MI_FIRST]
    span = p.last_minute_span_us if m == minute_i.shape[0] - 1 else US_PER_MINUTE - 1
    start = p.day_start + m * US_PER_MINUTE
    a = np.empty(n_tr)
    for j in range(n_tr):
        a[j] = uniform(keys[S_TRADE_TIME], first + j, 0)
    b = np.empty(n_mk)
    for j in range(n_mk):
        b[j] = uniform(keys[S_MAKER_TIME], first + j, 0)
    a.sort()
    b.sort()
    i = 0
    k = 0
    for out in range(n_tr + n_mk):
        if k >= n_mk or (i < n_tr and a[i] <= b[k]):
            scratch_t[out] = start + np.int64(a[i] * span)
            scratch_trade[out] = True
            i += 1
        else:
            scratch_t[out] = start + np.int64(b[k] * span)
            scratch_trade[out] = False
            k += 1


@njit(cache=True, nogil=True)
def _quote(st) -> None:  # pragma: no cover - compiled
    """Queue a quote row when the top of book (price or size, either side) changed."""
    bid, ask = st.best[BID], st.best[ASK]  # both sides hold depth_min >= 25 levels here
    bid_tick, ask_tick = bid + st.base, ask + st.base
    bid_lots, ask_lots = st.levels[BID, bid], st.levels[ASK, ask]
    last = st.last_quote
    if last[0] == bid_tick and last[1] == bid_lots and last[2] == ask_tick and last[3] == ask_lots:
        return
    last[0], last[1], last[2], last[3] = bid_tick, bid_lots, ask_tick, ask_lots
    row = st.quote_pending
    row[Q_T] = st.t
    row[Q_LOCAL] = st.local
    row[Q_ASK_LOTS] = ask_lots
    row[Q_ASK_TICK] = ask_tick
    row[Q_BID_TICK] = bid_tick
    row[Q_BID_LOTS] = bid_lots
    st.quote_pending_n = 1


@njit(cache=True, nogil=True)
def _snapshot(st, p) -> None:  # pragma: no cover - compiled
    """Queue a book_snapshot row if the interval has passed and the top levels changed."""
    if st.snap_t >= 0 and st.t - st.snap_t < p.snapshot_interval_us:
        return
    now, prev = st.snap_now, st.snap_prev
    depth = now.shape[2]
    top_levels(st, depth, now)
    if st.snap_t >= 0:
        same = True
        for k in range(2):
            for side in range(2):
                for i in range(depth):
                    same = same and now[k, side, i] == prev[k, side, i]
        if same:
            return
    prev[:, :, :] = now
    st.snap_t = st.t
    row = st.snap_pending
    row[SN_T] = st.t
    row[SN_LOCAL] = st.local
    for i in range(depth):
        col = SN_LEVELS + 4 * i  # asks[i] then bids[i], price then amount: the tardis order
        row[col] = now[0, ASK, i]
        row[col + 1] = now[1, ASK, i]
        row[col + 2] = now[0, BID, i]
        row[col + 3] = now[1, BID, i]
    st.snap_pending_n = 1


@njit(cache=True, nogil=True)
def _message(st, p, f: float, spread: np.int64, buy_prob: float, is_trade: bool) -> None:
    """Everything one exchange message does to the book, in order."""
    target_bid = np.int64(math.floor(f - 0.5 * spread + 0.5)) - st.base
    width = st.levels.shape[1]
    if st.msg == 0:  # the opening book, sent as a snapshot
        st.base += target_bid - width // 2
        target_bid = width // 2
        st.snapshot = True
        _fill(st, p, ASK, target_bid + spread, width, p.depth_init)
        _fill(st, p, BID, target_bid, -1, p.depth_init)
        st.snapshot = False
    else:
        if not p.margin <= target_bid < width - p.margin:
            target_bid -= recenter(st, target_bid, p.margin)
        if is_trade:
            _trade(st, p, buy_prob)
        else:
            _maker(st, p)
        _reprice(st, p, target_bid, target_bid + spread)
    _upkeep(st, p)
    _quote(st)
    if st.emit_snapshots:
        _snapshot(st, p)


@njit(cache=True, nogil=True)
def simulate(
    params,
    state,
    minute_i,
    minute_f,
    fair,
    scratch_t,
    scratch_trade,
    want,
    caps,
    filled,
    l2,
    quotes,
    trades,
    snaps,
    ticker,
) -> bool:  # pragma: no cover - compiled
    """Advance the day until it ends (True) or a buffer is full (False); rows go to the buffers.

    ``filled`` gets the rows written per output in this call (buffers are the caller's, fresh
    per call); the state record carries the book and everything else to the next call.
    """
    p = params[0]
    st = state[0]
    st.emit_l2 = want[OUT_L2]
    st.emit_snapshots = want[OUT_SNAPSHOTS]
    rows = np.zeros(N_OUTPUTS, np.int64)
    n_minutes = minute_i.shape[0]
    done = False
    while True:
        # exchange time of the next message, strictly after the previous one's
        is_trade = False
        if st.msg >= p.total_msgs:
            msg_t = NEVER
        elif st.msg == 0:
            msg_t = p.day_start  # the opening book
        else:
            while (
                st.msg
                >= minute_i[st.minute, MI_FIRST]
                + minute_i[st.minute, MI_TRADES]
                + (minute_i[st.minute, MI_MAKERS])
            ):
                st.minute += 1
            if st.scratch_minute != st.minute:
                _load_minute(p, st.keys, minute_i, st.minute, scratch_t, scratch_trade)
                st.scratch_minute = st.minute
            k = st.msg - minute_i[st.minute, MI_FIRST]
            msg_t = max(scratch_t[k], st.prev_t + 1)
            is_trade = scratch_trade[k]
        grid_t = NEVER
        if st.ticker_k < p.ticker_count:
            grid_t = p.day_start + (st.ticker_k + 1) * p.ticker_interval_i
        if msg_t == NEVER and grid_t == NEVER:
            done = True
            break
        if grid_t <= msg_t:  # a ticker row reflects the messages strictly before it
            if want[OUT_TICKER] and rows[OUT_TICKER] >= caps[OUT_TICKER]:
                break
            lat = _latency(p, st.keys[S_TICKER_LATENCY], st.ticker_k)
            st.ticker_local = max(st.ticker_local + 1, grid_t + lat)
            gm = min((grid_t - p.day_start) // US_PER_MINUTE, n_minutes - 1)
            advance_ticker(st, p, minute_f[gm, MF_PREMIUM], st.keys[S_PREMIUM], st.ticker_k, grid_t)
            if want[OUT_TICKER]:
                write_ticker(st, p, grid_t, ticker, rows[OUT_TICKER])
                rows[OUT_TICKER] += 1
            st.ticker_k += 1
            continue
        if (
            (want[OUT_L2] and rows[OUT_L2] + p.l2_rows_per_message > caps[OUT_L2])
            or (want[OUT_QUOTES] and rows[OUT_QUOTES] >= caps[OUT_QUOTES])
            or (want[OUT_TRADES] and rows[OUT_TRADES] >= caps[OUT_TRADES])
            or (want[OUT_SNAPSHOTS] and rows[OUT_SNAPSHOTS] >= caps[OUT_SNAPSHOTS])
        ):
            break
        st.t = msg_t
        st.prev_t = msg_t
        st.local = max(st.local + 1, msg_t + _latency(p, st.keys[S_BOOK_LATENCY], st.msg))
        st.slot = 0
        st.l2_pending_n = 0
        st.quote_pending_n = 0
        st.trade_pending_n = 0
        st.snap_pending_n = 0
        m = min(max((msg_t - p.day_start) // US_PER_MINUTE, 0), n_minutes - 1)
        f = fair_ticks(p, fair, msg_t)
        spread = np.int64(minute_f[m, MF_SPREAD])
        _message(st, p, f, spread, minute_f[m, MF_BUY_PROB], is_trade)
        # the message's rows, from the state's staging fields into the output buffers
        if want[OUT_L2]:
            row = rows[OUT_L2]
            for i in range(st.l2_pending_n):
                for c in range(L2_FIELDS):
                    l2[c, row + i] = st.l2_pending[c, i]
            rows[OUT_L2] = row + st.l2_pending_n
        if want[OUT_QUOTES] and st.quote_pending_n:
            quotes[:, rows[OUT_QUOTES]] = st.quote_pending
            rows[OUT_QUOTES] += 1
        if want[OUT_TRADES] and st.trade_pending_n:
            trades[:, rows[OUT_TRADES]] = st.trade_pending
            rows[OUT_TRADES] += 1
        if want[OUT_SNAPSHOTS] and st.snap_pending_n:
            snaps[:, rows[OUT_SNAPSHOTS]] = st.snap_pending
            rows[OUT_SNAPSHOTS] += 1
        st.msg += 1
    filled[:] = rows
    return done
